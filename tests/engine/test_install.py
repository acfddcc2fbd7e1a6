"""A plain install works: the wheel, installed without dev extras into a fresh environment.

The default tuner is KerasTuner's Bayesian one, whose oracle imports scipy and scikit-learn;
those came only with the dev extras once, so every test passed while a user's first search
failed. Here the wheel is built from this checkout and installed (``pip install WHEEL``, the
same pip configuration as the developer's) into a new virtual environment that has never seen
``.[dev]``; the commands then run there, from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tomllib
import venv
from pathlib import Path

import h5py
import pytest

REPO = Path(__file__).resolve().parents[2]
# Building the wheel and installing TensorFlow into a new environment takes minutes, more on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def _bin(env_dir: Path, name: str) -> Path:
    return env_dir / ("Scripts" if os.name == "nt" else "bin") / name


def _clean_env() -> dict[str, str]:
    """The caller's environment minus anything that would let the checkout leak in."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source distribution, built from this checkout through setuptools' PEP 517 hook."""
    out = tmp_path_factory.mktemp("sdist")
    subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta; "
                    "build_meta.build_sdist(sys.argv[1])", str(out)],
                   cwd=REPO, check=True, timeout=300, env=_clean_env(), capture_output=True)
    return next(out.glob("automl[-_]studio-*.tar.gz"))  # setuptools < 69 keeps the hyphen


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, sdist: Path) -> Path:
    """A fresh virtual environment with only the wheel and its declared dependencies.

    The wheel is built from the unpacked sdist, as pip does from PyPI: what the sdist lacks, the
    installed app lacks.
    """
    root = tmp_path_factory.mktemp("install")
    with tarfile.open(sdist) as archive:
        archive.extractall(root / "unpacked", filter="data")
    source = next((root / "unpacked").iterdir())
    wheels = root / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(source)], check=True, timeout=300, env=_clean_env())
    wheel = next(wheels.glob("automl_studio-*.whl"))
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    proc = subprocess.run([str(_bin(env_dir, "python")), "-m", "pip", "install", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=1200, env=_clean_env(), cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return env_dir


def _run(env_dir: Path, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(_bin(env_dir, "automl-studio")), *args], capture_output=True, text=True,
                          timeout=timeout, env=_clean_env(), cwd=cwd)


def test_the_fresh_environment_has_no_dev_extras_and_not_the_checkout(installed: Path) -> None:
    code = ("import importlib.util, importlib.metadata, automl_studio.engine as e\n"
            "print(importlib.util.find_spec('pytest') is None, importlib.util.find_spec('hypothesis') is None)\n"
            "print(e.__path__[0])\n"
            "print(importlib.metadata.version('automl-studio'))\n")
    out = subprocess.run([str(_bin(installed, "python")), "-c", code], capture_output=True, text=True,
                         check=True, env=_clean_env(), cwd=installed.parent).stdout.split("\n")
    assert out[0] == "True True", "dev extras leaked into the fresh environment"
    assert Path(out[1]).resolve().is_relative_to(installed.resolve()), out[1]
    assert out[2] == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def test_version_of_the_command_and_of_the_gui_command(installed: Path) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for args in (("--version",), ("gui", "--version")):
        proc = _run(installed, *args, cwd=installed.parent, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"automl-studio {version}"


def test_a_default_search_runs_to_an_exported_model(installed: Path) -> None:
    work = installed.parent / "search"
    work.mkdir()
    rows = ["x1,x2,label"] + [f"{i % 7 / 7:.3f},{(i * 3) % 5 / 5:.3f},{'yes' if i % 7 > 3 else 'no'}"
                              for i in range(60)]
    (work / "tiny.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    proc = _run(installed, "search", "tiny.csv", "--target", "label", "--max-trials", "1",
                "--max-epochs", "1", "--refits", "1", "--project", "proj", "--export", "best.h5",
                cwd=work, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["status"] == "completed", summary
    assert (work / "best.h5").is_file() and str(work / "best.h5") in [str(work / p) for p in summary["exported"]]
    with h5py.File(work / "best.h5", "r") as handle:
        assert "model_config" in handle.attrs
    # Only the Bayesian oracle keeps its acquisition's alpha and beta in its state.
    state = json.loads(next((work / "proj").rglob("oracle.json")).read_text())
    assert {"alpha", "beta", "num_initial_points"} <= state.keys(), sorted(state)


def test_the_sdist_carries_the_package_data_and_the_installed_app_finds_it(installed: Path, sdist: Path) -> None:
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    data = sorted({p.relative_to(REPO / "resources").as_posix() for pattern in patterns["automl_studio.resources"]
                   for p in (REPO / "resources").glob(pattern)})  # subfolders too: help/, templates/
    assert "iris.csv" in data and "automl-studio.desktop" in data and "icon-48.png" in data
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert "README.md" in names
    assert [f"resources/{n}" for n in data if f"resources/{n}" not in names] == []
    code = ("import importlib.resources as r, pathlib; root = pathlib.Path(str(r.files('automl_studio.resources'))); "
            "print('\\n'.join(sorted(p.relative_to(root).as_posix() for p in root.rglob('*') if p.is_file())))")
    out = subprocess.run([str(_bin(installed, "python")), "-c", code], capture_output=True, text=True,
                         check=True, env=_clean_env(), cwd=installed.parent).stdout.split()
    assert [n for n in data if n not in out] == []
    # The desktop entry of this installation, from its packaged template and icons.
    data_home = installed.parent / "share"
    proc = subprocess.run([str(_bin(installed, "automl-studio")), "install-desktop-entry"], capture_output=True,
                          text=True, timeout=120, env={**_clean_env(), "XDG_DATA_HOME": str(data_home)},
                          cwd=installed.parent)
    assert proc.returncode == 0, proc.stderr
    entry = (data_home / "applications" / "automl-studio.desktop").read_text(encoding="utf-8")
    assert f"Exec={_bin(installed, 'automl-studio-gui')} %f" in entry.splitlines()
    assert (data_home / "icons" / "hicolor" / "256x256" / "apps" / "automl-studio.png").is_file()
