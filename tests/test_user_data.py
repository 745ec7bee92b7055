"""Tests of tasks on a user's own data (docs/user_data.md): the
``user_regression_task`` / ``user_binary_classification_task`` specs, their
.npz / .csv files, ``tasks_from_arrays`` and ``user_task_spec``."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from automl_zero.config import config_from_dict, load_config
from automl_zero.engine.evaluator import Evaluator
from automl_zero.errors import ConfigError, DataError
from automl_zero.executor import MemorySpec
from automl_zero.language.generator import linear_algorithm
from automl_zero.run.cli import cli
from automl_zero.tasks import (
    DEFAULT_DATA_SEEDS,
    EvalType,
    TaskSpec,
    create_task,
    load_user_data,
    make_tasks,
    randomize_task_seeds,
    save_user_data,
    tasks_from_arrays,
    user_task_spec,
)
from automl_zero.tasks._projection import random_projection

REG = "user_regression_task"
CLS = "user_binary_classification_task"
ROOT = Path(__file__).resolve().parent.parent
LINEAR_REGRESSOR = ROOT / "examples" / "linear_regressor.txt"


def _data(n: int = 60, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features and noiseless linear labels."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    return x, x @ np.arange(1.0, d + 1.0)


def _csv(path: Path, x: np.ndarray, y: np.ndarray, header: bool = True,
         label_first: bool = False) -> Path:
    names = [f"x{j}" for j in range(x.shape[1])]
    cols = [y[:, None], x] if label_first else [x, y[:, None]]
    table = np.concatenate(cols, axis=1)
    lines = ["# made by test_user_data.py", ""]
    if header:
        lines.append(",".join(["y", *names] if label_first else [*names, "y"]))
    lines += [",".join(repr(float(v)) for v in row) for row in table]
    path.write_text("\n".join(lines) + "\n")
    return path


def _npz(path: Path, **arrays) -> Path:
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def _spec(path: Path, task_type: str = REG, **kw) -> TaskSpec:
    return TaskSpec.from_dict({"task_type": task_type, "path": str(path), **kw}, "t")


def _rows_of(data: np.ndarray, rows: np.ndarray) -> list[int]:
    """Index in ``data`` of each row of ``rows`` (they must all be there)."""
    out = []
    for row in rows:
        hits = np.flatnonzero(np.all(data == row, axis=1))
        assert hits.size == 1
        out.append(int(hits[0]))
    return out


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def test_csv_round_trip_with_header_comments_and_label_by_name(tmp_path):
    x, y = _data()
    path = _csv(tmp_path / "d.csv", x, y, label_first=True)
    data = load_user_data(path, "y")
    np.testing.assert_array_equal(data.features, x)  # repr() round-trips floats
    np.testing.assert_array_equal(data.labels, y)
    assert data.feature_names == ("x0", "x1", "x2", "x3") and data.label_name == "y"
    assert not data.features.flags.writeable
    by_index = load_user_data(path, 0)
    np.testing.assert_array_equal(by_index.labels, y)
    by_default = load_user_data(path)  # the last column: x3
    np.testing.assert_array_equal(by_default.labels, x[:, 3])


def test_csv_without_header_and_negative_label_index(tmp_path):
    x, y = _data()
    path = _csv(tmp_path / "d.csv", x, y, header=False)
    data = load_user_data(path, -1)
    np.testing.assert_array_equal(data.features, x)
    assert data.feature_names is None
    np.testing.assert_array_equal(load_user_data(path, -2).labels, x[:, 3])


def test_npz_round_trip_and_features_labels_keys(tmp_path):
    x, y = _data()
    data = load_user_data(_npz(tmp_path / "a.npz", x=x, y=y))
    np.testing.assert_array_equal(data.features, x)
    np.testing.assert_array_equal(data.labels, y)
    other = load_user_data(_npz(tmp_path / "b.npz", features=x.astype(np.float32),
                                labels=np.arange(60)))
    assert other.features.dtype == np.float64 and other.labels[-1] == 59.0


def test_loads_are_cached_until_the_file_changes(tmp_path):
    x, y = _data()
    path = _csv(tmp_path / "d.csv", x, y)
    assert load_user_data(path) is load_user_data(str(path))
    _csv(path, x[:50], y[:50])
    os.utime(path, ns=(1, 1))  # another modification time, whatever the clock
    assert load_user_data(path).num_examples == 50


@pytest.mark.parametrize(("content", "message"), [
    ("a,b\n1,2\n1,x\n", r"d\.csv, line 3, column 'b' \(index 1\): 'x' is not a number"),
    ("1,2\n3,nan\n", r"line 2, column \(index 1\): 'nan' is NaN or infinite"),
    ("1,2\n3,-inf\n", r"'-inf' is NaN or infinite"),
    ("1,2\n3,\n", r"line 2, column \(index 1\): empty cell"),
    ("1,2\n3,4,5\n", r"line 2: has 3 cells, the first row has 2"),
    ("1,abc\n3,4\n", r"line 1, column \(index 1\): 'abc' is not a number \(a header row "
                     r"must hold names only\)"),
    ("1;2\n3;4\n", r"line 1: one column only; cells must be separated by commas"),
    ("a,b\n1,2\n3;4,5\n", r"'3;4' is not a number \(cells must be separated by commas\)"),
    ("# only a comment\n\n", r"holds no data rows"),
    ("x,y\n", r"holds no data rows"),
    ("1\n2\n", r"needs at least two columns"),
])
def test_bad_csv_files(tmp_path, content, message):
    path = tmp_path / "d.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        load_user_data(path)
    assert str(path) in str(err.value)


def test_bad_label_columns(tmp_path):
    x, y = _data(n=5)
    with_header = _csv(tmp_path / "h.csv", x, y)
    without = _csv(tmp_path / "n.csv", x, y, header=False)
    npz = _npz(tmp_path / "a.npz", x=x, y=y)
    cases = [
        (with_header, "z", r"no column named 'z'; its columns are \['x0', 'x1'"),
        (without, "y", r"'y' is a column name but the file has no header row"),
        (with_header, 5, r"label_column 5 is out of range: the file has 5 columns"),
        (with_header, -6, r"out of range"),
        (npz, 0, r"label_column is only for \.csv files"),
    ]
    for path, column, message in cases:
        with pytest.raises(DataError, match=message):
            load_user_data(path, column)


def test_bad_files(tmp_path):
    x, y = _data(n=5)
    (tmp_path / "notzip.npz").write_bytes(b"hello, not a zip")
    (tmp_path / "d.txt").write_text("1,2\n")
    (tmp_path / "dir.csv").mkdir()
    objects = np.empty(5, dtype=object)
    cases = [
        (tmp_path / "missing.csv", r"missing\.csv: data file not found"),
        (tmp_path / "d.txt", r"d\.txt: a data file must be a \.npz archive .* or a \.csv"),
        (tmp_path / "dir.csv", r"dir\.csv: is not a file"),
        (tmp_path / "notzip.npz", r"notzip\.npz: not an \.npz \(zip\) archive"),
        (_npz(tmp_path / "keys.npz", a=x, b=y), r"holds arrays \['a', 'b'\]; expected 'x'"),
        (_npz(tmp_path / "x1d.npz", x=y, y=y), r"'x': must be 2-D \(examples, features\)"),
        (_npz(tmp_path / "y2d.npz", x=x, y=x), r"'y': must be 1-D \(examples,\)"),
        (_npz(tmp_path / "len.npz", x=x, y=y[:4]), r"'y' has 4 labels but 'x' has 5 rows"),
        (_npz(tmp_path / "nan.npz", x=np.where(x > 1, np.nan, x), y=y),
         r"'x': holds NaN or infinite values"),
        (_npz(tmp_path / "inf.npz", x=x, y=np.full(5, np.inf)), r"'y': holds NaN or inf"),
        (_npz(tmp_path / "str.npz", x=x, y=np.array(list("abcde"))), r"must be numeric"),
        (_npz(tmp_path / "obj.npz", x=x, y=objects), r"holds Python objects"),
    ]
    for path, message in cases:
        with pytest.raises(DataError, match=message) as err:
            load_user_data(path)
        assert str(path) in str(err.value)


def test_npz_with_a_pickle_is_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    arr = np.empty(1, dtype=object)
    arr[0] = Evil()
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.zeros((1, 2)), y=arr)
    with pytest.raises(DataError, match="Python objects"):
        load_user_data(path)
    assert not marker.exists()


# --------------------------------------------------------------------------
# Splits, projection, scaling, labels
# --------------------------------------------------------------------------


def test_default_split_sizes_and_inferred_features_size(tmp_path):
    x, y = _data(n=60, d=3)
    spec = _spec(_csv(tmp_path / "d.csv", x, y))
    assert (spec.features_size, spec.num_train_examples, spec.num_valid_examples) == \
        (3, 48, 12)  # all rows, 80/20
    assert _spec(tmp_path / "d.csv", num_train_examples=50).num_valid_examples == 10
    assert _spec(tmp_path / "d.csv", num_valid_examples=5).num_train_examples == 55
    both = _spec(tmp_path / "d.csv", num_train_examples=20, num_valid_examples=7)
    task = create_task(both, 3, 0)
    assert (task.num_train_examples, task.num_valid_examples) == (20, 7)
    assert [len(t) for t in tasks_from_arrays(x, y)[0].epochs] == [48]


def test_splits_are_disjoint_rows_determined_by_the_data_seed(tmp_path):
    x, y = _data(n=60, d=3)
    spec = _spec(_csv(tmp_path / "d.csv", x, y), num_train_examples=30,
                 num_valid_examples=20, num_tasks=3, standardize_features=False)
    tasks = make_tasks([spec])
    assert [t.data_seed for t in tasks] == list(DEFAULT_DATA_SEEDS[:3])
    assert tasks[0].name == f"{REG}[d.csv,data_seed={DEFAULT_DATA_SEEDS[0]}]"
    train = _rows_of(x, tasks[0].train_features)
    valid = _rows_of(x, tasks[0].valid_features)
    assert len(set(train) | set(valid)) == 50  # disjoint, no row twice
    np.testing.assert_array_equal(tasks[0].train_labels, y[train])  # labels as given
    again = make_tasks([spec])[0]
    np.testing.assert_array_equal(again.train_features, tasks[0].train_features)
    np.testing.assert_array_equal(again.valid_labels, tasks[0].valid_labels)
    assert _rows_of(x, tasks[1].train_features) != train  # other seeds, other splits
    assert set(_rows_of(x, tasks[1].valid_features)) != set(valid)


def test_features_standardised_with_training_statistics(tmp_path):
    x, y = _data(n=80, d=3)
    x = x * [1.0, 10.0, 0.1] + [5.0, -3.0, 0.0]
    task = tasks_from_arrays(x, y, num_train_examples=50, num_valid_examples=30)[0]
    np.testing.assert_allclose(task.train_features.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(task.train_features.std(axis=0), 1.0, atol=1e-12)
    raw = tasks_from_arrays(x, y, num_train_examples=50, num_valid_examples=30,
                            standardize_features=False)[0]
    train = _rows_of(x, raw.train_features)
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    np.testing.assert_allclose(task.valid_features, (raw.valid_features - mean) / std,
                               atol=1e-12)
    np.testing.assert_array_equal(task.train_labels, raw.train_labels)  # not scaled


def test_projection_when_wider_than_features_size(tmp_path):
    x, y = _data(n=40, d=6)
    seed = 7
    proj = tasks_from_arrays(x, y, features_size=2, seed=seed,
                             standardize_features=False)[0]
    full = tasks_from_arrays(x, y, seed=seed, standardize_features=False)[0]
    assert proj.features_size == 2 and full.features_size == 6
    assert proj.name == f"{REG}[arrays,data_seed={seed},dim=2]"
    np.testing.assert_allclose(proj.train_features,
                               full.train_features @ random_projection(6, 2, seed))
    np.testing.assert_array_equal(proj.train_labels, full.train_labels)  # same split
    other = tasks_from_arrays(x, y, features_size=2, seed=seed + 1,
                              standardize_features=False)[0]
    raw = tasks_from_arrays(x, y, seed=seed + 1, standardize_features=False)[0]
    np.testing.assert_allclose(other.train_features,
                               raw.train_features @ random_projection(6, 2, seed + 1))


def test_classification_labels_map_to_0_and_1_with_stratified_splits(tmp_path):
    x, _ = _data(n=100, d=3)
    y = np.where(np.arange(100) < 30, 7.0, 2.0)  # 30 % of class 7
    path = _npz(tmp_path / "c.npz", x=x, y=y)
    spec = _spec(path, CLS, num_train_examples=50, num_valid_examples=20, num_tasks=2)
    assert spec.eval_type is EvalType.ACCURACY
    tasks = make_tasks([spec])
    assert tasks[0].name == f"{CLS}[c.npz,data_seed={DEFAULT_DATA_SEEDS[0]},labels=2->0,7->1]"
    for task in tasks:
        assert set(task.train_labels) | set(task.valid_labels) == {0.0, 1.0}
        assert task.train_labels.sum() == 15 and task.valid_labels.sum() == 6  # 30 %
        assert task.eval_type is EvalType.ACCURACY
        assert 0 < task.train_labels[:25].sum() < 15  # shuffled, not class-sorted
    arrays = tasks_from_arrays(x, y, task="classification", num_train_examples=50,
                               num_valid_examples=20, seed=DEFAULT_DATA_SEEDS[0])
    np.testing.assert_array_equal(arrays[0].train_labels, tasks[0].train_labels)


def test_stratified_splits_have_exact_sizes_and_proportional_classes():
    rng = np.random.default_rng(1)
    for trial in range(300):
        n = int(rng.integers(4, 60))
        y = np.zeros(n)
        y[rng.choice(n, int(rng.integers(1, n)), replace=False)] = 1.0
        nt = int(rng.integers(1, n))
        nv = int(rng.integers(1, n - nt + 1))
        x = np.arange(2.0 * n).reshape(n, 2)  # row i is (2i, 2i+1)
        task = tasks_from_arrays(x, y, task="classification", num_train_examples=nt,
                                 num_valid_examples=nv, seed=trial,
                                 standardize_features=False)[0]
        rows = [*(task.train_features[:, 0] // 2), *(task.valid_features[:, 0] // 2)]
        assert len(set(rows)) == nt + nv  # exact sizes, disjoint
        assert abs(task.train_labels.sum() - nt * y.mean()) < 1.0 + 1e-9


def test_not_two_classes_is_an_error(tmp_path):
    x, _ = _data(n=30, d=2)
    y = np.arange(30) % 3
    path = _npz(tmp_path / "c.npz", x=x, y=y)
    with pytest.raises(ConfigError, match=r"t\.path: .*c\.npz: binary classification "
                                          r"needs exactly 2 distinct label values, found 3"):
        _spec(path, CLS)
    with pytest.raises(DataError, match=r"y: binary classification needs exactly 2 .* "
                                        r"found 1"):
        tasks_from_arrays(x, np.ones(30), task="classification")


def test_tasks_from_arrays_equal_the_tasks_of_user_task_spec(tmp_path):
    x, y = _data(n=50, d=5)
    kw = {"num_tasks": 3, "features_size": 3, "num_train_examples": 30,
          "num_valid_examples": 10, "num_train_epochs": 2, "seed": 42}
    spec = user_task_spec(x, y, tmp_path / "store", **kw)
    assert spec.data_seeds == (42,) and spec.num_train_epochs == 2
    for a, b in zip(tasks_from_arrays(x, y, **kw), make_tasks([spec]), strict=True):
        for field in ("train_features", "train_labels", "valid_features",
                      "valid_labels", "epochs"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert a.data_seed == b.data_seed
    # Content-addressed files: same data, same file; other data, another file.
    assert save_user_data(x, y, tmp_path / "store") == Path(spec.path)
    assert save_user_data(x, y + 1, tmp_path / "store") != Path(spec.path)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"task": "ranking"}, ConfigError, r"task: must be 'regression' or 'classification'"),
    ({"features_size": 5}, ConfigError, r"features_size: must be at most 4 \(x has 4"),
    ({"features_size": 0}, ConfigError, r"features_size: must be a positive integer"),
    ({"num_train_examples": 20}, ConfigError, r"num_train_examples: 20 leaves no row"),
    ({"num_valid_examples": 20}, ConfigError, r"num_valid_examples: 20 leaves no row"),
    ({"num_train_examples": 15, "num_valid_examples": 6}, ConfigError,
     r"num_valid_examples: num_train_examples \(15\) \+ num_valid_examples \(6\) = 21 "
     r"is more than the 20 rows"),
    ({"num_tasks": 0}, ConfigError, r"num_tasks: must be a positive integer"),
    ({"seed": -1}, ConfigError, r"seed: must be a non-negative integer"),
    ({"standardize_features": "yes"}, ConfigError, r"standardize_features: must be True"),
])
def test_tasks_from_arrays_argument_errors(kwargs, error, message):
    x, y = _data(n=20)
    with pytest.raises(error, match=message):
        tasks_from_arrays(x, y, **kwargs)


@pytest.mark.parametrize(("x", "y", "message"), [
    (np.zeros(5), np.zeros(5), r"x: must be 2-D"),
    (np.zeros((5, 2)), np.zeros((5, 1)), r"y: must be 1-D"),
    (np.zeros((5, 2)), np.zeros(4), r"y has 4 labels but x has 5 rows"),
    (np.zeros((0, 2)), np.zeros(0), r"x: must not be empty"),
    (np.full((5, 2), np.nan), np.zeros(5), r"x: holds NaN or infinite values \(first in "
                                           r"row 0, 5 row\(s\)"),
    (np.zeros((5, 2)), ["a"] * 5, r"y: must be numeric"),
    (np.zeros((1, 2)), np.zeros(1), r"x: x has 1 row\(s\); at least 2 are needed"),
])
def test_tasks_from_arrays_data_errors(x, y, message):
    with pytest.raises((DataError, ConfigError), match=message):
        tasks_from_arrays(x, y)


# --------------------------------------------------------------------------
# Specs and configs
# --------------------------------------------------------------------------


def test_spec_errors_name_the_key(tmp_path):
    x, y = _data(n=20, d=3)
    csv_path = _csv(tmp_path / "d.csv", x, y)
    cases = [
        ({}, r"t\.path: user_regression_task needs a path: a \.npz file"),
        ({"path": str(tmp_path / "d.txt")}, r"t\.path: must name a \.npz or \.csv file"),
        ({"path": str(tmp_path / "none.csv")}, r"t\.path: .*none\.csv: data file not found"),
        ({"path": str(csv_path), "features_size": 4},
         r"t\.features_size: 4 is more than the 3 feature column\(s\) of .*d\.csv; use at "
         r"most 3 \(wider data is projected down to features_size; narrower data is never "
         r"padded\)"),
        ({"path": str(csv_path), "num_train_examples": 15, "num_valid_examples": 6},
         r"t\.num_valid_examples: num_train_examples \(15\) \+ num_valid_examples \(6\) = "
         r"21 is more than the 20 rows of .*d\.csv"),
        ({"path": str(csv_path), "num_train_examples": 20},
         r"t\.num_train_examples: 20 leaves no row to validate on"),
        ({"path": str(csv_path), "label_column": "nope"},
         r"t\.label_column: CSV file .*d\.csv: no column named 'nope'"),
        ({"path": str(csv_path), "label_column": 1.5}, r"t\.label_column: must be a column"),
        ({"path": str(csv_path), "standardize_features": 1},
         r"t\.standardize_features: must be true or false"),
        ({"path": str(csv_path), "eval_type": "ACCURACY"},
         r"t\.eval_type: user_regression_task must use RMS_ERROR"),
        ({"path": str(csv_path), "dataset_name": "npz"},
         r"t\.dataset_name: only valid for projected_binary_classification_task, "
         r"projected_multiclass_classification_task, not"),
    ]
    for extra, message in cases:
        with pytest.raises(ConfigError, match=message):
            TaskSpec.from_dict({"task_type": REG, **extra}, "t")
    with pytest.raises(ConfigError, match=r"t\.eval_type: user_binary_classification_task "
                                          r"must use ACCURACY"):
        TaskSpec.from_dict({"task_type": CLS, "path": str(csv_path),
                            "eval_type": "RMS_ERROR"}, "t")
    for key, value in (("label_column", 0), ("standardize_features", False)):
        with pytest.raises(ConfigError, match=rf"t\.{key}: only valid for user_regression_"
                                              rf"task, user_binary_classification_task, not"):
            TaskSpec.from_dict({"task_type": "scalar_linear_regression_task",
                                "features_size": 2, "num_train_examples": 2,
                                "num_valid_examples": 2, key: value}, "t")


def test_spec_round_trips_and_randomized_seeds(tmp_path):
    x, y = _data(n=20, d=3)
    path = _csv(tmp_path / "d.csv", x, y, label_first=True)
    spec = _spec(path, label_column="y", standardize_features=False, num_tasks=2)
    plain = spec.to_dict()
    assert json.loads(json.dumps(plain)) == plain
    assert plain["label_column"] == "y" and plain["standardize_features"] is False
    assert plain["num_train_examples"] == 16  # the inferred sizes are written out
    assert TaskSpec.from_dict(plain, "again") == spec
    assert dataclasses.replace(spec, data_seeds=(1,)).data_seeds == (1,)
    fresh = randomize_task_seeds([spec], 3)[0]
    assert fresh.data_seeds != spec.data_seeds
    assert len(make_tasks([fresh])) == 2


def _write_config(directory: Path, tasks: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "c.toml"
    path.write_text(f"""
