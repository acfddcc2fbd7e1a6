"""Where the app's bundled files are (icons, stylesheet, demo data), installed or not."""

from __future__ import annotations

from importlib import resources


def resource_path(name: str) -> str:
    """The path of a file in ``automl_studio.resources``."""
    return str(resources.files("automl_studio.resources").joinpath(name))


def demo_dataset() -> str:
    """The bundled demo data (iris), opened when no path is given."""
    return resource_path("iris.csv")
