"""The PyInstaller bundle: build it, measure its size and launch, and run a search with it.

Not part of the test suite (building a TensorFlow bundle takes many minutes). Steps:

1. ``make bundle`` (skipped with ``--skip-build``: the existing ``dist/automl-studio/``), timed.
2. Size of ``dist/automl-studio/`` (files and bytes; the largest top-level parts).
3. Launch time to a shown window, offscreen: from spawning ``automl-studio-gui`` until the app log
   (``AUTOML_STUDIO_LOG_DIR``, a temporary folder) has its ``window shown`` line, for the bundled
   program and, as the baseline in the same run, the source install's ``.venv/bin/automl-studio-gui``.
   Alternated, ``--repeats`` times each; the median is the figure.
4. A one-trial search through the bundled command line (``automl-studio search``, in-process), and
   one through the bundled engine child (``automl-studio --engine-child search``, what the window
   starts), each to an exported model.

Run: ``.venv/bin/python benchmarks/bundle.py [--skip-build] [--repeats 3]``; writes
``benchmarks/results/bundle.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from results_file import REPO, run_info, write_results

BUNDLE = REPO / "dist" / "automl-studio"
EXE = ".exe" if os.name == "nt" else ""
IRIS = REPO / "resources" / "iris.csv"
LAUNCH_TIMEOUT_S = 300.0


def build() -> float:
    """Runs ``make bundle``; returns its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run(["make", "bundle"], cwd=REPO, check=True)
    return time.perf_counter() - start


def size(folder: Path) -> dict[str, Any]:
    """Bytes and files under ``folder``, and its ten largest top-level parts (``_internal/*``)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    parts: dict[str, int] = {}
    for p in files:
        rel = p.relative_to(folder).parts
        key = "/".join(rel[:2]) if rel[0] == "_internal" and len(rel) > 1 else rel[0]
        parts[key] = parts.get(key, 0) + p.stat().st_size
    largest = sorted(parts.items(), key=lambda kv: -kv[1])[:10]
    return {"bytes": sum(p.stat().st_size for p in files), "files": len(files),
            "largest_mb": {k: round(v / 1e6, 1) for k, v in largest}}


def launch_once(program: Path) -> float:
    """Seconds from spawning ``program`` (offscreen) until its log says the window was shown."""
    with tempfile.TemporaryDirectory(prefix="bundle-launch-") as logs:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "AUTOML_STUDIO_LOG_DIR": logs}
        log = Path(logs) / "automl-studio.log"
        start = time.perf_counter()
        proc = subprocess.Popen([str(program)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while time.perf_counter() - start < LAUNCH_TIMEOUT_S:
                if log.is_file() and "window shown" in log.read_text(encoding="utf-8", errors="replace"):
                    return time.perf_counter() - start
                if proc.poll() is not None:
                    raise RuntimeError(f"{program} exited with {proc.returncode} before showing its window")
                time.sleep(0.02)
            raise RuntimeError(f"{program} showed no window in {LAUNCH_TIMEOUT_S:.0f} s")
        finally:
            proc.kill()
            proc.wait(60)


def cli_search(work: Path) -> dict[str, Any]:
    """A one-trial search through the bundled command line, to an exported model."""
    start = time.perf_counter()
    proc = subprocess.run([str(BUNDLE / f"automl-studio{EXE}"), "search", str(IRIS), "--max-trials", "1",
                           "--max-epochs", "2", "--refits", "1", "--project", str(work / "cli"),
                           "--export", str(work / "cli.h5")], capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    status = json.loads(proc.stdout)["status"] if proc.returncode == 0 else f"exit {proc.returncode}"
    return {"seconds": round(seconds, 1), "status": status, "exported": (work / "cli.h5").is_file(),
            "stderr_tail": proc.stderr[-1500:] if proc.returncode else ""}


def child_search(work: Path) -> dict[str, Any]:
    """A one-trial search through the bundled engine child, driven as the window drives it."""
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.events import ProcessExited, SearchFinished
    from automl_studio.engine.process.runner import FROZEN_CHILD_FLAG, SearchProcess

    config = SearchConfig(data_path=str(IRIS), project_dir=str(work / "child"), max_trials=1, max_epochs=2,
                          refits=1, export_path=str(work / "child.h5"))
    process = SearchProcess(config, command=[str(BUNDLE / f"automl-studio{EXE}"), FROZEN_CHILD_FLAG, "search"])
    start = time.perf_counter()
    process.start()
    status, code = "no search_finished", None
    while time.perf_counter() - start < 1800:
        for event in process.poll(1.0):
            if isinstance(event, SearchFinished):
                status = event.status
            if isinstance(event, ProcessExited):
                code = event.exitcode
                break
        else:
            continue
        break
    else:
        process.stop()
    return {"seconds": round(time.perf_counter() - start, 1), "status": status, "exit_code": code,
            "exported": (work / "child.h5").is_file()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--skip-build", action="store_true", help="measure the existing dist/automl-studio/")
    parser.add_argument("--repeats", type=int, default=3, help="launches of each program (alternated)")
    args = parser.parse_args()
    run = run_info()
    results: dict[str, Any] = {"build_s": None if args.skip_build else round(build(), 1)}
    results["size"] = size(BUNDLE)
    print(f"bundle: {results['size']['bytes'] / 1e9:.2f} GB in {results['size']['files']} files", flush=True)
    programs = {"bundle": BUNDLE / f"automl-studio-gui{EXE}",
                "source install": Path(sys.executable).with_name(f"automl-studio-gui{EXE}")}
    launches: dict[str, list[float]] = {name: [] for name in programs}
    for _ in range(args.repeats):
        for name, program in programs.items():
            launches[name].append(round(launch_once(program), 2))
            print(f"launch {name}: {launches[name][-1]:.2f} s", flush=True)
    results["launch_s"] = launches
    results["launch_median_s"] = {name: statistics.median(v) for name, v in launches.items()}
    with tempfile.TemporaryDirectory(prefix="bundle-search-") as work:
        results["cli_search"] = cli_search(Path(work))
        print(f"bundled CLI search: {results['cli_search']}", flush=True)
        results["child_search"] = child_search(Path(work))
        print(f"bundled engine child search: {results['child_search']}", flush=True)
    med = results["launch_median_s"]
    ok = all(results[k]["status"] == "completed" and results[k]["exported"] for k in ("cli_search", "child_search"))
    results["summary_rows"] = [
        {"what": "Bundle (`make bundle`, one folder): size and launch to a shown window, offscreen",
         "target": "launches; a search runs from the bundle",
         "measured": (f"{results['size']['bytes'] / 1e9:.2f} GB, {results['size']['files']} files; launch median "
                      f"**{med['bundle']:.1f} s** vs source install {med['source install']:.1f} s; "
                      f"1-trial search: CLI {results['cli_search']['seconds']:.0f} s, "
                      f"engine child {results['child_search']['seconds']:.0f} s"),
         "status": "met" if ok else "**not met**"}]
    write_results("bundle", results, run)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
