"""The Network page: the search space drawn as a graph, in the visual :class:`NetworkEditor`.

The page keeps one contract with the window: :meth:`NetworkPage.spec` returns the JSON spec dict
that ``SearchConfig.space`` accepts (the editor's graph, with the Search page's epochs and
patience filled in).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QVBoxLayout, QWidget

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.templates import TEMPLATES, default_template_for
from automl_studio.gui.editor.network_editor import NetworkEditor
from automl_studio.gui.widgets import Banner, name_widget, page_header

SEARCH_PAGE_KEYS = ("epochs", "patience")  # set on the Search page, passed in by the window


class NetworkPage(QWidget):
    """The search space, edited as a graph of layers whose params may vary.

    Signals:
        specChanged(dict): the spec after an edit (as :meth:`NetworkEditor.spec` returns it).
    """

    specChanged = Signal(dict)

    def __init__(self, undo_stack: QUndoStack | None = None, parent: QWidget | None = None) -> None:
        """Args:
            undo_stack: the window's stack, so graph edits share the project's undo history.
        """
        super().__init__(parent)
        name_widget(self, "networkPage", "Network page")
        # A saved space named by template ("auto", "image"...) is laid out for the data's inputs,
        # which are only known once the next signature arrives.
        self._pending_template: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 14, 12, 10)  # the canvas wants every pixel of width
        layout.setSpacing(8)
        layout.addWidget(page_header(
            "Network", "Draw the search space: layers, how they connect, and which params the "
            "search may vary. Template ▾ starts from a ready-made network."))
        self.banner = Banner("networkBanner")
        layout.addWidget(self.banner)
        self.search_banner = Banner("searchRunningBanner")
        layout.addWidget(self.search_banner)
        self.editor = NetworkEditor(undo_stack=undo_stack)
        layout.addWidget(self.editor, 1)
        self.editor.specChanged.connect(self.specChanged)
        self.editor.load_template("tabular", undoable=False)  # until a dataset says otherwise

    def set_search_running(self, running: bool) -> None:
        """While a search runs, says that edits here shape the next search, not the running one."""
        if running:
            self.search_banner.show_message(
                "A search is running. Edits apply to the next search; the running one keeps the "
                "network it started with.", "info")
        else:
            self.search_banner.clear()

    def spec(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The search-space spec for ``SearchConfig.space``.

        Args:
            overrides: the Search page's ``epochs`` and ``patience``; ``None`` values leave the
                spec's own.
        """
        spec = self.editor.spec()
        chosen = {k: v for k, v in (overrides or {}).items() if k in SEARCH_PAGE_KEYS and v is not None}
        spec.setdefault("training", {}).update(chosen)
        template = spec.get("template")
        if isinstance(template, dict):  # an unedited template from an older project: re-laid
            template["options"] = {**template.get("options", {}), **chosen}
        return spec

    def apply_space(self, space: Any) -> None:
        """Shows a saved ``config.space``: a spec dict or file, or a template name (or ``"auto"``)."""
        self.banner.clear()
        if isinstance(space, dict):
            self._pending_template = None
            self.editor.set_spec(space)
        elif isinstance(space, str) and (space == "auto" or space in TEMPLATES):
            self._pending_template = space
            self.editor.load_template(self._template_for(space), undoable=False)
        else:  # a spec file: shown (and from now on saved) as the graph it holds
            try:
                data = json.loads(Path(str(space)).read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as exc:
                self.banner.show_message(f"The project's search space {space} cannot be read "
                                         f"({exc}); the graph below is the default for the data.",
                                         "warning")
                self._pending_template = "auto"
            else:
                self._pending_template = None
                self.editor.set_spec(data)

    def set_signature(self, signature: DataSignature | None, *, reset: bool = False) -> None:
        """The dataset's shapes, for the editor's checks.

        Args:
            reset: also replace the graph by the data's default template (newly opened data, no
                project); not an undo step.
        """
        self.editor.set_signature(signature)
        if signature is None:
            return
        if reset or self._pending_template is not None:
            self.editor.load_template(self._template_for(self._pending_template or "auto"),
                                      undoable=False)
            self._pending_template = None

    def _template_for(self, name: str) -> str:
        if name != "auto":
            return name
        signature = self.editor.signature()
        return default_template_for(signature.inputs) if signature is not None else "tabular"


__all__ = ["NetworkPage"]
