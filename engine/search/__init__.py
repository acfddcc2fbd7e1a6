"""Step 4: the KerasTuner search — the session, its budget, the project folder, distributed tuning."""
