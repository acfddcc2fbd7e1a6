"""What a new user's walk through the window found untrue: a trial stopped before its first epoch
said to be "waiting" for one, and a resumed search still saying how the previous run stopped, with
an estimate of the time left made from trials that ran before it (real window, real searches)."""

from __future__ import annotations

import pytest
from conftest import IRIS
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from test_search_truth import end_search, feed
from test_trials_and_plots import search_events

from automl_studio.engine.core.events import SearchFinished, TrialEnded, TrialStarted


def test_a_trial_stopped_before_its_first_epoch_is_not_waiting_for_one(qtbot, window):
    page = window.search_page
    feed(page, search_events(1, 2))
    feed(page, [TrialStarted(trial_id="001", time=1002.0, hyperparameters={"units": 32}),
                TrialEnded(trial_id="001", status="stopped", score=None, duration_s=1.0, time=1003.0)])
    end_search(qtbot, page, SearchFinished.build("stopped", "stopped by the user", best_trial_id="000",
                                                 best_score=0.6))
    text = page.plots.empty_text("current")
    assert text is not None and "waiting" not in text
    assert text == "Current trial 001: stopped before its first epoch"


# Resume pressed right after a Stop: Qt sometimes says a timer was started from another thread
# (1 run in 3 here; the source, likely the search worker's thread, is not yet found).
@pytest.mark.qt_log_ignore(r"QBasicTimer::start: Timers cannot be started from another thread")
def test_a_resumed_search_drops_the_stopped_runs_words_and_estimates_from_its_own_trials(
        qtbot, iris_window, tmp_path):
    from test_search_end_to_end import SEARCH_TIMEOUT_MS, completed_trials, configure

    w = iris_window
    page = w.search_page
    configure(w, tmp_path / "resumed", trials=4, epochs=2)
    with qtbot.waitSignal(page.controller.runningChanged, timeout=10_000):
        w.findChild(QWidget, "startSearch").click()
    qtbot.waitUntil(lambda: completed_trials(w) >= 1, timeout=SEARCH_TIMEOUT_MS)
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        w.findChild(QWidget, "stopSearch").click()
    assert done.args[0].status == "stopped"
    n = completed_trials(w)
    said = f"Stopped after {n} trial"
    assert page.plots.batch_progress.format().startswith(said)
    assert w.statusBar().currentMessage().startswith(said)

    qtbot.waitUntil(lambda: w.act_resume.isEnabled(), timeout=30_000)
    w.act_resume.trigger()
    assert page.running
    page.plots.redraw()
    assert not page.plots.batch_progress.format().startswith("Stopped")
    assert not w.statusBar().currentMessage().startswith("Stopped")
    # No trial of this run has ended yet: nothing to estimate the time left from.
    assert page.progress_label.text().startswith(f"{n} of 4 trials")
    assert "left" not in page.progress_label.text()

    with qtbot.waitSignal(page.finished, timeout=120_000):
        w.findChild(QWidget, "stopSearch").click()


def test_ctrl_q_quits_where_the_platform_binds_no_key_to_quit(qtbot, window):
    assert window.act_quit.shortcut().toString() != ""
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_images_offer_no_row_filter_and_a_table_does(qtbot, window, image_npz):
    page = window.data_page
    with qtbot.waitSignal(page.datasetLoaded, timeout=120_000):
        window.open_dataset(str(image_npz))
    assert page.findChild(QWidget, "imageThumbnails").isVisible()
    assert not page.findChild(QWidget, "previewFilter").isVisible()
    with qtbot.waitSignal(page.datasetLoaded, timeout=120_000):
        window.open_dataset(str(IRIS))
    assert page.findChild(QWidget, "previewFilter").isVisible()


def test_a_one_epoch_trial_is_drawn_as_a_point_not_left_invisible(qtbot):
    from test_trials_and_plots import plots_after

    plots = plots_after(qtbot, 2, 1)
    plots.redraw()
    assert len(plots.series("val_loss")[0]) == 1
    assert plots._current_curves["val_loss"].opts["symbol"] == "o"  # a line of one point draws nothing
    assert plots._best_curve.opts["symbol"] == "o"
    assert plots._others.opts["symbol"] == "o"
    longer = plots_after(qtbot, 2, 3)
    longer.redraw()
    assert longer._current_curves["val_loss"].opts["symbol"] is None
    assert longer._best_curve.opts["symbol"] is None


def mixed_table(tmp_path):
    """Two category and two number columns, a yes/no label (the palette offers both category Inputs)."""
    path = tmp_path / "mixed.csv"
    rows = ["colour,shape,size,weight,label"] + [
        f"{['red', 'green', 'blue'][i % 3]},{['round', 'square'][i % 2]},{i % 7},{(i * 3) % 11},"
        f"{['yes', 'no'][(i // 3) % 2]}" for i in range(120)]
    path.write_text("\n".join(rows) + "\n")
    return path


def network_page_at_1024(qtbot, window, tmp_path):
    from conftest import wait_for_shapes

    window.resize(1024, 700)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=60_000):
        window.open_dataset(str(mixed_table(tmp_path)))
    wait_for_shapes(qtbot, window)
    window.nav.setCurrentRow(1)
    assert window.pages.currentWidget() is window.network_page
    return window.network_page.editor


def test_at_1024_by_700_every_palette_entry_reads_whole_in_the_window(qtbot, window, tmp_path):
    palette = network_page_at_1024(qtbot, window, tmp_path).palette_panel
    labels = palette.labels()
    assert len(labels) == len(set(labels))
    assert sum("ategor" in label for label in labels) == 2
    for label in labels:
        room = palette.tree.visualRect(palette.index_of(label)).width()
        assert palette.tree.fontMetrics().horizontalAdvance(label) + 8 <= room, f"{label!r} is cut"


