"""A corpus of bad inputs: each one must be refused with one clear line, and nothing else.

Small text cases live in ``bad_inputs/`` (readable, reviewable); binary ones (junk, images,
NumPy archives, HDF5) are made at test time into ``tmp_path`` so no junk is committed. Every
case names the entry point it goes through, the :class:`UserError` subclass it must raise and a
pattern the message must match — one that names the file and the row, column, key or node.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from datafiles import IRIS, make_image_folder, write_png

from automl_studio.engine.core.errors import (
    DataError,
    ModelFileError,
    ProjectError,
    SpecError,
    UserError,
)
from automl_studio.engine.data.features import prepare_data
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import profile_dataset
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.export.model_info import model_config, read_metadata
from automl_studio.engine.search.project import PROJECT_SCHEMA_VERSION, ProjectFile
from automl_studio.engine.space import shapes
from automl_studio.engine.space.spec import SearchSpace

CORPUS = Path(__file__).parent / "bad_inputs"
CLI = Path(sys.executable).with_name("automl-studio")


# --- how each input is made -------------------------------------------------------------------

Maker = Callable[[Path], Path]


COMMITTED_USED: set[str] = set()


def corpus(name: str) -> Maker:
    COMMITTED_USED.add(name)
    return lambda tmp: CORPUS / name


def raw(name: str, data: bytes) -> Maker:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path

    return make


def npz(name: str = "data.npz", **arrays: Any) -> Maker:
    def make(tmp: Path) -> Path:
        path = tmp / name
        np.savez(path, **arrays)
        return path

    return make


def npy_pair(x: np.ndarray, y: np.ndarray | None, y_name: str = "y.npy") -> Maker:
    def make(tmp: Path) -> Path:
        np.save(tmp / "X.npy", x)
        if y is not None:
            np.save(tmp / y_name, y)
        return tmp / "X.npy"

    return make


def npy_as_npz(tmp: Path) -> Path:
    np.save(tmp / "arrays.npy", np.zeros((3, 2)))
    return (tmp / "arrays.npy").rename(tmp / "arrays.npz")


def npz_as_npy(tmp: Path) -> Path:
    np.savez(tmp / "X.npz", x=np.zeros((3, 2)), y=np.arange(3))
    return (tmp / "X.npz").rename(tmp / "X.npy")


def cut_npz(tmp: Path) -> Path:
    path = npz(x=np.ones((100, 3)), y=np.arange(100))(tmp)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def damaged_npz(tmp: Path) -> Path:
    path = npz(x=np.ones((100, 3)), y=np.arange(100))(tmp)
    data = bytearray(path.read_bytes())
    start = data.index(b"\x93NUMPY") + 300  # inside x's values: the zip's CRC no longer holds
    data[start:start + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    return path


def cut_npy(tmp: Path) -> Path:
    np.save(tmp / "X.npy", np.arange(1000.0))
    data = (tmp / "X.npy").read_bytes()
    (tmp / "X.npy").write_bytes(data[:300])
    return tmp / "X.npy"


def with_nan(value: float, index: int) -> np.ndarray:
    x = np.ones((8, 3), dtype=np.float32)
    x[index, 1] = value
    return x


def images(counts: dict[str, int], extra: dict[str, bytes] | None = None) -> Maker:
    def make(tmp: Path) -> Path:
        root = make_image_folder(tmp / "photos", counts)
        for rel, data in (extra or {}).items():
            (root / rel).write_bytes(data)
        return root

    return make


def truncated_png(tmp: Path) -> Path:
    root = make_image_folder(tmp / "photos", {"cats": 2, "dogs": 2})
    whole = write_png(tmp / "whole.png", size=(48, 48)).read_bytes()
    (root / "dogs" / "cut.png").write_bytes(whole[: len(whole) // 3])
    return root


def wide_header(tmp: Path) -> Path:
    path = tmp / "wide.csv"
    path.write_text(",".join(f"gene{i}" for i in range(100_000)) + "\n" + ",".join(["0"] * 100_000) + "\n")
    return path


def many_classes(tmp: Path) -> Path:
    path = tmp / "ids_as_labels.csv"
    rng = np.random.default_rng(0)
    lines = ["x,code"] + [f"{v:.4f},c{i}" for i, v in enumerate(rng.random(1200))]
    lines.insert(5, "0.5,c0")
    path.write_text("\n".join(lines) + "\n")
    return path


def hdf5(name: str, attrs: dict[str, str]) -> Maker:
    def make(tmp: Path) -> Path:
        import h5py

        path = tmp / name
        with h5py.File(path, "w") as handle:
            handle.create_dataset("weights", data=np.zeros(3))
            for key, value in attrs.items():
                handle.attrs[key] = value
        return path

    return make


def truncated_hdf5(tmp: Path) -> Path:
    path = hdf5("cut.h5", {"model_config": "{}"})(tmp)
    data = path.read_bytes()
    path.write_bytes(data[:200])
    return path


def keras_zip_without_config(tmp: Path) -> Path:
    path = tmp / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", "{}")
    return path


def keras_zip_damaged_metadata(tmp: Path) -> Path:
    path = tmp / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("automl_studio.json", "{broken")
    return path


def missing(name: str) -> Maker:
    return lambda tmp: tmp / name


# --- which entry point reads it ---------------------------------------------------------------

TABLE_SIGNATURE = DataSignature(task="classification", n_classes=3, inputs={"numeric": (4,)})


def load(path: Path) -> Any:
    return load_dataset(path)


def load_keys(x_key: str | None = None, y_key: str | None = None) -> Callable[[Path], Any]:
    return lambda path: load_dataset(path, x_key=x_key, y_key=y_key)


def profile(target: str | None = None, task: str = "auto") -> Callable[[Path], Any]:
    return lambda path: profile_dataset(load_dataset(path), target, task)


def prepare(path: Path) -> Any:
    dataset = load_dataset(path)
    return prepare_data(dataset, profile_dataset(dataset))


def project(path: Path) -> Any:
    return ProjectFile.load(path)


def spec(path: Path) -> Any:
    return SearchSpace.load(path)


def spec_checked(path: Path) -> Any:
    shapes.validate(SearchSpace.load(path), TABLE_SIGNATURE)


def metadata(path: Path) -> Any:
    return read_metadata(path)


def config(path: Path) -> Any:
    return model_config(path)


@dataclass(frozen=True)
class Case:
    name: str
    make: Maker
    call: Callable[[Path], Any]
    error: type[UserError]
    pattern: str  # re.search on the message; {name} is the input's file name

    def __str__(self) -> str:
        return self.name


PNG = b"\x89PNG\r\n\x1a\n"
OBJECTS = np.array([{"a": 1}, None, "text"], dtype=object)

CASES = [
    # -- tables
    Case("empty file", raw("empty.csv", b""), load, DataError, r"{name}: the file is empty$"),
    Case("only blank lines", corpus("blank_lines.csv"), load, DataError, r"{name}: the file holds no data"),
    Case("header only", corpus("header_only.csv"), load, DataError,
         r"{name}: the file has a header but no data rows"),
    Case("header only, semicolons", corpus("header_only_semicolon.csv"), load, DataError,
         r"{name}: the file has a header but no data rows"),
    Case("ragged row", corpus("ragged_row.csv"), load, DataError,
         r"{name}: line 4 has 4 fields but the header has 3 \(a ragged row\)"),
    Case("ragged row far down", corpus("ragged_row_late.csv"), load, DataError,
         r"{name}: line 151 has 5 fields but the header has 3"),
    Case("duplicate header", corpus("duplicate_header.csv"), load, DataError,
         r"{name}: the header names these columns twice: size$"),
    Case("binary junk named .csv", raw("junk.csv", bytes(np.random.default_rng(0).integers(0, 256, 5000,
                                                                                            dtype=np.uint8))),
         load, DataError, r"{name}: this is not a text file"),
    Case("a PNG named .csv", raw("picture.csv", PNG + bytes(100)), load, DataError,
         r"{name}: this is not a text file"),
    Case("gzip named .csv", raw("packed.csv", gzip.compress(b"a,b\n1,2\n" * 100)), load, DataError,
         r"{name}: this is not a text file"),
    Case("control characters", raw("control.csv", bytes(range(1, 32)) * 50), load, DataError,
         r"{name}: this is not a text file \(mostly unprintable"),
    Case("UTF-16 mark on non-UTF-16 bytes", raw("mark.csv", b"\xff\xfea\x00,\x00\x00\xd8"), load, DataError,
         r"{name}: the file starts with a UTF-16 mark but is not UTF-16"),
    Case("100,000-column header", wide_header, load, DataError,
         r"{name}: the header has [\d,]+ columns; automl-studio reads at most 10,000"),
    Case("missing data file", missing("gone.csv"), load, DataError, r"{name}: no such file or folder"),
    # -- targets
    Case("target all missing", corpus("target_all_missing.csv"), profile("label"), DataError,
         r"{name}: the target column 'label' has no values \(all missing\)"),
    Case("target with one class", corpus("target_one_class.csv"), profile("label"), DataError,
         r"{name}: the target 'label' has a single class \('spam'\)"),
    Case("regression target with text", corpus("regression_target_text.csv"), profile("price", "regression"),
         DataError, r"{name}: the target 'price' has text \('call us' in row 28\)"),
    Case("unknown target column", corpus("unknown_target.csv"), profile("price"), DataError,
         r"{name}: no column named 'price'; the columns are: x, y"),
    Case("no feature columns", corpus("no_feature_columns.csv"), profile("label"), DataError,
         r"{name}: no usable feature columns besides the target 'label'"),
    Case("an ID column as target", many_classes, profile("code"), DataError,
         r"{name}: the target 'code' has 1200 classes"),
    # -- NumPy
    Case("npz missing keys", npz(alpha=np.zeros((4, 2)), beta=np.arange(4)), load, DataError,
         r"{name}: no array named 'x'; it holds alpha, beta"),
    Case("npz holding nothing", npz(), load, DataError, r"{name}: no array named 'x'; it holds nothing"),
    Case("npz missing the named y key", npz(x=np.zeros((4, 2)), y=np.arange(4)), load_keys(y_key="labels"),
         DataError, r"{name}: no array named 'labels'; it holds x, y"),
    Case("npz mismatched lengths", npz(x=np.zeros((6, 2)), y=np.arange(5)), load, DataError,
         r"{name}: 'x' has 6 rows but 'y' has 5"),
    Case("npz NaN in x", npz(x=with_nan(np.nan, 5), y=np.arange(8)), load, DataError,
         r"{name}: 'x' holds NaN or infinite values \(1 rows; first at index 5\)"),
    Case("npz inf in x", npz(x=with_nan(np.inf, 2), y=np.arange(8)), load, DataError,
         r"{name}: 'x' holds NaN or infinite values \(1 rows; first at index 2\)"),
    Case("npz NaN in y", npz(x=np.zeros((4, 2)), y=np.array([0.0, 1.0, np.nan, 1.0])), load, DataError,
         r"{name}: 'y' holds NaN or infinite values \(first at index 2\)"),
    Case("npz x of rank 1", npz(x=np.zeros(6), y=np.arange(6)), load, DataError,
         r"{name}: 'x' has shape \(6,\); expected rank 2"),
    Case("npz x of rank 5", npz(x=np.zeros((3, 2, 2, 2, 2)), y=np.arange(3)), load, DataError,
         r"{name}: 'x' has shape \(3, 2, 2, 2, 2\); expected rank 2"),
    Case("npz y of rank 2", npz(x=np.zeros((3, 2)), y=np.zeros((3, 4))), load, DataError,
         r"{name}: 'y' has shape \(3, 4\); expected one label per row"),
    Case("npz of Python objects", npz(x=OBJECTS, y=np.arange(3)), load, DataError,
         r"{name}: holds Python objects, which are not loaded for safety"),
    Case("npz of strings", npz(x=np.array([["a", "b"]] * 3), y=np.arange(3)), load, DataError,
         r"{name}: 'x' has dtype <U1; expected numbers"),
    Case("npz that is text", raw("notes.npz", b"x = [1, 2, 3]\n"), load, DataError,
         r"{name}: not a readable \.npz file$"),
    Case("npy pair of different lengths", npy_pair(np.zeros((5, 2)), np.arange(4)), load, DataError,
         r"{name}: 'X\.npy' has 5 rows but 'y\.npy' has 4"),
    Case("npy of Python objects", npy_pair(OBJECTS, None), load, DataError, r"{name}: holds Python objects"),
    Case("npy that is text", raw("X.npy", b"1 2 3\n4 5 6\n"), load, DataError,
         r"{name}: not a readable \.npy file$"),
    Case("npz cut in half", cut_npz, load, DataError, r"{name}: not a readable \.npz file \(BadZipFile\)"),
    Case("npz with a damaged member", damaged_npz, load, DataError,
         r"{name}: the array 'x' is damaged \(BadZipFile\)"),
    Case("npy cut short", cut_npy, load, DataError, r"{name}: not a readable \.npy file \(ValueError\)"),
    Case("npz archive named .npy", npz_as_npy, load, DataError,
         r"{name}: not a readable \.npy file \(it is an \.npz archive\)"),
    Case("npy array named .npz", npy_as_npz, load, DataError,
         r"{name}: not a readable \.npz file \(it is a single \.npy array\)"),
    Case("npy named label file missing", npy_pair(np.zeros((5, 2)), None), load_keys(y_key="/nowhere/y.npy"),
         DataError, r"y\.npy: no such label file"),
    # -- images
    Case("zero-byte image", images({"cats": 3, "dogs": 3}, {"dogs/empty.png": b""}), load, DataError,
         r"dogs/empty\.png: the image file is empty \(0 bytes\)"),
    Case("text named .png", images({"cats": 3, "dogs": 3}, {"cats/note.png": b"hello"}), load, DataError,
         r"cats/note\.png: not a readable image"),
    Case("PNG header only", images({"cats": 3, "dogs": 3}, {"cats/stub.png": PNG}), load, DataError,
         r"cats/stub\.png: not a readable image"),
    Case("truncated PNG", truncated_png, load, DataError, r"dogs/cut\.png: not a readable image"),
    Case("single class folder", images({"cats": 4}), load, DataError,
         r"photos: only one class folder \('cats'\); a classifier needs two"),
    Case("empty class folder", images({"cats": 4, "dogs": 0}), load, DataError,
         r"photos/dogs: the class folder 'dogs' holds no images \(PNG, JPEG"),
    Case("no class folders", images({}), load, DataError,
         r"photos: an image folder needs one subfolder per class"),
    Case("one image per class", images({"cats": 1, "dogs": 1}), prepare, DataError,
         r"photos: too few rows \(2\) to train and validate a model"),
    # -- project files
    Case("project file cut short", corpus("project_truncated.automl.json"), project, ProjectError,
         r"{name}: not a project file \(not valid JSON"),
    Case("project file of binary bytes", raw("junk.automl.json", b"\xff\xfe\x00\x81" * 20), project,
         ProjectError, r"{name}: not a project file"),
    Case("project file that is a list", corpus("project_list.automl.json"), project, ProjectError,
         r"{name}: not an automl-studio project file"),
    Case("project file of another app", corpus("project_not_ours.automl.json"), project, ProjectError,
         r"{name}: not an automl-studio project file"),
    Case("project file without version", corpus("project_no_version.automl.json"), project, ProjectError,
         r"{name}: the project file has no schema_version"),
    Case("project file from the future", corpus("project_future.automl.json"), project, ProjectError,
         r"{name}: written by a newer automl-studio \(project schema 7; this version reads up to "
         + str(PROJECT_SCHEMA_VERSION) + r"\)"),
    Case("project file without search", corpus("project_no_search.automl.json"), project, ProjectError,
         r"{name}: the project file has no valid 'search' section"),
    Case("project file with a malformed setting", corpus("project_bad_setting.automl.json"), project,
         ProjectError, r"{name}: the 'search' section is malformed"),
    Case("missing project file", missing("nothing.automl.json"), project, ProjectError,
         r"{name}: no such project file"),
    # -- search specs
    Case("spec with an unknown layer type", corpus("spec_unknown_layer.json"), spec, SpecError,
         r"{name}: node 'hidden' has unknown layer type 'Dense3'"),
    Case("spec with min above max", corpus("spec_min_above_max.json"), spec, SpecError,
         r"{name}: node 'hidden' param 'units': int range needs min ≤ max"),
    Case("spec with a log range from zero", corpus("spec_log_from_zero.json"), spec, SpecError,
         r"{name}: node 'drop' param 'rate': a log-scale range needs min > 0"),
    Case("spec with a value out of bounds", corpus("spec_outside_bounds.json"), spec, SpecError,
         r"{name}: node 'drop' param 'rate' = 1\.5 is outside"),
    Case("spec with an unknown param", corpus("spec_unknown_param.json"), spec, SpecError,
         r"{name}: node 'hidden' \(Dense\) has no param 'neurons'"),
    Case("spec with an impossible learning rate", corpus("spec_bad_learning_rate.json"), spec, SpecError,
         r"{name}: training 'learning_rate': a log-scale range needs min > 0"),
    Case("spec from the future", corpus("spec_future.json"), spec, SpecError,
         r"{name}: written by a newer automl-studio \(spec schema 3"),
    Case("spec cut short", corpus("spec_truncated.json"), spec, SpecError, r"{name}: not a spec file"),
    Case("spec with a cycle", corpus("spec_cycle.json"), spec_checked, SpecError,
         r"the graph has a cycle through '(join|loop)'"),
    Case("spec with Conv2D on a flat tensor", corpus("spec_conv_on_flat.json"), spec_checked, SpecError,
         r"Conv2D 'conv' needs an image \(height, width, channels\) \(rank 3\), got shape \(64,\)"),
    Case("missing spec file", missing("nothing.json"), spec, SpecError, r"{name}: no such spec file"),
    # -- model files
    Case("model .h5 that is text (metadata)", corpus("model_text.h5"), metadata, ModelFileError,
         r"{name}: not an HDF5 model file"),
    Case("model .h5 that is text (config)", corpus("model_text.h5"), config, ModelFileError,
         r"{name}: not an HDF5 model file"),
    Case("model .keras that is not a zip", corpus("model_text.keras"), metadata, ModelFileError,
         r"{name}: a damaged \.keras file"),
    Case("truncated HDF5", truncated_hdf5, metadata, ModelFileError, r"{name}: not an HDF5 model file"),
    Case("HDF5 without a model", hdf5("weights.h5", {}), config, ModelFileError,
         r"{name}: an HDF5 file without a Keras model in it"),
    Case("HDF5 with damaged metadata", hdf5("model.h5", {"automl_studio": "{oops"}), metadata,
         ModelFileError, r"{name}: its automl-studio metadata is damaged"),
    Case("HDF5 with a damaged model config", hdf5("model.h5", {"model_config": "[1, 2"}), config,
         ModelFileError, r"{name}: its model config is damaged"),
    Case(".keras without config.json", keras_zip_without_config, config, ModelFileError,
         r"{name}: not a \.keras model file"),
    Case(".keras with damaged metadata", keras_zip_damaged_metadata, metadata, ModelFileError,
         r"{name}: a damaged \.keras file"),
    Case("missing model file", missing("gone.h5"), metadata, ModelFileError, r"{name}: no such model file"),
]


def test_the_corpus_is_large_and_every_committed_file_is_used() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    committed = {p.name for p in CORPUS.iterdir()}
    assert committed == COMMITTED_USED
    assert all((CORPUS / name).is_file() for name in COMMITTED_USED)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_is_refused_with_one_clear_line(case: Case, tmp_path: Path) -> None:
    path = case.make(tmp_path)
    pattern = case.pattern.replace("{name}", _escaped(path.name))

    with pytest.raises(UserError) as info:  # anything else escapes and fails the test
        case.call(path)

    error = info.value
    assert type(error) is case.error
    assert "\n" not in str(error), "the message is one line"
    assert len(str(error)) < 600
    assert _search(pattern, error.message), f"{error.message!r} does not match {pattern!r}"


UNKNOWN_TUNER = corpus("project_unknown_tuner.automl.json")


def test_project_file_with_an_unknown_tuner_names_the_file() -> None:
    path = UNKNOWN_TUNER(Path())
    with pytest.raises(ProjectError, match=r"project_unknown_tuner\.automl\.json: .*tuner 'magic'"):
        ProjectFile.load(path)


def test_a_class_folder_with_one_image_is_a_note_not_an_error(tmp_path: Path) -> None:
    dataset = load_dataset(make_image_folder(tmp_path / "photos", {"cats": 5, "dogs": 1}))
    assert dataset.notes == ("class 'dogs' has only 1 image(s)",)


def _escaped(name: str) -> str:
    return re.escape(name)


def _search(pattern: str, message: str) -> bool:
    return re.search(pattern, message) is not None


# --- the same inputs through the command line --------------------------------------------------

CLI_CASES = [
    ("empty file", ["search", "{path}"]),
    ("header only", ["search", "{path}"]),
    ("ragged row", ["search", "{path}"]),
    ("binary junk named .csv", ["search", "{path}"]),
    ("target with one class", ["search", "{path}", "--target", "label"]),
    ("regression target with text", ["search", "{path}", "--target", "price", "--task", "regression"]),
    ("npz missing keys", ["search", "{path}"]),
    ("single class folder", ["search", "{path}"]),
    ("spec with an unknown layer type", ["search", str(IRIS), "--space", "{path}"]),
    ("model .h5 that is text (metadata)", ["info", "{path}"]),
]


@pytest.mark.skipif(not CLI.exists(), reason="the automl-studio script is not installed beside Python")
@pytest.mark.parametrize("name, argv", CLI_CASES, ids=[n for n, _ in CLI_CASES])
def test_command_line_prints_one_error_line_and_exits_2(name: str, argv: list[str], tmp_path: Path) -> None:
    (case,) = [c for c in CASES if c.name == name]
    path = case.make(tmp_path)
    args = [a.replace("{path}", str(path)) for a in argv]
    if args[0] == "search":
        args += ["--project", str(tmp_path / "project")]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    done = subprocess.run([str(CLI), *args], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path)

    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    last = lines[-1]
    assert last.startswith("automl-studio: error: ")
    assert _search(case.pattern.replace("{name}", _escaped(path.name)), last), last
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(not CLI.exists(), reason="the automl-studio script is not installed beside Python")
def test_a_column_given_two_kinds_on_the_command_line_is_refused_naming_it(tmp_path: Path) -> None:
    done = subprocess.run([str(CLI), "search", str(IRIS), "--numeric", "sepal_length", "--categorical",
                           "sepal_length", "--text", "petal_width", "--project", str(tmp_path / "project")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == ("automl-studio: error: 'sepal_length': one kind per column "
                                                    "(--numeric, --categorical or --text)")
    assert not (tmp_path / "project").exists()
