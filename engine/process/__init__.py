"""The engine in a child process: the runner the window and workers use, and the child's entry point."""
