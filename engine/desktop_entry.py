"""``automl-studio install-desktop-entry``: the app in a Linux desktop's menu, for this user.

Writes, under ``$XDG_DATA_HOME`` (default ``~/.local/share``) as the freedesktop specifications
place them: ``applications/automl-studio.desktop`` (the Desktop Entry, its ``Exec`` pointing at
this installation's ``automl-studio-gui``), ``icons/hicolor/<N>x<N>/apps/automl-studio.png`` and
``icons/hicolor/scalable/apps/automl-studio.svg`` (the icon theme), and
``mime/packages/automl-studio.xml`` (``*.automl.json`` project files open with the app). The
desktop's caches are refreshed with ``update-desktop-database``, ``gtk-update-icon-cache`` and
``update-mime-database`` where those programs exist; without them the files still work after the
next login. ``uninstall`` removes exactly these files.

No Qt here: the PNG sizes are committed in ``automl_studio.resources`` (packaging/make_icons.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

APP_ID = "automl-studio"
ICON_SIZES = (16, 32, 48, 64, 128, 256)
MIME_TYPE = "application/x-automl-studio-project"


@dataclass(frozen=True)
class DesktopFiles:
    """What an install wrote (or an uninstall removed), and the cache commands that ran."""

    files: tuple[Path, ...]
    refreshed: tuple[str, ...]


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or not absolute (as the spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def gui_command() -> str:
    """The absolute path of this installation's GUI program, for the entry's ``Exec``.

    A venv's or pipx's scripts are not necessarily on the desktop session's PATH, so the entry
    names the file beside this interpreter (or the bundle's executable), else the one on PATH.
    """
    folder = Path(sys.executable).parent
    names = ("automl-studio-gui.exe", "automl-studio-gui") if os.name == "nt" else ("automl-studio-gui",)
    for name in names:
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which("automl-studio-gui")
    return os.path.abspath(found) if found else "automl-studio-gui"


def _exec_quoted(path: str) -> str:
    # The Desktop Entry spec's quoting: a path with reserved characters goes in double quotes,
    # with ", `, $ and \ escaped (and every backslash doubled again by the string escaping).
    path = path.replace("%", "%%")
    if not any(c in path for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return path
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in path)
    return '"' + escaped.replace("\\", "\\\\") + '"'


def desktop_entry_text(command: str | None = None) -> str:
    """The template ``automl-studio.desktop`` with ``Exec``/``TryExec`` set to ``command``."""
    command = command or gui_command()
    lines = []
    for line in _resource("automl-studio.desktop").read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={_exec_quoted(command)} %f"
        elif line.startswith("TryExec="):
            line = f"TryExec={_exec_quoted(command)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _resource(name: str) -> Path:
    return Path(str(resources.files("automl_studio.resources").joinpath(name)))


def _targets(root: Path) -> dict[Path, Path | None]:
    """Each file to write under ``root`` and the resource it copies (``None``: the entry itself)."""
    icons = root / "icons" / "hicolor"
    targets: dict[Path, Path | None] = {root / "applications" / f"{APP_ID}.desktop": None}
    for size in ICON_SIZES:
        targets[icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png"] = _resource(f"icon-{size}.png")
    targets[icons / "scalable" / "apps" / f"{APP_ID}.svg"] = _resource("icon.svg")
    targets[root / "mime" / "packages" / f"{APP_ID}.xml"] = _resource(f"{APP_ID}-mime.xml")
    return targets


def _refresh_caches(root: Path) -> tuple[str, ...]:
    commands = (
        ("update-desktop-database", "-q", str(root / "applications")),
        ("gtk-update-icon-cache", "-q", "-t", "-f", str(root / "icons" / "hicolor")),
        ("update-mime-database", str(root / "mime")),
    )
    ran = []
    for command in commands:
        if shutil.which(command[0]) and Path(command[-1]).is_dir():
            # A cache that cannot be refreshed is not worth failing the install over: the
            # desktop rereads the folders at the next login.
            subprocess.run(command, check=False, capture_output=True, timeout=60)
            ran.append(command[0])
    return tuple(ran)


def install(root: Path | None = None, command: str | None = None) -> DesktopFiles:
    """Writes the desktop entry, icons and project MIME type under ``root`` (default: data_home())."""
    root = root or data_home()
    written = []
    for dest, source in _targets(root).items():
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            dest.write_text(desktop_entry_text(command), encoding="utf-8")
        else:
            shutil.copyfile(source, dest)
        written.append(dest)
    return DesktopFiles(tuple(written), _refresh_caches(root))


def uninstall(root: Path | None = None) -> DesktopFiles:
    """Removes what :func:`install` wrote under ``root``; files already gone are skipped."""
    root = root or data_home()
    removed = []
    for dest in _targets(root):
        if dest.is_file():
            dest.unlink()
            removed.append(dest)
    return DesktopFiles(tuple(removed), _refresh_caches(root))
