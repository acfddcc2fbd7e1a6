"""The PyInstaller bundle's entry script: one program file, three roles.

``automl-studio-gui`` (windowed) opens the desktop app; ``automl-studio`` (console) is the command
line; ``automl-studio --engine-child search|call ...`` is the engine's child process, which the
window and the CLI start as ``sys.executable -m automl_studio.engine.process.child`` when not
frozen (engine/process/runner.py ``_child_command`` picks this form in a bundle).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _streams_for_a_windowed_program() -> None:
    # A windowed bundle (Windows, macOS) starts with sys.stdout/sys.stderr = None: anything that
    # writes there (a progress bar, a warning) would raise. Send it nowhere instead.
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def main() -> int:
    """Dispatches on the program's name and its first argument."""
    _streams_for_a_windowed_program()
    args = sys.argv[1:]
    from automl_studio.engine.process.runner import FROZEN_CHILD_FLAG

    if args[:1] == [FROZEN_CHILD_FLAG]:
        from automl_studio.engine.process import child

        code = child.main(args[1:])
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # as ``python -m ...child`` does: no teardown of TensorFlow
    if Path(sys.executable).stem == "automl-studio-gui":
        from automl_studio.gui.app import main as gui_main

        return gui_main(args)
    from automl_studio.engine.cli import main as cli_main

    return cli_main()  # reads sys.argv, and ends a search without TensorFlow's teardown


if __name__ == "__main__":
    if sys.platform == "win32":
        import multiprocessing

        multiprocessing.freeze_support()
    raise SystemExit(main())
