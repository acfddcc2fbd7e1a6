"""How long the network editor's always-on validation takes: ``shapes.analyse`` on every edit.

Measures, in the same run and process:

* baseline: a trivial 2-node graph (numeric Input → Output);
* large: a 100-node graph — one Input, 24 towers of Dense → optional BatchNormalization →
  Dropout → Dense (each tower's first two layers a repeat block run 1–3 times, every Dense
  width and dropout rate a search range), a Concatenate of the towers, a Dense and the Output.

For each: ``SearchSpace.from_dict`` (the editor parses the spec on every edit) and
``analyse`` separately, median over ``--repeats`` runs after a warm-up. With ``--gui`` (needs
PySide6; runs offscreen) it also times one whole editor edit of the large graph: a param change
pushed as an undo command, parsed, analysed and redrawn (canvas items synced).

Target: ``analyse`` of the 100-node graph under 50 ms.

Run: ``.venv/bin/python benchmarks/editor_validation.py [--repeats 50] [--gui]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.shapes import analyse
from automl_studio.engine.space.spec import SearchSpace

SIGNATURE = DataSignature("classification", 3, {"numeric": (20,)}, numeric_mean=(0.0,) * 20,
                          numeric_variance=(1.0,) * 20)


def trivial_spec() -> dict[str, Any]:
    return {"schema_version": 1, "name": "trivial",
            "nodes": [{"id": "numeric", "type": "Input", "params": {"source": "numeric"}},
                      {"id": "head", "type": "Output", "params": {}}],
            "edges": [["numeric", "head"]], "repeats": [], "training": {}}


def large_spec(towers: int = 24) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "numeric", "type": "Input", "params": {"source": "numeric"}}]
    edges: list[list[str]] = []
    repeats: list[dict[str, Any]] = []
    ends = []
    for t in range(towers):
        a, b, c, d = f"t{t}_dense", f"t{t}_norm", f"t{t}_drop", f"t{t}_out"
        nodes += [
            {"id": a, "type": "Dense", "params": {"units": {"hp": "int", "min": 8, "max": 128, "step": 8},
                                                  "activation": {"hp": "choice", "values": ["relu", "gelu"]}}},
            {"id": b, "type": "BatchNormalization", "params": {}, "optional": True},
            {"id": c, "type": "Dropout", "params": {"rate": {"hp": "float", "min": 0.0, "max": 0.5}}},
            {"id": d, "type": "Dense", "params": {"units": 16}},
        ]
        edges += [["numeric", a], [a, b], [b, c], [c, d]]
        repeats.append({"id": f"t{t}_block", "nodes": [a, b], "min": 1, "max": 3})
        ends.append(d)
    nodes += [{"id": "merge", "type": "Concatenate", "params": {}},
              {"id": "top", "type": "Dense", "params": {"units": {"hp": "int", "min": 16, "max": 64}}},
              {"id": "head", "type": "Output", "params": {}}]
    edges += [[e, "merge"] for e in ends] + [["merge", "top"], ["top", "head"]]
    return {"schema_version": 1, "name": "large", "nodes": nodes, "edges": edges, "repeats": repeats,
            "training": {"learning_rate": {"hp": "float", "min": 1e-4, "max": 1e-2, "log": True}}}


def median_ms(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--gui", action="store_true", help="also time a whole editor edit (offscreen Qt)")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"median of {args.repeats} runs")
    results = {}
    for name, spec in (("baseline (2 nodes)", trivial_spec()), ("large (100 nodes)", large_spec())):
        assert name.startswith("baseline") or len(spec["nodes"]) == 100
        space = SearchSpace.from_dict(spec)
        analysis = analyse(space, SIGNATURE)
        assert analysis.valid, analysis.issues
        parse, parse_max = median_ms(lambda s=spec: SearchSpace.from_dict(s), args.repeats)
        check, check_max = median_ms(lambda sp=space: analyse(sp, SIGNATURE), args.repeats)
        results[name] = check
        print(f"{name:<20} from_dict {parse:7.2f} ms (max {parse_max:6.2f})   "
              f"analyse {check:7.2f} ms (max {check_max:6.2f})   "
              f"params {analysis.params_min:,}–{analysis.params_max:,}")
    large = results["large (100 nodes)"]
    print(f"analyse, 100 nodes vs 2: {large:.2f} ms vs {results['baseline (2 nodes)']:.3f} ms; "
          f"target < 50 ms: {'met' if large < 50 else 'MISSED'}")
    if args.gui:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        from automl_studio.gui.editor.network_editor import NetworkEditor

        app = QApplication.instance() or QApplication([])
        editor = NetworkEditor()
        editor.resize(1400, 900)
        editor.set_signature(SIGNATURE)
        editor.set_spec(large_spec())
        editor.show()
        app.processEvents()
        widths = iter(range(10_000))

        def edit() -> None:
            editor.set_param("top", "units", 16 + next(widths) % 48)

        whole, whole_max = median_ms(edit, args.repeats)
        print(f"editor edit, 100 nodes (command + parse + analyse + redraw): {whole:.1f} ms "
              f"(max {whole_max:.1f})")
        editor.close()
        results["editor edit (100 nodes)"] = whole
    from results_file import write_results

    write_results("editor_validation", {"repeats": args.repeats, "median_ms": results, "target_ms": 50})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
