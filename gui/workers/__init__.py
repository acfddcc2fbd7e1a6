"""Threads and tasks that drive the engine's processes without freezing the window."""
