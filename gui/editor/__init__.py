"""The node canvas that draws a search space, its palette, inspector and undo commands."""
