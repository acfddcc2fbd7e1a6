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


def _benchmark_module(name):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))


def _corpus_part(commit, sets, seeds=(0, 1, 2)):
    # A heldout_corpus.py results file of ``sets`` (name -> (tuned_on, automl score, baseline score)).
    runs = [{"dataset": name, "seed": seed, "automl": {"score": auto, "trials": {"completed": 3}},
             "baselines": {"logistic": {"score": base}}}
            for seed in seeds for name, (_tuned, auto, base) in sets.items()]
    return {"schema_version": 1, "benchmark": "heldout_corpus", "run": {"commit": commit * 40},
            "results": {"budget_scale": 1.0, "engine_args": [], "seeds_asked": list(seeds),
                        "datasets_asked": list(sets), "targets": {"classification": 0.01, "regression": 0.02},
                        "corpus": {}, "runs": runs,
                        "datasets": {name: {"tuned_on": tuned, "task": "classification"}
                                     for name, (tuned, _a, _b) in sets.items()}}}


def test_a_corpus_measured_in_parts_is_merged_and_judged_as_a_whole(tmp_path):
    import json

    corpus = _benchmark_module("heldout_corpus")
    summary = _benchmark_module("summary")
    first, second, output = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "merged.json"
    first.write_text(json.dumps(_corpus_part("a", {"x": (False, 0.90, 0.89), "y": (False, 0.80, 0.805)})))
    second.write_text(json.dumps(_corpus_part("b", {"z": (True, 0.70, 0.70), "w": (True, 0.95, 0.94)})))
    corpus.merge([first, second], output)
    merged = json.loads(output.read_text())
    assert {(r["dataset"], r["seed"]) for r in merged["results"]["runs"]} == {
        (name, seed) for name in "xyzw" for seed in (0, 1, 2)}
    assert [part["commit"][:1] for part in [merged["run"], *merged["run"]["resumed"]]] == ["a", "b"]
    assert summary._commit(merged["run"]) == f"`{'a' * 7}`, `{'b' * 7}`"
    results = {**merged["results"], "complete": True}
    *_, whole = summary.heldout_corpus(results)
    # All four within the target; x and w ahead (z ties): half, so met.
    assert whole[2].startswith("within on **4 of 4**; ahead on **2 of 4** (x, w)") and whole[3] == "met"
    results["summary"]["w"] = {**results["summary"]["w"], "gap": 0.0}
    assert summary.heldout_corpus(results)[-1][3] == "**not met**"  # one of four ahead: under half
    with pytest.raises(SystemExit, match="x seed 0 is also in"):
        corpus.merge([first, first], tmp_path / "twice.json")
