"""Takes the network editor's screenshots: `python packaging/editor_screenshots.py`.

Writes docs/screenshots/editor-branched.png (a branched graph with a merge), editor-repeat.png (a
repeat block) and editor-error.png (a layer that cannot take its input, with its error badge).
Runs offscreen when there is no display; needs no dataset file (the signatures are made up).
"""

from __future__ import annotations

from screenshots import OUT, offscreen_without_display, save_shot, settle

SIZE = (1440, 860)


def main() -> int:
    offscreen_without_display()
    from automl_studio.engine.data.signature import DataSignature
    from automl_studio.gui.app import create_application
    from automl_studio.gui.editor.network_editor import NetworkEditor

    app = create_application()
    table = DataSignature("classification", 2, {"numeric": (6,), "categorical": (3,)}, categorical_tokens=14,
                          numeric_mean=(0.0,) * 6, numeric_variance=(1.0,) * 6)
    images = DataSignature("classification", 10, {"image": (32, 32, 3)}, image_scale=1 / 255)
    OUT.mkdir(parents=True, exist_ok=True)

    def shot(editor: NetworkEditor, name: str) -> None:
        save_shot(app, editor, name)

    def new_editor(signature: DataSignature) -> NetworkEditor:
        editor = NetworkEditor()
        editor.resize(*SIZE)
        editor.set_signature(signature)
        editor.show()
        settle(app, 0.1)
        return editor

    # 1. A wide-and-deep table network: two inputs, two towers, a merge.
    editor = new_editor(table)
    num = editor.add_node("Input", None, {"source": "numeric"})
    cat = editor.add_node("Input", None, {"source": "categorical", "encoding": "embedding",
                                          "embedding_dim": {"hp": "int", "min": 4, "max": 16, "step": 4}})
    wide = editor.add_node("Dense", None, {"units": {"hp": "choice", "values": [8, 16, 32]}})
    deep = editor.add_node("Dense", None, {"units": {"hp": "int", "min": 32, "max": 256, "step": 32},
                                           "activation": {"hp": "choice", "values": ["relu", "gelu"]}})
    drop = editor.add_node("Dropout", None, {"rate": {"hp": "float", "min": 0.0, "max": 0.5}})
    merge = editor.add_node("Concatenate", None)
    top = editor.add_node("Dense", None, {"units": 32})
    head = editor.add_node("Output", None)
    for a, b in ((num, wide), (cat, deep), (deep, drop), (wide, merge), (drop, merge), (merge, top), (top, head)):
        editor.connect_nodes(a, b)
    editor.set_optional(drop, True)
    editor.auto_layout()
    editor.select_nodes([deep])
    settle(app)
    editor.canvas.fit_all()
    shot(editor, "editor-branched")

    # 2. The image template: a convolution block repeated 1–3 times.
    editor = new_editor(images)
    editor.load_template("image")
    editor.select_nodes(["conv"])
    settle(app)
    editor.canvas.fit_all()
    shot(editor, "editor-repeat")

    # 3. A Conv2D wired to a table: the badge, the tooltip's reason, the status line.
    editor = new_editor(table)
    editor.load_template("tabular")
    conv = editor.add_node("Conv2D", None)
    editor.connect_nodes("features", conv)
    editor.connect_nodes(conv, "dense")  # replaces features → dense: the Conv2D sits in the path
    editor.auto_layout()
    editor.select_nodes([conv])
    settle(app)
    editor.canvas.fit_all()
    shot(editor, "editor-error")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
