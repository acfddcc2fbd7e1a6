"""Qt item models (tables) over the window's state."""
