"""``automl-studio install-desktop-entry``: the real command, writing under a temporary XDG_DATA_HOME."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from automl_studio.engine import desktop_entry

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="freedesktop entries are Linux's")

REQUIRED = {"Type": "Application", "Name": "AutoML Studio", "Icon": "automl-studio",
            "Categories": "Science;Development;", "StartupWMClass": "automl-studio",
            "MimeType": "application/x-automl-studio-project;", "Terminal": "false"}


def _command(*args: str, data_home: Path) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("automl-studio")
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    return subprocess.run([str(cli), "install-desktop-entry", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def _entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def _validate(path: Path) -> None:
    if shutil.which("desktop-file-validate"):
        proc = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "error" not in proc.stdout, proc.stdout


def test_install_writes_a_valid_entry_the_icons_and_the_project_type(tmp_path):
    data_home = tmp_path / "share"
    proc = _command(data_home=data_home)
    assert proc.returncode == 0, proc.stderr
    entry_path = data_home / "applications" / "automl-studio.desktop"
    assert f"wrote {entry_path}" in proc.stdout
    _validate(entry_path)
    entry = _entry(entry_path)
    assert {k: entry.get(k) for k in REQUIRED} == REQUIRED
    program, field = entry["Exec"].rsplit(" ", 1)
    assert field == "%f"
    # The GUI program of this very installation, which a desktop session can run without PATH.
    assert program == str(Path(sys.executable).with_name("automl-studio-gui"))
    assert os.access(program, os.X_OK)
    for size in desktop_entry.ICON_SIZES:
        icon = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "automl-studio.png"
        with Image.open(icon) as image:
            assert (image.format, image.size) == ("PNG", (size, size)), icon
    assert (data_home / "icons" / "hicolor" / "scalable" / "apps" / "automl-studio.svg").read_text().startswith("<svg")
    mime = (data_home / "mime" / "packages" / "automl-studio.xml").read_text()
    assert 'pattern="*.automl.json"' in mime and desktop_entry.MIME_TYPE in mime
    if shutil.which("update-mime-database"):
        assert "*.automl.json" in (data_home / "mime" / "globs2").read_text()
        assert "update-mime-database" in proc.stdout


def test_uninstall_removes_what_install_wrote_and_nothing_else(tmp_path):
    data_home = tmp_path / "share"
    mine = data_home / "applications" / "someone-else.desktop"
    mine.parent.mkdir(parents=True)
    mine.write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other\n")
    assert _command(data_home=data_home).returncode == 0
    proc = _command("--uninstall", data_home=data_home)
    assert proc.returncode == 0, proc.stderr
    left = {p for p in data_home.rglob("automl-studio*") if p.is_file()}
    assert left == set(), left
    assert mine.is_file()
    assert proc.stdout.count("removed ") == len(desktop_entry.ICON_SIZES) + 3  # entry, svg, mime


def test_exec_of_a_path_with_spaces_and_quotes_is_quoted_as_the_spec_says(tmp_path):
    program = tmp_path / 'My "Apps" 100%' / "automl-studio-gui"
    entry_path = tmp_path / "automl-studio.desktop"
    entry_path.write_text(desktop_entry.desktop_entry_text(str(program)), encoding="utf-8")
    _validate(entry_path)
    line = next(x for x in entry_path.read_text().splitlines() if x.startswith("Exec="))
    assert line == 'Exec="' + str(program.parent.parent).replace("\\", "\\\\\\\\") \
        + '/My \\\\"Apps\\\\" 100%%/automl-studio-gui" %f'


def test_without_xdg_data_home_it_is_the_users_local_share(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert desktop_entry.data_home() == Path.home() / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert desktop_entry.data_home() == Path.home() / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert desktop_entry.data_home() == tmp_path
