"""The wheel holds every subpackage, and the engine stays light and Qt-free."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_every_subpackage_and_the_demo_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(REPO)], check=True, timeout=300)
    wheel = next(tmp_path.glob("automl_studio-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, package in (("engine", "automl_studio/engine"), ("gui", "automl_studio/gui")):
        for source in (REPO / folder).rglob("*.py"):
            member = f"{package}/{source.relative_to(REPO / folder).as_posix()}"
            assert member in names, f"{source} is missing from the wheel"
    assert "automl_studio/resources/iris.csv" in names
    assert "automl_studio/resources/templates/report.html.j2" in names  # the search report's page
    assert "automl_studio/resources/help/user_guide.md" in names  # Help ▸ User guide
    assert not any(n.startswith(("engine/", "gui/", "tests/")) for n in names)


def test_light_engine_modules_import_without_tensorflow_or_qt():
    code = (
        "import sys\n"
        "import automl_studio.engine.data.dataset, automl_studio.engine.data.profile, automl_studio.engine.space.spec\n"
        "import automl_studio.engine.space.shapes, automl_studio.engine.core.events, automl_studio.engine.process.runner\n"
        "import automl_studio.engine.export.model_info, automl_studio.engine.search.project, automl_studio.engine.space.templates\n"
        "bad = [m for m in ('tensorflow', 'keras', 'keras_tuner', 'PySide6', 'pyqtgraph') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_benchmarks_summary_table_is_generated_from_the_results_files():
    # BENCHMARKS.md's table must be what benchmarks/summary.py makes of benchmarks/results/*.json.
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "summary.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_the_corpus_row_judges_a_group_only_when_each_of_its_sets_has_every_seed():
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import summary
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    corpus = {"a": {"tuned_on": True}, "b": {"tuned_on": False}, "c": {"tuned_on": False}}

    def set_summary(seeds, gap, meets):
        return {"tuned_on": False, "metric": "accuracy", "seeds": seeds, "automl_mean": 0.9, "automl_worst": 0.88,
                "best_baseline": "random_forest", "best_baseline_mean": 0.9 - gap, "gap": gap,
                "meets_target": meets, "failed_searches": 0}

    def document(seeds_of_c):
        return {"targets": {"classification": 0.01, "regression": 0.02}, "budget_scale": 1.0, "engine_args": [],
                "complete": False, "corpus": corpus, "runs": [{}] * (3 + len(seeds_of_c)),
                "summary": {"b": set_summary([0, 1, 2], 0.0, True), "c": set_summary(seeds_of_c, -0.05, False)}}

    (row,) = summary.heldout_corpus(document([0, 1, 2]))  # the held-out sets alone, all seeds: judged
    assert row[0].startswith("Corpus of #16, held-out sets (2 sets, 6 runs") and row[3] == "**not met**: c"
    (row,) = summary.heldout_corpus(document([0, 1]))  # a seed missing: still open
    assert row[3].startswith("open: partial run (5 of 9")
