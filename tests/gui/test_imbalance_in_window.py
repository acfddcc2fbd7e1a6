"""The Search page's automatic objective follows the loaded data: validation ROC AUC for a
two-class table with a rare class (5 % positives), the validation loss otherwise."""

from __future__ import annotations

import numpy as np


def test_the_automatic_objective_of_a_table_with_5_percent_positives_is_roc_auc(qtbot, window, tmp_path):
    rng = np.random.default_rng(5)
    yes = rng.permutation(200) < 10
    rows = ["x1,x2,label"] + [f"{a:.4f},{b:.4f},{'yes' if c else 'no'}"
                              for a, b, c in zip(rng.normal(size=200) + 2 * yes, rng.normal(size=200), yes,
                                                 strict=True)]
    path = tmp_path / "rare.csv"
    path.write_text("\n".join(rows) + "\n")
    # The first data a window reads also imports the profiling libraries (slow on a busy machine).
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=90_000):
        window.open_dataset(str(path))
    assert window.data_page.profile.task == "classification"

    combo = window.search_page.objective_combo
    assert combo.itemData(0) is None and "val_auc" in combo.itemText(0)


def test_the_automatic_objective_of_iris_stays_the_loss(qtbot, iris_window):
    combo = iris_window.search_page.objective_combo
    assert combo.itemData(0) is None and "val_loss" in combo.itemText(0)
