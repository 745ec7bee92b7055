"""A user's own data for the ``user_regression_task`` and
``user_binary_classification_task`` types (docs/user_data.md): reading it from
a ``.npz`` or ``.csv`` file (or taking it from arrays), checking it, and
cutting one task's train/validation split out of it.

Nothing here unpickles: ``.npz`` members are read with ``allow_pickle=False``
after their headers are checked (``datasets._read_npz_arrays``). A bad file
raises :class:`~automl_zero.errors.DataError` naming the file and the problem
(for CSV cells: the line and the column). Loaded files are cached per
(resolved path, label column, modification time, size), so a file edited
between two runs in one process is read again.

One task of the data (:func:`user_split`), for its data seed:

1. The rows are shuffled with ``Generator(MT19937((data_seed + offset) mod 2**32))``;
   the first ``num_train_examples`` go to training, the next
   ``num_valid_examples`` to validation (the rest is not used by that task).
   Classification splits are stratified: each class gets its share of both
   splits (largest remainders), then each split is shuffled again.
2. If the data has more feature columns than ``features_size``, both splits
   are multiplied by the projected tasks' random Gaussian matrix of the data
   seed (``_projection``); with as many columns, they are used as they are.
3. Features are standardised with the training split's mean and standard
   deviation (unless ``standardize=False``); labels are never scaled.
   Classification labels are mapped to 0 (the smaller of the two values) and
   1 (the larger).
"""

from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_zero.errors import ConfigError, DataError, excerpt
from automl_zero.tasks._checks import memory_limit_bytes
from automl_zero.tasks._projection import project_and_standardize
from automl_zero.tasks.datasets import _read_npz_arrays
from automl_zero.userfiles import read_text_file

__all__ = [
    "DEFAULT_VALID_FRACTION",
    "USER_FILE_SUFFIXES",
    "LabelColumnError",
    "UserData",
    "binary_classes",
    "load_user_data",
    "show_path",
    "split_sizes",
    "user_data_from_arrays",
    "user_split",
]

# Without num_train_examples / num_valid_examples: 1/5 of the rows (at least
# one) validate, the rest train.
DEFAULT_VALID_FRACTION = 0.2
USER_FILE_SUFFIXES = (".npz", ".csv")
# A CSV file is parsed into Python floats first (about 32 bytes per value
# while read, for values of a few characters): files larger than the memory
# limit divided by this are refused before they are read.
_CSV_BYTES_FACTOR = 32


class LabelColumnError(DataError):
    """The ``label_column`` does not name a column of the CSV file."""


@dataclass(frozen=True, eq=False)
class UserData:
    """A user's examples: one row of feature values and one label per example.

    Invariants: ``features`` is float64 C-contiguous ``(n, d)`` with n, d >= 1,
    ``labels`` float64 ``(n,)``; every value is finite; both arrays are
    read-only (loaded data is cached and shared).
    """

    features: np.ndarray  # float64 (n, d)
    labels: np.ndarray  # float64 (n,)
    source: str  # the file's resolved path, or "<arrays>"
    feature_names: tuple[str, ...] | None = None  # a CSV file's header, if any
    label_name: str | None = None

    @property
    def num_examples(self) -> int:
        """Number of rows n."""
        return int(self.features.shape[0])

    @property
    def num_features(self) -> int:
        """Number of feature columns d."""
        return int(self.features.shape[1])

    @property
    def name(self) -> str:
        """The file name (for task names)."""
        return Path(self.source).name if self.source != "<arrays>" else "arrays"


def _make(features: np.ndarray, labels: np.ndarray, source: str,
          feature_names: tuple[str, ...] | None = None,
          label_name: str | None = None) -> UserData:
    x = np.array(features, dtype=np.float64, order="C")
    y = np.array(labels, dtype=np.float64, order="C")
    x.setflags(write=False)
    y.setflags(write=False)
    return UserData(x, y, source, feature_names, label_name)


# --------------------------------------------------------------------------
# From arrays
# --------------------------------------------------------------------------