num_scalar_addresses = 4
num_vector_addresses = 3
num_matrix_addresses = 0
{tasks}
""")
    return path


def test_config_paths_are_relative_to_the_config_and_evaluate_high(tmp_path):
    # Noiseless linear data, features as given: SGD linear regression is exact.
    x, y = _data(n=500, d=4, seed=5)
    (tmp_path / "data").mkdir()
    _csv(tmp_path / "data" / "lin.csv", x, y)
    path = _write_config(tmp_path / "cfg", """
[[search_tasks]]
task_type = "user_regression_task"
path = "../data/lin.csv"
label_column = "y"
standardize_features = false
num_tasks = 3
""")
    cfg = load_config(path)
    spec = cfg.search_tasks[0]
    assert Path(spec.path).resolve() == (tmp_path / "data" / "lin.csv").resolve()
    assert (spec.features_size, spec.num_train_examples, spec.num_valid_examples) == \
        (4, 400, 100)
    evaluator = Evaluator(make_tasks(cfg.tasks("search")), MemorySpec(4, 3, 0))
    fitness = evaluator.evaluate_many([linear_algorithm(0.1)]).fitness[0]
    assert fitness > 0.999
    # The CLI's evaluate reads the same config (the program's memory is extended).
    result = CliRunner().invoke(cli, ["evaluate", str(LINEAR_REGRESSOR), "--config",
                                      str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fitness"] > 0.999
    # Arrays, standardised: still far better than predicting 0 (fitness ~0.1).
    tasks = tasks_from_arrays(x, y, num_tasks=3)
    scaled = Evaluator(tasks, MemorySpec(4, 3, 0))
    assert scaled.evaluate_many([linear_algorithm(0.1)]).fitness[0] > 0.9


def test_config_errors_name_the_file_and_key(tmp_path):
    path = _write_config(tmp_path, """