def test_at_1024_by_700_a_refused_range_says_why_in_whole_lines(qtbot, window, tmp_path):
    from PySide6.QtWidgets import QLabel, QSpinBox
    from test_editor_truth import type_into

    from automl_studio.gui.editor.node_inspector import ParamEditor

    editor = network_page_at_1024(qtbot, window, tmp_path)
    editor.select_nodes(["dense"])
    units = editor.inspector.findChild(ParamEditor, "param_units")
    if not units.search.isChecked():
        qtbot.mouseClick(units.search, Qt.MouseButton.LeftButton)
    before = next(n for n in editor.spec()["nodes"] if n["id"] == "dense")["params"]["units"]
    type_into(qtbot, editor.inspector.findChild(QSpinBox, "param_units_min"), "4000")
    assert next(n for n in editor.spec()["nodes"] if n["id"] == "dense")["params"]["units"] == before
    message = editor.inspector.findChild(QLabel, "param_units_rangeError")
    assert message.isVisible() and "above the maximum" in message.text()
    # Wrapped in the narrow inspector, the message had fewer lines of room than it needs: cut.
    qtbot.waitUntil(lambda: message.height() >= message.heightForWidth(message.width()), timeout=5_000)


def test_a_load_error_says_the_previous_data_is_still_the_one_open(qtbot, iris_window, tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("a,b,c\n1,2\n3,4,5,6\n")
    with qtbot.waitSignal(iris_window.data_page.loadFailed, timeout=20_000):
        iris_window.open_dataset(str(bad))
    text = iris_window.data_page.banner.text()
    assert "broken.csv" in text and text.endswith("The open data is still iris.csv, unchanged.")
    assert iris_window.data_page.dataset.path.endswith("iris.csv")


def test_the_compare_table_with_no_trials_shows_its_column_names_whole(qtbot, iris_window):
    page = iris_window.compare_page
    iris_window.pages.setCurrentWidget(page)
    table = page.table
    header = table.horizontalHeader()
    qtbot.waitUntil(lambda: table.model().columnCount() > 0, timeout=5_000)
    assert table.model().rowCount() == 0
    for column in range(table.model().columnCount()):
        if table.isColumnHidden(column):
            continue
        name = str(table.model().headerData(column, Qt.Orientation.Horizontal))
        assert header.fontMetrics().horizontalAdvance(name) <= header.sectionSize(column), f"{name!r} is cut"


def test_other_data_is_refused_by_name_during_a_search_and_after_it_starts_an_empty_one(
        qtbot, iris_window, tmp_path):
    from test_search_end_to_end import SEARCH_TIMEOUT_MS, completed_trials, configure

    w = iris_window
    other = tmp_path / "other.csv"
    lines = IRIS.read_text().splitlines()
    other.write_text("\n".join(lines[:1] + lines[1::2]) + "\n")
    configure(w, tmp_path / "first", trials=3, epochs=2)
    with qtbot.waitSignal(w.search_page.controller.runningChanged, timeout=10_000):
        w.findChild(QWidget, "startSearch").click()
    qtbot.waitUntil(lambda: completed_trials(w) >= 1, timeout=SEARCH_TIMEOUT_MS)
    w.open_dataset(str(other))
    said = w.search_page.banner.text()
    assert "running on iris.csv" in said and "other.csv" in said and "still iris.csv" in said
    assert w.search_page.running and w.data_page.dataset.path.endswith("iris.csv")

    qtbot.waitUntil(lambda: not w.search_page.running and w.search_page.last_finish is not None,
                    timeout=SEARCH_TIMEOUT_MS)
    assert w.statusBar().currentMessage().startswith("Finished")
    with qtbot.waitSignal(w.data_page.datasetLoaded, timeout=60_000):
        w.open_dataset(str(other))
    # A new, empty search: nothing of the first one is said or offered.
    assert w.search_page.trials_model.rowCount() == 0
    assert not w.act_resume.isEnabled()
    assert w.statusBar().currentMessage() == ""  # was "Finished: … the model is on the Results page"
    assert w.search_page.plots.batch_progress.format() == "No search running"  # not "Waiting for …"


def test_an_idle_search_page_says_no_search_runs_not_that_it_waits_for_a_batch(qtbot, iris_window):
    page = iris_window.search_page
    iris_window.pages.setCurrentWidget(page)
    page.plots.redraw()
    assert not page.running
    assert page.plots.batch_progress.format() == "No search running"  # was "Waiting for the first batch"


def test_the_compare_page_with_one_trial_says_comparing_needs_two(qtbot, window):
    feed(window.search_page, search_events(1, 2))
    page = window.compare_page
    window.pages.setCurrentWidget(page)
    page.refresh()
    assert page.trials_model.rowCount() == 1
    # It said "1 trials. Select two or more to compare them." with one row to select.
    assert page.filter_label.text() == "1 trial: comparing needs two or more completed trials."
    hint = page.parallel_hint.text()
    assert not hint or hint.startswith("1 completed trial across")
    # The Compare trials tab did not ask for a selection of two there is no second trial for.
    assert page.compare_empty.text() == "One trial so far: comparing needs two or more completed trials."


def test_the_predict_page_offers_the_best_model_only_when_a_search_has_one(qtbot, window):
    window.nav.setCurrentRow(window.pages.indexOf(window.predict_page))
    qtbot.waitUntil(window.predict_page.isVisible, timeout=5000)
    page = window.predict_page
    assert not page.best_model_button.isEnabled()
    assert "No model open" in page.model_label.text()
    assert "use the best model" not in page.model_label.text()
