"""Live pyqtgraph plots of a running search."""