[[search_tasks]]
task_type = "user_binary_classification_task"
path = "missing.csv"
""")
    with pytest.raises(ConfigError, match=r"c\.toml: search_tasks\[0\]\.path: .*missing\.csv"
                                          r": data file not found"):
        load_config(path)
    (tmp_path / "d.csv").write_text("a,b\n1,0\n2,1\n3,x\n")
    path = _write_config(tmp_path, """
[[search_tasks]]
task_type = "user_binary_classification_task"
path = "d.csv"
""")
    with pytest.raises(ConfigError, match=r"c\.toml: search_tasks\[0\]\.path: CSV file "
                                          r".*d\.csv, line 4, column 'b' \(index 1\): 'x' "
                                          r"is not a number"):
        load_config(path)
    with pytest.raises(ConfigError, match=r"--set search_tasks.0.path=e.csv: .*e\.csv: "
                                          r"data file not found"):
        load_config(path, ["search_tasks.0.path=e.csv"])


def test_user_task_spec_in_a_config(tmp_path):
    x, y = _data(n=100, d=4)
    search = user_task_spec(x, y, tmp_path, num_tasks=2, seed=0)
    select = user_task_spec(x, y, tmp_path, num_tasks=2, seed=1000)
    base = load_config(ROOT / "configs" / "example_user_regression.toml").to_dict()
    base.update(search_tasks=[search.to_dict()], select_tasks=[select.to_dict()],
                final_tasks=[select.to_dict()])
    cfg = config_from_dict(base, "<arrays>")
    assert cfg.search_tasks == (search,) and cfg.select_tasks == (select,)
    assert [t.data_seed for t in make_tasks(cfg.tasks("select"))] == [1000, 1001]


def test_shipped_examples(tmp_path):
    for name in ("user_regression.csv", "user_classification.csv"):
        assert (ROOT / "examples" / "data" / name).stat().st_size <= 50_000
    reg = load_config(ROOT / "configs" / "example_user_regression.toml")
    assert reg.search_tasks[0].task_type == REG
    cls = load_config(ROOT / "configs" / "example_user_classification.toml")
    tasks = make_tasks(cls.tasks("final"))
    assert "labels=0->0,1->1" in tasks[0].name
    assert reg.final_tasks[0].num_train_examples == 400
    result = CliRunner().invoke(cli, [
        "evaluate", str(LINEAR_REGRESSOR), "--config",
        str(ROOT / "configs" / "example_user_regression.toml"), "--tasks", "final",
        "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fitness"] > 0.9  # noise 0.05: at most ~0.968