def _numeric(value: Any, what: str, ndim: int) -> np.ndarray:
    """``value`` as a float64 array of ``ndim`` dims, non-empty and finite."""
    try:
        arr = np.asarray(value)
    except Exception as e:  # ragged lists, objects numpy cannot take
        raise DataError(f"{what}: cannot be converted to an array: {str(e)[:200]}") \
            from None
    if not (np.issubdtype(arr.dtype, np.integer)
            or np.issubdtype(arr.dtype, np.floating)):
        raise DataError(f"{what}: must be numeric, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        shape = "(examples, features)" if ndim == 2 else "(examples,)"
        raise DataError(f"{what}: must be {ndim}-D {shape}, got shape {arr.shape}")
    if arr.size == 0:
        raise DataError(f"{what}: must not be empty, got shape {arr.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        out = arr.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(out.reshape(out.shape[0], -1)).all(axis=1))
    if bad.size:
        raise DataError(f"{what}: holds NaN or infinite values (first in row "
                        f"{int(bad[0])}, {bad.size} row(s) in all)")
    return out


def user_data_from_arrays(x: Any, y: Any, what: str = "") -> UserData:
    """Check in-memory data (``x`` (n, d), ``y`` (n,), numeric, finite)."""
    prefix = f"{what}: " if what else ""
    features = _numeric(x, f"{prefix}x", 2)
    labels = _numeric(y, f"{prefix}y", 1)
    if labels.shape[0] != features.shape[0]:
        raise DataError(f"{prefix}y has {labels.shape[0]} labels but x has "
                        f"{features.shape[0]} rows; one label per row is needed")
    return _make(features, labels, "<arrays>")


# --------------------------------------------------------------------------
# From files
# --------------------------------------------------------------------------


def show_path(path: str | Path) -> str:
    """A path for a one-line message: as it is if printable and short, else
    quoted and cut (``excerpt``)."""
    text = str(path)
    return text if text.isprintable() and len(text) <= 300 else excerpt(text, 200)


def load_user_data(path: str | Path, label_column: int | str | None = None) -> UserData:
    """Read a ``.npz`` (arrays ``x`` (n, d) and ``y`` (n,), or ``features`` and
    ``labels``) or ``.csv`` file (numeric cells; an optional header row; the
    label in column ``label_column``: an index, negative from the end, or a
    header name; default the last column).

    Cached per (resolved path, label column, modification time, size); returns
    read-only arrays. Raises DataError naming the file and the problem
    (:class:`LabelColumnError` for a ``label_column`` that names no column).
    """
    try:
        file = Path(path).expanduser().resolve()
    except (RuntimeError, OSError, ValueError) as e:  # e.g. ~unknown_user
        raise DataError(f"{show_path(path)}: cannot resolve the path ({e})") from None
    shown = show_path(file)
    suffix = file.suffix.lower()
    if suffix not in USER_FILE_SUFFIXES:
        raise DataError(f"{shown}: a data file must be a .npz archive (arrays x, y) or "
                        f"a .csv file, got a {suffix or 'file without suffix'}")
    if suffix == ".npz" and label_column is not None:
        raise LabelColumnError(f"{shown}: label_column is only for .csv files (a .npz "
                               f"file holds the labels in its array 'y')")
    try:
        stat = file.stat()
    except FileNotFoundError:
        raise DataError(f"{shown}: data file not found") from None
    except OSError as e:
        raise DataError(f"{shown}: cannot read ({e.strerror or e})") from None
    if not file.is_file():
        raise DataError(f"{shown}: is not a file")
    return _load_cached(str(file), label_column, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_cached(file: str, label_column: int | str | None, mtime_ns: int,
                 size: int) -> UserData:
    """Cached reader; the modification time and size only key the cache."""
    path = Path(file)
    if path.suffix.lower() == ".npz":
        return _read_user_npz(path)
    return _read_user_csv(path, label_column)


def _read_user_npz(file: Path) -> UserData:
    shown = show_path(file)
    try:
        with open(file, "rb") as fh:  # opened here: np.load leaks it on a bad zip
            x_key, y_key, x, y = _read_npz_arrays(fh, file)
    except OSError as e:  # opening (reading errors are DataErrors already)
        raise DataError(f"{shown}: cannot read ({e.strerror or e})") from None
    features = _numeric(x, f"npz data file {shown}: '{x_key}'", 2)
    labels = _numeric(y, f"npz data file {shown}: '{y_key}'", 1)
    if labels.shape[0] != features.shape[0]:
        raise DataError(f"npz data file {shown}: '{y_key}' has {labels.shape[0]} "
                        f"labels but '{x_key}' has {features.shape[0]} rows; one "
                        f"label per row is needed")
    return _make(features, labels, str(file))


def _cell_number(cell: str) -> float | None:
    """The number a CSV cell holds (NaN and infinities included), else None."""
    try:
        return float(cell)
    except ValueError:
        return None


def _read_user_csv(file: Path, label_column: int | str | None) -> UserData:
    max_bytes = memory_limit_bytes() // _CSV_BYTES_FACTOR
    text = read_text_file(file, "CSV file", DataError, max_bytes)
    shown = show_path(file)
    rows: list[list[float]] = []
    header: list[str] | None = None
    width = 0
    reader = csv.reader(io.StringIO(text))
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue  # blank line
            if cells[0].lstrip().startswith("#"):
                continue  # comment line
            if not width:  # the first row: a header if it holds no number at all
                width = len(cells)
                if width == 1 and any(sep in cells[0] for sep in (";", "\t")):
                    raise DataError(f"CSV file {shown}, line {line}: one "
                                    f"column only; cells must be separated by commas")
                if all(_cell_number(c) is None for c in cells):
                    header = [c.strip() for c in cells]
                    continue
            if len(cells) != width:
                raise DataError(f"CSV file {shown}, line {line}: has {len(cells)} "
                                f"cells, the first row has {width}")
            rows.append(_csv_row(cells, file, line, header, first=not rows))
    except csv.Error as e:
        raise DataError(f"CSV file {shown}, line {reader.line_num}: {e}") from None
    if not rows:
        raise DataError(f"CSV file {shown}: holds no data rows")
    if width < 2:
        raise DataError(f"CSV file {shown}: needs at least two columns (features and "
                        f"the label), it has {width}")
    label = _label_index(label_column, header, width, file)
    table = np.array(rows, dtype=np.float64)
    keep = [j for j in range(width) if j != label]
    names = tuple(header[j] for j in keep) if header is not None else None
    return _make(table[:, keep], table[:, label], str(file), names,
                 header[label] if header is not None else None)


def _csv_row(cells: list[str], file: Path, line: int, header: list[str] | None,
             first: bool) -> list[float]:
    """One data row as floats; the first bad cell raises DataError naming it
    (``first``: the file's first row, which may have been meant as a header)."""
    try:
        values = [float(c) for c in cells]
        if all(math.isfinite(v) for v in values):
            return values
    except ValueError:
        pass
    shown = show_path(file)
    for j, cell in enumerate(cells):
        where = (f"CSV file {shown}, line {line}, column "
                 f"{excerpt(header[j]) + ' ' if header else ''}(index {j})")
        number = _cell_number(cell)
        if not cell.strip():
            raise DataError(f"{where}: empty cell; every cell must hold a number")
        if number is None:
            hint = ""
            if any(sep in cell for sep in (";", "\t")):
                hint = " (cells must be separated by commas)"
            elif first and header is None:
                hint = " (a header row must hold names only)"
            raise DataError(f"{where}: {excerpt(cell.strip())} is not a number{hint}")
        if not math.isfinite(number):
            raise DataError(f"{where}: {excerpt(cell.strip())} is NaN or infinite; "
                            f"every value must be finite")
    raise AssertionError("unreachable: some cell failed")  # pragma: no cover


def _label_index(label_column: int | str | None, header: list[str] | None,
                 width: int, file: Path) -> int:
    """The column index of the labels in a CSV file of ``width`` columns."""
    if label_column is None:
        return width - 1
    shown = show_path(file)
    if isinstance(label_column, str):
        if header is None:
            raise LabelColumnError(
                f"CSV file {shown}: label_column {excerpt(label_column)} is a column "
                f"name but the file has no header row; give the column's index")
        found = [j for j, name in enumerate(header) if name == label_column.strip()]
        if not found:
            raise LabelColumnError(
                f"CSV file {shown}: no column named {excerpt(label_column)}; its "
                f"columns are {excerpt(header, 200)}")
        if len(found) > 1:
            raise LabelColumnError(
                f"CSV file {shown}: {len(found)} columns are named "
                f"{excerpt(label_column)}; give the label column's index")
        return found[0]
    if not -width <= label_column < width:
        raise LabelColumnError(
            f"CSV file {shown}: label_column {label_column} is out of range: the file "
            f"has {width} columns (indices 0..{width - 1}, or -{width}..-1 from the end)")
    return label_column % width


# --------------------------------------------------------------------------
# Split sizes, classes and one task's split
# --------------------------------------------------------------------------


def split_sizes(num_examples: int, num_train: int | None, num_valid: int | None,
                prefix: str = "", source: str = "the data", data_key: str = "path"
                ) -> tuple[int, int]:
    """(num_train_examples, num_valid_examples) for data of ``num_examples`` rows.

    Missing counts are filled in: both missing, 1/5 of the rows (at least one)
    validate and the rest train; one missing, it takes the remaining rows.
    Counts that do not fit in the rows raise ConfigError naming
    ``{prefix}num_..._examples`` (``{prefix}{data_key}`` for too few rows).
    """
    n = num_examples
    if n < 2:
        raise ConfigError(f"{prefix}{data_key}: {source} has {n} row(s); at least 2 are "
                          f"needed (one to train on, one to validate)")
    if num_train is None and num_valid is None:
        num_valid = max(1, int(n * DEFAULT_VALID_FRACTION))
        return n - num_valid, num_valid
    if num_valid is None:
        assert num_train is not None
        if num_train >= n:
            raise ConfigError(
                f"{prefix}num_train_examples: {num_train} leaves no row to validate "
                f"on ({source} has {n} rows); lower it or give num_valid_examples")
        return num_train, n - num_train
    if num_train is None:
        if num_valid >= n:
            raise ConfigError(
                f"{prefix}num_valid_examples: {num_valid} leaves no row to train on "
                f"({source} has {n} rows); lower it or give num_train_examples")
        return n - num_valid, num_valid
    if num_train + num_valid > n:
        raise ConfigError(
            f"{prefix}num_valid_examples: num_train_examples ({num_train}) + "
            f"num_valid_examples ({num_valid}) = {num_train + num_valid} is more than "
            f"the {n} rows of {source}")
    return num_train, num_valid


def binary_classes(labels: np.ndarray, source: str) -> tuple[float, float]:
    """The two label values of classification data, sorted (they map to 0 and
    1); DataError unless there are exactly two."""
    values = np.unique(labels)
    if values.size != 2:
        shown = excerpt([float(v) for v in values[:7]], 120)
        raise DataError(f"{source}: binary classification needs exactly 2 distinct "
                        f"label values, found {values.size}: {shown}")
    return float(values[0]), float(values[1])


def _allocate(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Integers summing to ``total``, proportional to ``weights`` (largest
    remainders), each at most its cap (``total <= caps.sum()``)."""
    exact = total * weights / weights.sum()
    out = np.minimum(np.floor(exact).astype(np.int64), caps)
    remainder = exact - out
    while out.sum() < total:  # one more to the largest remainder with room
        room = out < caps
        k = int(np.argmax(np.where(room, remainder, -np.inf)))
        out[k] += 1
        remainder[k] -= 1.0
    return out


def _split_indices(rng: np.random.Generator, n: int, n_train: int, n_valid: int,
                   classes01: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the train and valid splits (disjoint, in random order)."""
    order = rng.permutation(n)
    if classes01 is None:
        return order[:n_train], order[n_train:n_train + n_valid]
    # Stratified: the rows of each class in shuffled order, cut per class.
    groups = [order[classes01[order] == c] for c in (0, 1)]
    counts = np.array([g.size for g in groups], dtype=np.int64)
    n_tr = _allocate(n_train, counts.astype(np.float64), counts)
    n_va = _allocate(n_valid, counts.astype(np.float64), counts - n_tr)
    train = np.concatenate([g[:k] for g, k in zip(groups, n_tr, strict=True)])
    valid = np.concatenate([g[k:k + m] for g, k, m in zip(groups, n_tr, n_va,
                                                           strict=True)])
    return rng.permutation(train), rng.permutation(valid)


def user_split(data: UserData, *, classification: bool, num_train: int,
               num_valid: int, features_size: int, seed: int, split_seed: int,
               standardize: bool = True
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One task's (train_x, train_y, valid_x, valid_y) of ``data`` (see the module
    docstring): rows split by a generator seeded with ``split_seed``, features
    projected with the matrix of ``seed`` when ``data`` has more columns than
    ``features_size``, standardised on the train split if ``standardize``.

    The counts must fit in the rows and ``features_size`` must be at most the
    number of columns (callers check; ConfigError otherwise).
    """
    d = data.num_features
    if features_size > d:
        raise ConfigError(f"features_size: {features_size} is more than the {d} "
                          f"feature column(s) of {show_path(data.source)}")
    if num_train + num_valid > data.num_examples:
        raise ConfigError(f"num_train_examples + num_valid_examples = "
                          f"{num_train + num_valid} is more than the "
                          f"{data.num_examples} rows of {show_path(data.source)}")
    y = data.labels
    classes01 = None
    if classification:
        _, high = binary_classes(y, show_path(data.source))
        classes01 = (y == high).astype(np.int64)
    rng = np.random.Generator(np.random.MT19937(split_seed % 2**32))
    train, valid = _split_indices(rng, data.num_examples, num_train, num_valid,
                                  classes01)
    tx, vx = project_and_standardize(
        data.features[train], data.features[valid], seed % 2**32, features_size,
        project=features_size < d, standardize=standardize)
    labels = y if classes01 is None else classes01.astype(np.float64)
    ty, vy = np.ascontiguousarray(labels[train]), np.ascontiguousarray(labels[valid])
    return tx, ty, vx, vy

