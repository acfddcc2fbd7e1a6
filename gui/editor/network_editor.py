"""The visual network editor: draw the search space as a graph of layers that may vary.

:class:`NetworkEditor` edits exactly the engine's spec JSON (:mod:`automl_studio.engine.space.spec`),
with node positions kept in each node's ``position``; there is no second format. Every edit is an
undo command (:mod:`.editor_commands`) on :attr:`NetworkEditor.undo_stack`; after each one the
editor re-checks the graph with :func:`automl_studio.engine.space.shapes.analyse` (plain Python, a few
milliseconds), so every card shows its output shape and parameter count, every edge the shape it
carries, and every fault a red badge, the status line and ``validityChanged``.

Layout: the palette (left), the canvas (centre), the inspector and the KerasTuner code (right).
The editor wires these together; what is not about widgets lives beside it on plain data: the
auto-layout in :mod:`.layout`, the rules for edits and the graph's check in :mod:`.graph_rules`,
the cards' text in :mod:`.card_text`, the undo commands in :mod:`.editor_commands`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QHideEvent, QKeySequence, QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space import codegen
from automl_studio.engine.space.shapes import (
    Analysis,
    evaluate,
    format_shape,
)
from automl_studio.engine.space.spec import (
    LAYER_TYPES,
    IntRange,
    SearchSpace,
    count_configurations,
    fixed_chooser,
    instantiate,
)
from automl_studio.engine.space.templates import BACKBONE_OPTIONS, TEMPLATES, template_spec
from automl_studio.gui.editor.card_text import card_height, card_lines, describe_value, params_text
from automl_studio.gui.editor.code_view import CodeView
from automl_studio.gui.editor.editor_commands import (
    AddNodesCommand,
    ChangeParamCommand,
    ChangeTrainingCommand,
    ConnectCommand,
    DisconnectCommand,
    GroupRepeatCommand,
    MoveNodesCommand,
    RemoveNodesCommand,
    RenameNodeCommand,
    ReplaceSpecCommand,
    SetOptionalCommand,
    SetRepeatRangeCommand,
    UngroupRepeatCommand,
)
from automl_studio.gui.editor.graph_rules import (
    can_connect,
    check_spec,
    empty_spec,
    name_problem,
    node_base_id,
    repeatable_chain,
    taken_ids,
    unique_id,
)
from automl_studio.gui.editor.layout import COLUMN_GAP, layout_positions
from automl_studio.gui.editor.node_canvas import (
    HEADER,
    NODE_WIDTH,
    NodeCanvas,
    NodeView,
    compact_shape,
)
from automl_studio.gui.editor.node_inspector import (
    NodeInspector,
    format_configurations,
)
from automl_studio.gui.editor.node_palette import NodePalette

NODES_MIME = "application/x-automl-studio-nodes"
TEMPLATE_TITLES = {
    "tabular": "Tabular MLP",
    "image": "Image CNN",
    "residual": "Residual image block",
    "sequence": "Sequence LSTM",
    "text": "Text (embeddings, Bi-LSTM/GRU)",
}


def data_signature(dataset: Any, profile: Any, *, progress: Any = None, cancel: Any = None) -> dict[str, Any]:
    """The data signature of a loaded, profiled dataset, as a dict (for a TaskRunner thread).

    The window runs this off the GUI thread when the profile changes and hands
    ``DataSignature.from_dict(result)`` to :meth:`NetworkEditor.set_signature`.
    """
    from automl_studio.engine.data.features import prepare_data

    return prepare_data(dataset, profile).signature.to_dict()


class NetworkEditor(QWidget):
    """Draws and edits a search space (objectName ``networkEditor``).

    Signals:
        specChanged(dict): the spec after an edit (the engine's JSON, positions included).
        validityChanged(bool, str): whether the space can be searched, and if not, why.
    """

    specChanged = Signal(dict)
    validityChanged = Signal(bool, str)

    def __init__(self, parent: QWidget | None = None, *, undo_stack: QUndoStack | None = None) -> None:
        """Args:
            undo_stack: a stack to push edits onto (the window's, so the project has one undo
                history and its Edit menu's Ctrl+Z undoes graph edits too). Without one the editor
                keeps its own and binds Ctrl+Z / Ctrl+Y itself.
        """
        super().__init__(parent)
        self.setObjectName("networkEditor")
        self.setAccessibleName("Network editor")
        self._owns_stack = undo_stack is None
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self._spec: dict[str, Any] = empty_spec()
        self._signature: DataSignature | None = None
        self._analysis: Analysis | None = None
        self._node_errors: dict[str, list[str]] = {}
        self._validity: tuple[bool, str] | None = None
        self._trial: dict[str, Any] | None = None
        self._paste_offset = 0
        self._code_dirty = True

        self.palette_panel = NodePalette()
        self.canvas = NodeCanvas()
        self.inspector = NodeInspector()
        self.code_view = CodeView()
        self.side = QTabWidget()
        self.side.setObjectName("editorSideTabs")
        self.side.addTab(self.inspector, "Inspector")
        self.side.addTab(self.code_view, "KerasTuner code")
        self.side.currentChanged.connect(self._on_side_tab)

        toolbar = QHBoxLayout()
        toolbar.setContentsMargins(0, 0, 0, 0)
        toolbar.setSpacing(6)
        self.template_button = self._tool("templateMenu", "Template", "Open a template as a graph")
        self.template_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.template_button)
        for name in TEMPLATES:
            action = menu.addAction(TEMPLATE_TITLES.get(name, name))
            action.setObjectName(f"template_{name}")
            action.triggered.connect(lambda _checked=False, n=name: self.load_template(n))
            if name == "image":
                pretrained = menu.addAction("Image, pretrained backbone")
                pretrained.setObjectName("template_image_backbone")
                pretrained.triggered.connect(lambda _checked=False: self.load_template("image", BACKBONE_OPTIONS))
        self.template_button.setMenu(menu)
        self.undo_button = self._tool("undoEdit", "Undo", "Undo (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.redo_button = self._tool("redoEdit", "Redo", "Redo (Ctrl+Shift+Z or Ctrl+Y)")
        self.redo_button.clicked.connect(self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(self.undo_stack.canUndo())
        self.redo_button.setEnabled(self.undo_stack.canRedo())
        self.layout_button = self._tool("autoLayout", "Auto-layout", "Lay the graph out by depth")
        self.layout_button.clicked.connect(self.auto_layout)
        self.fit_button = self._tool("fitView", "Fit", "Show the whole graph (F)")
        self.fit_button.clicked.connect(self.canvas.fit_all)
        for widget in (self.template_button, self.undo_button, self.redo_button, self.layout_button,
                       self.fit_button):
            toolbar.addWidget(widget)
        toolbar.addStretch(1)
        self.hint = QLabel("Drag layers in · drag port to port to connect · Del deletes · F fits")
        self.hint.setProperty("role", "hint")
        toolbar.addWidget(self.hint)

        self.trial_bar = QFrame()
        self.trial_bar.setObjectName("trialBar")
        trial_layout = QHBoxLayout(self.trial_bar)
        trial_layout.setContentsMargins(8, 4, 8, 4)
        self.trial_label = QLabel()
        self.trial_label.setObjectName("trialValues")
        self.trial_label.setWordWrap(True)
        self.clear_trial_button = QPushButton("Back to the search space")
        self.clear_trial_button.setObjectName("clearTrial")
        self.clear_trial_button.setAccessibleName("Stop showing the trial's values")
        self.clear_trial_button.clicked.connect(self.clear_trial)
        trial_layout.addWidget(self.trial_label, 1)
        trial_layout.addWidget(self.clear_trial_button)
        self.trial_bar.hide()

        self.status = QLabel()
        self.status.setObjectName("editorStatus")
        self.status.setAccessibleName("Network status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(4)
        centre_layout.addWidget(self.trial_bar)
        centre_layout.addWidget(self.canvas, 1)
        centre_layout.addWidget(self.status)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.palette_panel)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([230, 800, 380])
        # In a small window (1024 wide) each pane keeps a usable width rather than one pane
        # taking all the loss: the palette's labels and the inspector's fields stay whole.
        self.palette_panel.setMinimumWidth(180)
        centre.setMinimumWidth(240)
        self.side.setMinimumWidth(290)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(toolbar)
        layout.addWidget(self.splitter, 1)

        if self._owns_stack:  # a shared stack's owner binds the keys (two bindings would clash)
            self._add_action("undoAction", QKeySequence.StandardKey.Undo, self.undo_stack.undo)
            self._add_action("redoAction", [QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")],
                             self.undo_stack.redo)
        K = QKeySequence.StandardKey
        self._edit_actions = [
            self._add_action("cutAction", K.Cut, self.cut_selection, "Cu&t"),
            self._add_action("copyAction", K.Copy, self.copy_selection, "&Copy"),
            self._add_action("pasteAction", K.Paste, self.paste, "&Paste"),
            # Delete only while the canvas has the focus: in a text field the key edits the text.
            self._add_action("deleteAction", K.Delete, self.delete_selection, "&Delete",
                             widget=self.canvas),
            self._add_action("selectAllAction", K.SelectAll, self.select_all, "Select &all"),
        ]
        for action in self._edit_actions:
            action.setEnabled(False)  # until the editor is shown (showEvent)

        self.palette_panel.layerActivated.connect(self._on_layer_activated)
        self.canvas.layerDropped.connect(self._on_layer_dropped)
        self.canvas.connectRequested.connect(self.connect_nodes)
        self.canvas.nodesMoved.connect(self._on_nodes_moved)
        self.canvas.deleteRequested.connect(self.delete_selection)
        self.canvas.selectionChanged.connect(self._on_selection)
        self.canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.canvas.customContextMenuRequested.connect(self._on_canvas_menu)
        self.inspector.paramChanged.connect(self.set_param)
        self.inspector.optionalChanged.connect(self.set_optional)
        self.inspector.renameRequested.connect(self.rename_node)
        self.inspector.trainingChanged.connect(self.set_training)
        self.inspector.groupRequested.connect(self.group_repeat)
        self.inspector.ungroupRequested.connect(self.ungroup_repeat)
        self.inspector.repeatRangeChanged.connect(self.set_repeat_range)
        self._refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        for action in self._edit_actions:
            action.setEnabled(True)

    def hideEvent(self, event: QHideEvent) -> None:
        # In the window's Edit menu these act on this canvas: not while another page is shown.
        super().hideEvent(event)
        for action in self._edit_actions:
            action.setEnabled(False)

    def _tool(self, name: str, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setText(text)
        button.setAccessibleName(text)
        button.setToolTip(tip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def _add_action(self, name: str, keys: Any, slot: Any, text: str = "",
                    widget: QWidget | None = None) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if isinstance(keys, list):
            action.setShortcuts(keys)
        else:
            action.setShortcut(keys)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        (widget or self).addAction(action)
        return action

    # ------------------------------------------------------------------ public API
    def set_signature(self, signature: DataSignature | None) -> None:
        """The dataset the network is for: Inputs, shapes and the head follow from it."""
        self._signature = signature
        self.palette_panel.set_signature(signature)
        self._refresh()

    def signature(self) -> DataSignature | None:
        return self._signature

    def set_spec(self, spec: Mapping[str, Any]) -> None:
        """Shows a spec (a project's, say); clears the undo history if the editor owns it."""
        data = copy.deepcopy(dict(spec))
        for key, value in empty_spec().items():
            data.setdefault(key, value)
        self._fill_positions(data)
        if self._owns_stack:
            self.undo_stack.clear()
        self._spec = data
        self._trial = None
        self._refresh()
        self.canvas.fit_all()
        self.specChanged.emit(self.spec())

    def spec(self) -> dict[str, Any]:
        """The spec as the engine reads it (``SearchConfig.space``)."""
        return copy.deepcopy(self._spec)

    def load_template(self, name: str, options: Mapping[str, Any] | None = None, *, undoable: bool = True) -> None:
        """Opens a template (with ``options``, see
        :func:`~automl_studio.engine.space.templates.template_spec`) as an editable graph, with
        Inputs for the data's inputs.

        Undoable (the user picked it), it is one undo step; otherwise (a default chosen for newly
        opened data) it replaces the graph like :meth:`set_spec`.
        """
        sources = list(self._signature.inputs) if self._signature is not None else None
        rows = self._signature.train_rows if self._signature is not None else 0
        images = self._signature.inputs.get("image") if self._signature is not None else None
        levels = self._signature.categorical_levels if self._signature is not None else 0
        data = template_spec(name, options, inputs=sources, train_rows=rows, image_shape=images,
                             categorical_levels=levels)
        data.pop("template", None)
        self._fill_positions(data, force=True)
        if undoable:
            self.undo_stack.push(ReplaceSpecCommand(self, data, f"Open template {TEMPLATE_TITLES.get(name, name)}"))
        else:
            self.set_spec(data)
        self.canvas.fit_all()

    def validity(self) -> tuple[bool, str]:
        assert self._validity is not None
        return self._validity

    def analysis(self) -> Analysis | None:
        return self._analysis

    def node_errors(self) -> dict[str, list[str]]:
        """Node id → the problems shown on its badge."""
        return copy.deepcopy(self._node_errors)

    def status_text(self) -> str:
        return self.status.text()

    def kerastuner_code(self) -> str:
        self._update_code()
        return self.code_view.code()

    def show_trial(self, hyperparameters: Mapping[str, Any]) -> None:
        """Fills a trial's values in on the canvas (e.g. the winner after a search)."""
        self._trial = dict(hyperparameters)
        self._refresh(analyse_again=False)

    def clear_trial(self) -> None:
        self._trial = None
        self._refresh(analyse_again=False)

    # -- edits (each pushes one undo command, as the canvas and inspector do)
    def add_node(self, kind: str, position: tuple[float, float] | None = None,
                 params: Mapping[str, Any] | None = None, *, connect_from: str | None = None) -> str:
        """Adds a layer; returns its id. ``connect_from`` also draws an edge into it."""
        if kind not in LAYER_TYPES:
            raise SpecError(f"unknown layer type {kind!r}")
        taken = taken_ids(self._spec)
        node_id = unique_id(node_base_id(kind, params or {}), taken)
        if position is None:
            position = self._free_position(connect_from)
        node = {"id": node_id, "type": kind, "params": dict(params or {}),
                "position": [round(float(position[0]), 1), round(float(position[1]), 1)]}
        edges = []
        if connect_from is not None and self._can_connect(connect_from, node_id, new_dest=node)[0]:
            edges.append([connect_from, node_id])
        self.undo_stack.push(AddNodesCommand(self, [node], edges))
        self.select_nodes([node_id])
        return node_id

    def connect_nodes(self, source: str, dest: str) -> bool:
        """Draws ``source → dest``; a one-input layer's old input is replaced. False if refused."""
        ok, reason = self._can_connect(source, dest)
        if not ok:
            self._flash(reason)
            return False
        replace = LAYER_TYPES[self._node(dest)["type"]].inputs == "one"
        self.undo_stack.push(ConnectCommand(self, source, dest, replace))
        return True

    def disconnect_nodes(self, edges: Iterable[Iterable[str]]) -> None:
        edges = [list(e) for e in edges]
        if edges:
            self.undo_stack.push(DisconnectCommand(self, edges))

    def remove_nodes(self, node_ids: Iterable[str], *, bridge: bool = False) -> None:
        """Removes layers with their edges; ``bridge`` joins each one's single input to its outputs."""
        ids = [n for n in node_ids if any(m["id"] == n for m in self._spec["nodes"])]
        if ids:
            self.undo_stack.push(RemoveNodesCommand(self, ids, bridge=bridge))

    def delete_selection(self) -> None:
        """Deletes the selected layers and edges (one undo step); a deleted layer's single input
        is joined to what it fed, so a chain stays whole."""
        nodes, edges = self.canvas.selected_nodes(), self.canvas.selected_edges()
        edges = [e for e in edges if e[0] not in nodes and e[1] not in nodes]
        if nodes and edges:
            self.undo_stack.beginMacro("Delete")
            self.disconnect_nodes(edges)
            self.remove_nodes(nodes, bridge=True)
            self.undo_stack.endMacro()
        elif nodes:
            self.remove_nodes(nodes, bridge=True)
        elif edges:
            self.disconnect_nodes(edges)

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Sets a param to a fixed value or an ``{"hp": ...}`` dict (``None``: the default)."""
        current = self._node(node_id).get("params", {}).get(name)
        if current != value:
            self.undo_stack.push(ChangeParamCommand(self, node_id, name, value))

    def rename_node(self, node_id: str, new_id: str) -> bool:
        """Renames a layer (its hyperparameter names follow); False, with the reason shown, if the
        name is taken or not a plain name."""
        new_id = new_id.strip()
        if new_id == node_id:
            return True
        reason = name_problem(self._spec, new_id)
        if not reason:
            self.inspector.show_name_error(node_id, "")
            self.undo_stack.push(RenameNodeCommand(self, node_id, new_id))
            self.select_nodes([new_id])
            return True
        reason = reason[0].upper() + reason[1:]
        if self.selected_nodes() == [node_id]:  # next to the name field, until a name is accepted
            self.inspector.show_name_error(node_id, reason)
        else:
            self._flash(reason)
        return False

    def set_optional(self, node_id: str, optional: bool) -> None:
        if bool(self._node(node_id).get("optional")) != optional:
            self.undo_stack.push(SetOptionalCommand(self, node_id, optional))

    def set_training(self, name: str, value: Any) -> None:
        if self._spec.get("training", {}).get(name) != value:
            self.undo_stack.push(ChangeTrainingCommand(self, name, value))

    def group_repeat(self, chain: list[str], minimum: int = 1, maximum: int = 3) -> str | None:
        """Makes a chain of nodes a repeat block; returns its id (None if the chain cannot be)."""
        ordered, reason = self.repeatable_chain(chain)
        if ordered is None:
            self._flash(reason)
            return None
        taken = taken_ids(self._spec)
        repeat_id = unique_id("block", taken)
        self.undo_stack.push(GroupRepeatCommand(self, repeat_id, ordered, minimum, maximum))
        return repeat_id

    def ungroup_repeat(self, repeat_id: str) -> None:
        self.undo_stack.push(UngroupRepeatCommand(self, repeat_id))

    def set_repeat_range(self, repeat_id: str, minimum: int, maximum: int) -> None:
        for rep in self._spec.get("repeats", []):
            if rep["id"] == repeat_id and (rep["min"], rep["max"]) != (minimum, maximum):
                self.undo_stack.push(SetRepeatRangeCommand(self, repeat_id, minimum, maximum))

    def move_nodes(self, positions: Mapping[str, tuple[float, float]], text: str = "Move") -> None:
        self.undo_stack.push(MoveNodesCommand(self, positions, text))

    def auto_layout(self) -> None:
        """Lays the graph out in columns by topological depth (one undo step)."""
        if self._spec["nodes"]:
            self.move_nodes(self._layout_positions(self._spec), "Auto-layout")
            self.canvas.fit_all()

    def select_nodes(self, node_ids: list[str]) -> None:
        self.canvas.select_nodes(node_ids)

    def selected_nodes(self) -> list[str]:
        return self.canvas.selected_nodes()

    def copy_selection(self) -> None:
        """Copies the selected nodes, the edges among them and repeat blocks wholly inside."""
        chosen = set(self.selected_nodes())
        if not chosen:
            return
        payload = {
            "nodes": [n for n in self._spec["nodes"] if n["id"] in chosen],
            "edges": [e for e in self._spec["edges"] if e[0] in chosen and e[1] in chosen],
            "repeats": [r for r in self._spec.get("repeats", []) if set(r["nodes"]) <= chosen],
        }
        data = QMimeData()
        text = json.dumps(payload, indent=1)
        data.setData(NODES_MIME, text.encode("utf-8"))
        data.setText(text)
        QGuiApplication.clipboard().setMimeData(data)
        self._paste_offset = 0

    def cut_selection(self) -> None:
        """Copies the selected layers, then deletes them (one undo step)."""
        if self.selected_nodes():
            self.copy_selection()
            self.delete_selection()

    def select_all(self) -> None:
        self.select_nodes([n["id"] for n in self._spec["nodes"]])

    def edit_actions(self) -> list[QAction]:
        """Cut, Copy, Paste, Delete and Select all for the canvas, for the window's Edit menu."""
        return list(self._edit_actions)

    def paste(self) -> list[str]:
        """Pastes copied nodes under new ids, offset from the originals; returns the new ids."""
        data = QGuiApplication.clipboard().mimeData()
        if data is None or not data.hasFormat(NODES_MIME):
            return []
        try:
            payload = json.loads(bytes(data.data(NODES_MIME).data()).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return []
        self._paste_offset += 1
        shift = 40.0 * self._paste_offset
        taken = taken_ids(self._spec)
        renamed: dict[str, str] = {}
        nodes = []
        for node in payload.get("nodes", []):
            if node.get("type") not in LAYER_TYPES:
                continue
            new_id = unique_id(node["id"], taken)
            taken.add(new_id)
            renamed[node["id"]] = new_id
            item = copy.deepcopy(node)
            item["id"] = new_id
            x, y = node.get("position", [0.0, 0.0])
            item["position"] = [x + shift, y + shift]
            nodes.append(item)
        if not nodes:
            return []
        edges = [[renamed[a], renamed[b]] for a, b in payload.get("edges", []) if a in renamed and b in renamed]
        repeats = []
        for rep in payload.get("repeats", []):
            if all(n in renamed for n in rep["nodes"]):
                rep_id = unique_id(rep["id"], taken)
                taken.add(rep_id)
                repeats.append({**rep, "id": rep_id, "nodes": [renamed[n] for n in rep["nodes"]]})
        self.undo_stack.push(AddNodesCommand(self, nodes, edges, repeats,
                                             text=f"Paste {len(nodes)} layer{'s' if len(nodes) > 1 else ''}"))
        ids = [n["id"] for n in nodes]
        self.select_nodes(ids)
        return ids

    def repeatable_chain(self, node_ids: Iterable[str]) -> tuple[list[str] | None, str]:
        """The nodes in chain order if they can form a repeat block, else (None, why not)."""
        return repeatable_chain(self._spec, node_ids)

    # ------------------------------------------------------------------ commands' target
    def current_spec(self) -> dict[str, Any]:
        return self._spec

    def apply_spec(self, spec: dict[str, Any]) -> None:
        self._spec = spec
        self._trial = None
        self._refresh()
        self.specChanged.emit(self.spec())

    # ------------------------------------------------------------------ internals
    def _node(self, node_id: str) -> dict[str, Any]:
        for node in self._spec["nodes"]:
            if node["id"] == node_id:
                return node
        raise KeyError(node_id)

    def _can_connect(self, source: str, dest: str, new_dest: dict[str, Any] | None = None) -> tuple[bool, str]:
        return can_connect(self._spec, source, dest, new_dest)

    def _free_position(self, after: str | None) -> tuple[float, float]:
        if after is not None:
            x, y = self._node(after).get("position", [0.0, 0.0])
            return x + NODE_WIDTH + COLUMN_GAP, y
        centre = self.canvas.mapToScene(self.canvas.viewport().rect().center())
        x, y = centre.x() - NODE_WIDTH / 2, centre.y() - HEADER
        taken = {(round(n["position"][0]), round(n["position"][1]))
                 for n in self._spec["nodes"] if "position" in n}
        while (round(x), round(y)) in taken:
            x, y = x + 30, y + 30
        return x, y

    def _layout_positions(self, spec: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
        """Columns by longest path from an input; long chains wrap into bands (:mod:`.layout`)."""
        view = self.canvas.viewport().size()
        return layout_positions([n["id"] for n in spec["nodes"]], spec["edges"],
                                {n["id"]: card_height(n) for n in spec["nodes"]}, NODE_WIDTH,
                                repeats=[r["nodes"] for r in spec.get("repeats", [])],
                                view=(float(view.width()), float(view.height())))

    def _fill_positions(self, spec: dict[str, Any], force: bool = False) -> None:
        if not spec["nodes"]:
            return
        if force or any("position" not in n for n in spec["nodes"]):
            laid = self._layout_positions(spec)
            for node in spec["nodes"]:
                if force or "position" not in node:
                    node["position"] = list(laid[node["id"]])

    def _flash(self, message: str) -> None:
        self.status.setText(f"<span style='color:#E5484D'>✕</span> {message}")
        QTimer.singleShot(4000, self, self._show_status)  # the context drops it if we are gone

    def _analyse(self) -> tuple[bool, str]:
        """Checks the spec; fills the analysis and node errors; returns (valid, reason)."""
        check = check_spec(self._spec, self._signature)
        self._analysis, self._node_errors = check.analysis, check.node_errors
        return check.valid, check.reason

    def _refresh(self, analyse_again: bool = True) -> None:
        if analyse_again or self._validity is None:
            validity = self._analyse()
        else:
            validity = self._validity
        changed = validity != self._validity
        self._validity = validity  # before the code is written: its note reads the validity
        self._sync_canvas()
        self._on_selection()
        self._code_dirty = True
        if self.side.currentWidget() is self.code_view:
            self._update_code()
        self._show_status()
        if changed:
            self.validityChanged.emit(*validity)

    def _show_status(self) -> None:
        valid, reason = self._validity if self._validity is not None else (False, "")
        if valid and self._analysis is not None:
            a = self._analysis
            self.status.setText(f"<span style='color:#23A36B'>●</span> Ready to search · "
                                f"{format_configurations(a.configurations)} · "
                                f"{params_text(a.params_min, a.params_max)}")
        else:
            self.status.setText(f"<span style='color:#E5484D'>●</span> {reason}")
        self.status.setAccessibleDescription(reason or "ready to search")

    def _sync_canvas(self) -> None:
        spec = self._spec
        analysis = self._analysis
        trial_results: dict[str, tuple[Any, int]] = {}
        trial_nodes: dict[str, list[Any]] = {}
        repeat_counts: dict[str, int] = {}
        if self._trial is not None:
            try:
                space = SearchSpace.from_dict(spec)
                choose = fixed_chooser(self._trial)
                for concrete in instantiate(space, choose):
                    trial_nodes.setdefault(concrete.spec_id, []).append(concrete)
                if self._signature is not None:
                    trial_results, _ = evaluate(space, self._signature, choose)
                for rep in space.repeats:
                    repeat_counts[rep.id] = rep.min if rep.min == rep.max else \
                        int(choose(f"{rep.id}.repeats", IntRange(rep.min, rep.max)))
            except SpecError:
                trial_nodes = {}
        views: list[NodeView] = []
        for node in spec["nodes"]:
            layer = LAYER_TYPES[node["type"]]
            view = NodeView(node["id"], node["type"], layer.category, layer.inputs,
                            optional=bool(node.get("optional")),
                            errors=list(self._node_errors.get(node["id"], [])))
            params = node.get("params", {})
            if self._trial is not None and trial_nodes:
                copies = trial_nodes.get(node["id"], [])
                view.skipped = not copies
                view.highlight_lines = True
                for pdef in layer.params:
                    value = params.get(pdef.name)
                    if isinstance(value, Mapping) and "hp" in value and copies:
                        chosen = ", ".join(describe_value(c.params[pdef.name]) for c in copies)
                        view.lines.append(f"{pdef.name} = {chosen}")
                if view.skipped:
                    view.lines = ["skipped in this trial"]
                last = copies[-1].id if copies else None
                if last is not None and last in trial_results:
                    shape, count = trial_results[last]
                    view.shape = format_shape(shape)
                    view.params = params_text(sum(trial_results[c.id][1] for c in copies if c.id in trial_results),
                                               sum(trial_results[c.id][1] for c in copies if c.id in trial_results))
            else:
                view.lines = card_lines(node, self._signature)
                info = analysis.nodes.get(node["id"]) if analysis is not None else None
                if info is not None and info.shape is not None:
                    view.shape = info.shape_text()
                    view.params = params_text(info.params_min, info.params_max)
                elif analysis is not None and not view.errors:
                    view.shape = "?"
                    view.params = "after a faulty layer"
            views.append(view)
        positions = {n["id"]: tuple(n.get("position", (0.0, 0.0))) for n in spec["nodes"]}
        labels: dict[str, str] = {}
        if self._trial is not None and trial_nodes:
            for node_id, copies in trial_nodes.items():
                if copies and copies[-1].id in trial_results:
                    labels[node_id] = compact_shape(format_shape(trial_results[copies[-1].id][0]))
        elif analysis is not None:
            for node_id, info in analysis.nodes.items():
                if info.shape is not None:
                    labels[node_id] = compact_shape(info.shape_text())
        merges = {n["id"] for n in spec["nodes"] if LAYER_TYPES[n["type"]].inputs == "many"}
        repeats = []
        for rep in spec.get("repeats", []):
            span = f"{rep['min']}–{rep['max']}" if rep["min"] != rep["max"] else f"{rep['min']}"
            label = f"{rep['id']} · repeat {span}×"
            if rep["id"] in repeat_counts:
                label = f"{rep['id']} · {repeat_counts[rep['id']]}× in this trial (of {span})"
            has_error = any(n in self._node_errors for n in rep["nodes"])
            repeats.append((rep["id"], list(rep["nodes"]), label, has_error))
        self.canvas.sync(views, positions, [tuple(e) for e in spec["edges"]], labels, repeats, merges)
        if self._trial is not None:
            shown = ", ".join(f"{k} = {describe_value(v)}" for k, v in sorted(self._trial.items())
                              if k.startswith("training."))
            self.trial_label.setText("Showing a trial's values" + (f" · {shown}" if shown else ""))
        self.trial_bar.setVisible(self._trial is not None)

    def _update_code(self) -> None:
        if not self._code_dirty:
            return
        self._code_dirty = False
        if self._signature is None:
            self.code_view.set_code("# Open a dataset: the code needs its input shapes and task.\n")
            return
        if not self._spec["nodes"]:
            self.code_view.set_code("# The network is empty.\n")
            return
        valid, reason = self._validity if self._validity is not None else (False, "")
        try:
            code = codegen.kerastuner_code(SearchSpace.from_dict(self._spec), self._signature)
        except SpecError as exc:
            self.code_view.set_code(f"# The network cannot be written as code yet:\n# {exc.message}\n")
            return
        if not valid:
            code = f"# Note: the network has a problem and will not build yet:\n# {reason}\n\n" + code
        self.code_view.set_code(code)

    # ------------------------------------------------------------------ reactions
    @Slot(int)
    def _on_side_tab(self, _index: int) -> None:
        if self.side.currentWidget() is self.code_view:
            self._update_code()

    @Slot()
    def _on_selection(self) -> None:
        selected = self.canvas.selected_nodes()
        chain, reason = self.repeatable_chain(selected) if selected else (None, "")
        errors = self._node_errors.get(selected[0], []) if len(selected) == 1 else []
        self.inspector.show_selection(self._spec, selected, errors, chain, reason)
        if self._analysis is not None:
            a = self._analysis
            self.inspector.set_summary(format_configurations(a.configurations),
                                       params_text(a.params_min, a.params_max).replace(" params", "")
                                       if a.valid else "— (fix the marked layers first)")
        else:
            try:
                configurations = format_configurations(count_configurations(SearchSpace.from_dict(self._spec)))
            except SpecError:
                configurations = "—"
            self.inspector.set_summary(configurations, "— (open a dataset)")

    def canvas_menu(self, pos: QPoint) -> QMenu:
        """The right-click menu for a point of the canvas (a layer's actions, or the graph's)."""
        node = self.canvas.node_at_view(pos)
        if node is not None and node not in self.selected_nodes():
            self.select_nodes([node])
        selected = self.selected_nodes()
        menu = QMenu(self)
        menu.setObjectName("canvasMenu")

        def add(name: str, text: str, slot: Any, enabled: bool = True) -> QAction:
            action = menu.addAction(text)
            action.setObjectName(name)
            action.setEnabled(enabled)
            action.triggered.connect(slot)
            return action

        if selected:
            if len(selected) == 1:
                kind = self._node(selected[0])["type"]
                optional = bool(self._node(selected[0]).get("optional"))
                action = add("menuOptional", "Optional", lambda checked: self.set_optional(selected[0], checked),
                             LAYER_TYPES[kind].can_be_optional)
                action.setCheckable(True)
                action.setChecked(optional)
            chain, reason = self.repeatable_chain(selected)
            repeat = add("menuRepeat", "Repeat 1–3 times", lambda: self.group_repeat(selected, 1, 3),
                         chain is not None)
            repeat.setToolTip(reason)
            for rep in self._spec.get("repeats", []):
                if any(n in rep["nodes"] for n in selected):
                    add("menuUngroup", f"Ungroup {rep['id']}", lambda _c=False, r=rep["id"]: self.ungroup_repeat(r))
            menu.addSeparator()
            add("menuCopy", "Copy", self.copy_selection)
            add("menuDelete", "Delete", self.delete_selection)
        else:
            data = QGuiApplication.clipboard().mimeData()
            add("menuPaste", "Paste", self.paste, data is not None and data.hasFormat(NODES_MIME))
            add("menuAutoLayout", "Auto-layout", self.auto_layout, bool(self._spec["nodes"]))
            add("menuFit", "Fit view", self.canvas.fit_all)
        return menu

    @Slot(QPoint)
    def _on_canvas_menu(self, pos: QPoint) -> None:
        menu = self.canvas_menu(pos)
        menu.exec(self.canvas.viewport().mapToGlobal(pos))
        menu.deleteLater()

    @Slot(str, dict)
    def _on_layer_activated(self, kind: str, params: dict[str, Any]) -> None:
        selected = self.selected_nodes()
        after = (selected[0] if len(selected) == 1
                 and LAYER_TYPES[self._node(selected[0])["type"]].role != "output" else None)
        self.add_node(kind, None, params, connect_from=after if LAYER_TYPES[kind].inputs != "none" else None)

    @Slot(str, dict, QPointF)
    def _on_layer_dropped(self, kind: str, params: dict[str, Any], pos: QPointF) -> None:
        self.add_node(kind, (pos.x(), pos.y()), params)

    @Slot(dict)
    def _on_nodes_moved(self, positions: dict[str, Any]) -> None:
        known = {n["id"] for n in self._spec["nodes"]}
        moved = {k: v for k, v in positions.items() if k in known}
        if moved:
            self.move_nodes(moved)


__all__ = ["NetworkEditor", "data_signature", "describe_value", "empty_spec"]
