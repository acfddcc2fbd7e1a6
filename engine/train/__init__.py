"""Step 3: one trial's Keras model — the hypermodel, its callbacks, metrics and cross-validation."""
