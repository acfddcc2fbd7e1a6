"""The search report: one self-contained HTML file made from a real finished project."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from automl_studio.engine.cli import main
from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.search.project import last_finish, read_trials

REPO = Path(__file__).resolve().parents[2]
IRIS = REPO / "resources" / "iris.csv"


class ReportPage(HTMLParser):
    """What a test reads back from the report: every tag's attributes, ids, tables' cells, text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.ids: set[str] = set()
        self.tables: dict[str, list[list[str]]] = {}
        self.text: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "table":
            self._table = attributes.get("id", f"table{len(self.tables)}")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def finished_project(tmp_path_factory) -> Path:
    """A real, tiny, finished iris search whose exported model averages two refits (and its
    evaluation: per class, input columns, layers, in best/evaluation.json)."""
    from automl_studio.engine.search.session import run_search

    project = tmp_path_factory.mktemp("report") / "iris"
    result = run_search(SearchConfig(data_path=str(IRIS), project_dir=str(project), tuner="random",
                                     max_trials=3, max_epochs=2, refits=2, export_keras=False, forest=False))
    assert result.status == "completed"
    return project


@pytest.mark.slow
def test_the_report_holds_every_trial_its_curves_the_best_metrics_and_baseline_with_no_network(
        finished_project, tmp_path, capsys):
    out = tmp_path / "iris report.html"
    assert main(["report", str(finished_project), "--output", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    page = ReportPage(out.read_text(encoding="utf-8"))

    # Nothing to fetch: no attribute points outside the file (no CDN, no web font, no script).
    for tag, attributes in page.tags:
        for name, value in attributes.items():
            if name in ("src", "href", "srcset", "data", "action"):
                assert not value.lower().startswith(("http:", "https:", "//", "ftp:")), (tag, name, value)
                assert tag != "script"
    assert not any(tag in ("script", "link", "iframe") for tag, _ in page.tags)
    images = [a["src"] for tag, a in page.tags if tag == "img"]
    assert len(images) >= 2 and all(src.startswith("data:image/png;base64,") for src in images)
    for src in images:  # each is a real PNG
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"

    trials = read_trials(finished_project)
    assert len(trials) == 3
    assert sum(tag == "svg" for tag, _ in page.tags) == 3  # a sparkline per trial
    header, *rows = page.tables["trials-table"]
    column = {name: i for i, name in enumerate(header)}
    assert [r[0] for r in rows] == list(trials)
    assert {f"trial-{tid}" for tid in trials} <= page.ids
    assert all(r[column["status"]] == "completed" and r[column["epochs"]] == "2" for r in rows)
    # A small table: the three trials were the finalists, and the exported one is marked.
    exported = [r[0] for r in rows if r[column["cross-validated"]].endswith("· exported")]
    assert len(exported) == 1 and all(r[column["cross-validated"]] for r in rows)

    finish = last_finish(finished_project)
    finish = finish.to_dict() if hasattr(finish, "to_dict") else finish
    metrics = {r[0]: r[1:] for r in page.tables["metrics"][1:]}
    assert metrics["accuracy"] == [f"{finish['test_metrics']['accuracy']:.4f}",
                                   f"{finish['baseline_metrics']['accuracy']:.4f}",
                                   f"{finish['baselines']['linear_test_metrics']['accuracy']:.4f}",
                                   f"{finish['baselines']['forest_test_metrics']['accuracy']:.4f}"]
    assert page.tables["metrics"][0] == ["metric", "best model", "baseline", "linear model", "random forest"]
    assert "RandomForestClassifier" in " ".join(page.text)
    assert "most common class" in " ".join(page.text)
    assert "LogisticRegression" in " ".join(page.text) and "the linear model" in " ".join(page.text).lower()
    assert page.tables["confusion-matrix"][0][1:] == ["setosa", "versicolor", "virginica"]
    assert [r[0] for r in page.tables["per-class"][1:]] == ["setosa", "versicolor", "virginica"]
    assert {r[0] for r in page.tables["column-importance"][1:]} == {
        "sepal_length", "sepal_width", "petal_length", "petal_width"}
    best_row = next(r for r in rows if r[0] == finish["best_trial_id"])
    assert best_row[column["score"]] == f"{finish['best_score']:.4f}"
    assert exported == [finish["best_trial_id"]]

    # The best model's layers, with shapes and parameter counts: two refits nested in one model.
    layers = page.tables["layers"][1:]
    assert "averages 2 refits" in " ".join(" ".join(page.text).split())
    dense = [r for r in layers if r[1] == "Dense"]
    assert dense and all(r[2].startswith("(None,") and int(r[3].replace(",", "")) > 0 for r in dense)
    # Profile, space, settings and the environment are there too.
    for section in ("data", "space", "settings", "trials", "curves", "best", "architecture", "importance",
                    "environment"):
        assert section in page.ids
    text = " ".join(page.text)
    assert "species" in text and "sepal_length" in text and "block.repeats" in text
    environment = {r[0]: r[1] for r in page.tables["environment-table"]}
    assert {"automl-studio", "tensorflow", "keras", "keras-tuner", "Python", "OS", "CPU cores", "Date"} <= set(environment)
    # The searched hyperparameters' importance, from the three trials.
    searched = {r[0] for r in page.tables["importance-table"][1:]}
    assert "training.learning_rate" in searched
    assert searched <= {r[0] for r in page.tables["hyperparameters-table"][1:]}
    shares = [float(r[1]) for r in page.tables["importance-table"][1:]]
    assert all(0 <= v <= 1 for v in shares) and round(sum(shares), 2) in (0.0, 1.0)
    settings = {r[0]: r[1] for r in page.tables["settings-table"][1:]}
    assert settings["max_trials"] == "3" and settings["tuner"] == "random"
    # The parallel-coordinates view: every completed trial as one line, an embedded PNG.
    parallel = [a for tag, a in page.tags if tag == "img" and a.get("alt") == "parallel coordinates of 3 completed trials"]
    assert len(parallel) == 1 and parallel[0]["src"].startswith("data:image/png;base64,")
    assert "parallel-coordinates" in page.ids


def test_a_folder_without_a_search_is_refused_in_one_line_naming_it(tmp_path, capsys):
    empty = tmp_path / "nothing here"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(empty) in err[0] and "holds no search" in err[0]
    assert not (empty / "report.html").exists()
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no such project folder" in capsys.readouterr().err


def test_a_stopped_search_without_a_model_still_gets_a_report_of_its_trials(tmp_path):
    from automl_studio.engine.search.report import write_report

    project = tmp_path / "stopped"
    project.mkdir()
    events = [{"type": "search_started", "profile": {"rows": 10, "target": "y", "task": "regression",
                                                     "warnings": ["column x: 3 missing values"]},
               "space_summary": {}, "settings": {"objective": "val_loss", "max_epochs": 5}, "project_dir": str(project)}]
    for tid, lr in (("0", 0.01), ("1", 0.001)):
        events.append({"type": "trial_started", "trial_id": tid, "hyperparameters": {"training.learning_rate": lr}})
        events += [{"type": "epoch_ended", "trial_id": tid, "epoch": e, "metrics": {"loss": 1 / e, "val_loss": 1.5 / e}}
                   for e in (1, 2, 3)]
    events.append({"type": "trial_ended", "trial_id": "0", "status": "completed", "score": 0.5, "duration_s": 2.0})
    events.append({"type": "search_finished", "status": "stopped", "best_trial_id": "0", "best_score": 0.5,
                   "message": "stopped by the user"})  # trial 1 was cut: no trial_ended
    (project / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")

    path = Path(write_report(str(project)))
    assert path == project / "report.html"
    page = ReportPage(path.read_text(encoding="utf-8"))
    rows = page.tables["trials-table"][1:]
    assert [r[0] for r in rows] == ["0", "1"]
    assert rows[0][1] == "completed" and rows[1][1].startswith("stopped")
    assert sum(tag == "svg" for tag, _ in page.tags) == 2
    text = " ".join(" ".join(page.text).split())
    assert "no model was exported" in text and "column x: 3 missing values" in text
    assert "needs at least 3 completed trials" in text and "stopped by the user" in text
