"""Readers for the real labelled data sets behind the projected binary tasks.

Every reader returns a :class:`LabeledDataset` with the raw feature values as
float64 rows (CIFAR-10 and MNIST: raw 0-255 pixels, no scaling, as
``generate_datasets.py`` of the original does) and int64 class ids. Only the
TRAIN split is read: the original builds its binary tasks from it alone.

Nothing here touches the network. A missing or malformed file raises
:class:`~automl_zero.errors.DataError` naming the file and what is wrong.

Supported sources (docs/semantics.md §12.5):

* ``digits``: scikit-learn's bundled 8x8 digits (1797 examples, 64 features,
  values 0-16). Works offline; the default for tests and small demos.
* ``cifar10``: the binary version (``cifar-10-batches-bin/data_batch_N.bin``) or
  the python version (``cifar-10-batches-py/data_batch_N`` pickles, read with a
  restricted unpickler that can only rebuild numpy arrays).
* ``mnist``: the IDX files ``train-images-idx3-ubyte`` and
  ``train-labels-idx1-ubyte``, plain or gzip-compressed.
* ``fashion_mnist``: Fashion-MNIST, the same IDX layout read by the same
  reader, named ``fashion_mnist``; its path defaults to
  ``FASHION_MNIST_DEFAULT_PATH``, where Debian's package
  ``dataset-fashion-mnist`` puts the gzip-compressed files.
* ``npz``: a user ``.npz`` archive with arrays ``x``/``y`` (or
  ``features``/``labels``).
"""

from __future__ import annotations

import functools
import gzip
import io
import math
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_zero.errors import DataError, excerpt, format_bytes
from automl_zero.tasks._checks import memory_limit_bytes

__all__ = [
    "DATASET_NAMES",
    "FASHION_MNIST_DEFAULT_PATH",
    "LabeledDataset",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_npz",
]

# Names accepted by load_dataset (and by TaskSpec.dataset_name).
DATASET_NAMES: tuple[str, ...] = ("digits", "cifar10", "mnist", "fashion_mnist", "npz")

# Where Debian's package dataset-fashion-mnist installs the Fashion-MNIST IDX
# files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-*).
FASHION_MNIST_DEFAULT_PATH = "/usr/share/datasets/fashion-mnist"
_FASHION_HELP = (
    "install Debian's package dataset-fashion-mnist (apt-get install "
    f"dataset-fashion-mnist), which puts the files in {FASHION_MNIST_DEFAULT_PATH}, "
    "or download train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz from "
    "the Fashion-MNIST repository and pass their directory"
)
_MNIST_HELP = (
    "download the MNIST training images and labels (IDX format) and pass their "
    "directory"
)

# CIFAR-10: 5 training batches of 32x32x3 images, one label byte per record.
_CIFAR_NUM_BATCHES = 5
_CIFAR_IMAGE_BYTES = 32 * 32 * 3
_CIFAR_RECORD_BYTES = 1 + _CIFAR_IMAGE_BYTES
_CIFAR_NUM_CLASSES = 10
_CIFAR_HELP = (
    "download the binary or python version of CIFAR-10 from the CIFAR-10 site and "
    "pass its directory (cifar-10-batches-bin or cifar-10-batches-py) or its parent"
)

# Class ids of npz labels must be below this in magnitude (exact in float64).
_MAX_CLASS_ID = 2**53
# MNIST IDX magic numbers: 0x0000 | type 0x08 (unsigned byte) | number of dims.
_IDX_MAGIC_IMAGES = 0x00000803
_IDX_MAGIC_LABELS = 0x00000801
_MNIST_IMAGES = ("train-images-idx3-ubyte", "train-images.idx3-ubyte")
_MNIST_LABELS = ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte")
_MNIST_NUM_CLASSES = 10


@dataclass(frozen=True, eq=False)
class LabeledDataset:
    """A labelled data set: one row of raw feature values per example.

    Invariants: ``features`` is float64, C-contiguous, shape ``(n, D)`` with
    ``n >= 1``; ``labels`` is int64 with shape ``(n,)``. Both arrays are
    read-only because loaded data sets are cached and shared.
    """

    features: np.ndarray  # float64 (n, D), raw values
    labels: np.ndarray  # int64 (n,), class ids
    name: str

    @property
    def num_examples(self) -> int:
        """Number of examples (rows)."""
        return int(self.features.shape[0])

    @property
    def feature_size(self) -> int:
        """Number of raw features per example (D)."""
        return int(self.features.shape[1])

    def class_counts(self) -> dict[int, int]:
        """Number of examples of each class id present."""
        ids, counts = np.unique(self.labels, return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts, strict=True)}


def _make_dataset(
    features: np.ndarray, labels: np.ndarray, name: str
) -> LabeledDataset:
    """Build a read-only LabeledDataset (features float64 C-order, labels int64)."""
    x = np.ascontiguousarray(features, dtype=np.float64)
    y = np.ascontiguousarray(labels, dtype=np.int64)
    if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise DataError(
            f"{name}: inconsistent data set: features {x.shape}, labels {y.shape}"
        )
    x.setflags(write=False)
    y.setflags(write=False)
    return LabeledDataset(features=x, labels=y, name=name)


# --------------------------------------------------------------------------
# Dispatch and caching.
# --------------------------------------------------------------------------


def load_dataset(name: str, path: str | Path | None = None) -> LabeledDataset:
    """Load data set ``name`` ("digits", "cifar10", "mnist", "fashion_mnist" or "npz").

    ``path`` is ignored for "digits"; a directory for "cifar10", "mnist" and
    "fashion_mnist" (default ``FASHION_MNIST_DEFAULT_PATH``), a ``.npz`` file
    for "npz"; required for the others. Results are cached per (name,
    resolved path), so repeated calls are cheap and return the same
    (read-only) object.
    """
    if name not in DATASET_NAMES:
        raise DataError(
            f"unknown data set {name!r}; expected one of {', '.join(DATASET_NAMES)}"
        )
    if name == "digits":
        return _load_cached("digits", "")
    if path is None and name == "fashion_mnist":
        path = FASHION_MNIST_DEFAULT_PATH
    if path is None:
        raise DataError(f"data set {name!r} needs a path, but none was given")
    resolved = Path(path).expanduser().resolve()
    return _load_cached(name, str(resolved))


@functools.lru_cache(maxsize=4)
def _load_cached(name: str, path: str) -> LabeledDataset:
    """Cached loader; ``path`` is already resolved (empty for digits)."""
    loaders: dict[str, Callable[[Path], LabeledDataset]] = {
        "cifar10": _read_cifar10,
        "mnist": _read_mnist,
        "fashion_mnist": _read_fashion_mnist,
        "npz": _read_npz,
    }
    if name == "digits":
        return _read_digits()
    return loaders[name](Path(path))


def load_digits() -> LabeledDataset:
    """scikit-learn's bundled 8x8 digits: 1797 examples, 64 features in 0..16."""
    return _load_cached("digits", "")


def load_cifar10(path: str | Path) -> LabeledDataset:
    """CIFAR-10 TRAIN split (data_batch_1..5): 50000 x 3072 raw pixels.

    ``path`` is the directory of the binary version (``data_batch_N.bin``), of
    the python version (``data_batch_N`` pickles), or a parent directory holding
    ``cifar-10-batches-bin`` or ``cifar-10-batches-py``. Pixels are returned in
    height-width-channel order (the order of the original's tfds images), not
    the channel-major order of the files.
    """
    return load_dataset("cifar10", path)


def load_mnist(path: str | Path) -> LabeledDataset:
    """MNIST TRAIN split from IDX files (optionally .gz): 60000 x 784 raw pixels."""
    return load_dataset("mnist", path)


def load_fashion_mnist(path: str | Path = FASHION_MNIST_DEFAULT_PATH) -> LabeledDataset:
    """Fashion-MNIST TRAIN split (IDX files, optionally .gz): 60000 x 784 raw pixels.

    ``path`` defaults to where Debian's ``dataset-fashion-mnist`` installs it.
    """
    return load_dataset("fashion_mnist", path)


def load_npz(path: str | Path) -> LabeledDataset:
    """A user ``.npz`` archive with 2-D numeric ``x`` and integer ``y`` arrays.

    The array names may also be ``features`` and ``labels``. Labels are used as
    class ids as they are.
    """
    return load_dataset("npz", path)


# --------------------------------------------------------------------------
# digits
# --------------------------------------------------------------------------


def _read_digits() -> LabeledDataset:
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    return _make_dataset(bunch.data, bunch.target, "digits")


# --------------------------------------------------------------------------
# CIFAR-10
# --------------------------------------------------------------------------


def _chw_to_hwc(images: np.ndarray) -> np.ndarray:
    """(n, 3072) channel-major rows -> (n, 3072) rows in height-width-channel order."""
    n = images.shape[0]
    return images.reshape(n, 3, 32, 32).transpose(0, 2, 3, 1).reshape(n, -1)


def _find_cifar_dir(root: Path) -> tuple[Path, str]:
    """Return (directory, "bin" | "py") holding the CIFAR-10 training batches."""
    if not root.exists():
        raise DataError(f"CIFAR-10 directory {root} does not exist; {_CIFAR_HELP}")
    if not root.is_dir():
        raise DataError(f"CIFAR-10 path {root} is not a directory; {_CIFAR_HELP}")
    for candidate in (
        root,
        root / "cifar-10-batches-bin",
        root / "cifar-10-batches-py",
    ):
        if (candidate / "data_batch_1.bin").is_file():
            return candidate, "bin"
        if (candidate / "data_batch_1").is_file():
            return candidate, "py"
    raise DataError(
        f"no CIFAR-10 data_batch_1.bin or data_batch_1 found in {root}; {_CIFAR_HELP}"
    )


def _read_cifar10(root: Path) -> LabeledDataset:
    directory, kind = _find_cifar_dir(root)
    images: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for b in range(1, _CIFAR_NUM_BATCHES + 1):
        file = directory / (
            f"data_batch_{b}.bin" if kind == "bin" else f"data_batch_{b}"
        )
        if not file.is_file():
            raise DataError(
                f"CIFAR-10 training batch {file} is missing (all of data_batch_1.."
                f"{_CIFAR_NUM_BATCHES} are needed); {_CIFAR_HELP}"
            )
        if kind == "bin":
            x, y = _read_cifar_bin_batch(file)
        else:
            x, y = _read_cifar_py_batch(file)
        images.append(x)
        labels.append(y)
    x_all = _chw_to_hwc(np.concatenate(images))
    return _make_dataset(x_all, np.concatenate(labels), "cifar10")


def _read_cifar_bin_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """Records of 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B)."""
    try:
        size = file.stat().st_size
        if size == 0 or size % _CIFAR_RECORD_BYTES != 0:
            raise DataError(
                f"CIFAR-10 batch {file} is malformed: its size ({size} bytes) is not "
                f"a positive multiple of the {_CIFAR_RECORD_BYTES}-byte record size"
            )
        _check_data_memory(file, f"{size // _CIFAR_RECORD_BYTES} records", size)
        raw = np.fromfile(file, dtype=np.uint8)
    except OSError as e:
        raise DataError(f"cannot read CIFAR-10 batch {file}: {e}") from None
    if raw.size != size:  # changed while read
        raise DataError(f"CIFAR-10 batch {file} changed while it was read")
    records = raw.reshape(-1, _CIFAR_RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    _check_class_ids(labels, _CIFAR_NUM_CLASSES, f"CIFAR-10 batch {file}")
    return records[:, 1:], labels


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild numpy arrays and plain containers, nothing else.

    ``find_class`` is the only way a pickle can reach code; it resolves a small
    allow-list of numpy array-reconstruction globals to objects imported here
    (never importing anything the pickle names) and refuses everything else.
    """

    def __init__(self, file: io.BufferedIOBase, source: Path) -> None:
        super().__init__(file, encoding="bytes")
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        obj = _allowed_pickle_globals().get((module, name))
        if obj is None:
            raise DataError(
                f"refusing to load {self._source}: the pickle references "
                f"{module}.{name}, which is not a numpy array constructor; "
                "a CIFAR-10 python batch only needs numpy arrays"
            )
        return obj


@functools.lru_cache(maxsize=1)
def _allowed_pickle_globals() -> dict[tuple[str, str], Any]:
    """(module, name) -> object for the numpy globals needed to rebuild arrays."""
    try:  # numpy >= 2
        from numpy._core import multiarray, numeric
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray, numeric  # type: ignore[no-redef]
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        # Protocol-2 pickles written by Python 3 store bytes (array data included)
        # as _codecs.encode(text, "latin1"); only that exact use is allowed.
        ("_codecs", "encode"): _latin1_encode,
    }
    # Pickles name numpy.core.* (numpy 1.x) or numpy._core.* (numpy 2.x).
    for prefix in ("numpy.core", "numpy._core"):
        allowed[(f"{prefix}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{prefix}.multiarray", "scalar")] = multiarray.scalar
        # Protocol-5 pickles of contiguous arrays use _frombuffer.
        if hasattr(numeric, "_frombuffer"):
            allowed[(f"{prefix}.numeric", "_frombuffer")] = numeric._frombuffer
    return allowed


def _latin1_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    """Stand-in for ``_codecs.encode`` that only turns latin-1 text into bytes."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise DataError(
            "refusing to unpickle a _codecs.encode call other than "
            "encode(<str>, 'latin1')"
        )
    return text.encode("latin-1")


def _read_cifar_py_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """A python-version batch: a pickled dict with b"data" and b"labels"."""
    try:
        with open(file, "rb") as f:
            obj = _NumpyOnlyUnpickler(f, file).load()  # type: ignore[arg-type]
    except DataError as e:
        if str(file) in str(e):
            raise
        raise DataError(f"refusing to load {file}: {e}") from e
    except Exception as e:  # any unpickling failure is a malformed file
        raise DataError(
            f"CIFAR-10 python batch {file} is not a readable pickle: "
            f"{type(e).__name__}: {e}"
        ) from e
    if not isinstance(obj, dict):
        raise DataError(
            f"CIFAR-10 python batch {file} holds a {type(obj).__name__}, "
            "expected a dict with 'data' and 'labels'"
        )
    data = _dict_get(obj, "data")
    labels = _dict_get(obj, "labels")
    if data is None or labels is None:
        raise DataError(f"CIFAR-10 python batch {file} has no 'data' or 'labels' entry")
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] != _CIFAR_IMAGE_BYTES:
        raise DataError(
            f"CIFAR-10 python batch {file}: 'data' has shape {data.shape}, expected "
            f"(n, {_CIFAR_IMAGE_BYTES})"
        )
    if data.dtype != np.uint8:
        raise DataError(
            f"CIFAR-10 python batch {file}: 'data' has dtype {data.dtype}, "
            "expected uint8"
        )
    try:
        y = np.asarray(labels)
    except Exception as e:
        raise DataError(f"CIFAR-10 python batch {file}: bad 'labels': {e}") from e
    if (
        y.ndim != 1
        or y.shape[0] != data.shape[0]
        or not np.issubdtype(y.dtype, np.integer)
    ):
        raise DataError(
            f"CIFAR-10 python batch {file}: 'labels' must be {data.shape[0]} integers "
            f"(one per image), got shape {y.shape} of dtype {y.dtype}"
        )
    y = y.astype(np.int64)
    _check_class_ids(y, _CIFAR_NUM_CLASSES, f"CIFAR-10 python batch {file}")
    return data, y


def _dict_get(d: dict, key: str) -> Any:
    """Look ``key`` up as bytes (official python-2 pickles) or as str."""
    if key.encode() in d:
        return d[key.encode()]
    return d.get(key)


def _check_class_ids(labels: np.ndarray, num_classes: int, what: str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(
            f"{what}: labels must be class ids in 0..{num_classes - 1}, found values "
            f"in {int(labels.min())}..{int(labels.max())}"
        )


# --------------------------------------------------------------------------
# MNIST (IDX)
# --------------------------------------------------------------------------


def _find_idx_file(root: Path, names: tuple[str, ...], title: str, hint: str) -> Path:
    for name in names:
        for candidate in (root / name, root / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise DataError(f"no {title} file {names[0]} (or {names[0]}.gz) found in {root}; {hint}")


def _read_idx(file: Path, magic: int) -> np.ndarray:
    """Parse one IDX file of unsigned bytes (plain or gzip, whatever its name
    says); returns an array of the header's dimensions.

    The header is read first: a file whose header claims more data than it
    holds, or more than fits in memory, is refused before its body is read
    (so a small gzip file cannot expand without bound).
    """
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    try:
        with open(file, "rb") as raw_file:
            compressed = raw_file.read(2) == b"\x1f\x8b"  # gzip magic
            raw_file.seek(0)
            stream: Any = gzip.GzipFile(fileobj=raw_file) if compressed else raw_file
            header = stream.read(header_size)
            dims = _idx_dims(file, header, magic)
            expected = math.prod(dims)
            if not compressed:
                body = file.stat().st_size - header_size
                _check_idx_size(file, dims, expected, body)
            _check_data_memory(file, f"its header gives dimensions {dims}", expected)
            data = stream.read(expected + 1)
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, gzip.BadGzipFile) or (compressed and not isinstance(
                e, PermissionError | IsADirectoryError)):
            raise DataError(f"MNIST file {file} is not a valid gzip file: {e}") from None
        raise DataError(f"cannot read MNIST file {file}: {e}") from None
    _check_idx_size(file, dims, expected, len(data))
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _idx_dims(file: Path, header: bytes, magic: int) -> tuple[int, ...]:
    """The dimensions of an IDX header (checked: magic number, length)."""
    ndim = magic & 0xFF
    if len(header) >= 4:
        found = int.from_bytes(header[:4], "big")
        if found != magic:
            raise DataError(
                f"MNIST file {file} has IDX magic number 0x{found:08x}, expected "
                f"0x{magic:08x} (unsigned bytes, {ndim} dimensions)"
            )
    if len(header) < 4 + 4 * ndim:
        raise DataError(
            f"MNIST file {file} is truncated: {len(header)} bytes, shorter than its "
            f"{4 + 4 * ndim}-byte IDX header"
        )
    return struct.unpack(f">{ndim}I", header[4:])


def _check_idx_size(file: Path, dims: tuple[int, ...], expected: int, body: int) -> None:
    if body != expected:
        holds = "more" if body > expected else f"{body} bytes of"
        raise DataError(
            f"MNIST file {file} is malformed: its header gives dimensions {dims} "
            f"({expected} bytes of data) but it holds {holds} data"
        )
    if expected == 0:
        raise DataError(f"MNIST file {file} holds no examples (dimensions {dims})")


def _check_data_memory(file: Path, claim: str, nbytes: int) -> None:
    """Refuse data whose raw bytes (read, then converted to float64: 9x for
    bytes) could not fit in memory."""
    limit = memory_limit_bytes()
    if nbytes > limit:
        raise DataError(
            f"data file {file}: {claim} ({format_bytes(nbytes)} of data), more than "
            f"the {format_bytes(limit)} of memory of this machine"
        )


def _read_mnist(root: Path) -> LabeledDataset:
    return _read_idx_dataset(root, "mnist", "MNIST", _MNIST_HELP)


def _read_fashion_mnist(root: Path) -> LabeledDataset:
    return _read_idx_dataset(root, "fashion_mnist", "Fashion-MNIST", _FASHION_HELP)


def _read_idx_dataset(root: Path, name: str, title: str, hint: str) -> LabeledDataset:
    """The TRAIN split of an MNIST-layout data set: IDX image and label files."""
    if not root.exists():
        raise DataError(f"{title} directory {root} does not exist; {hint}")
    if not root.is_dir():
        raise DataError(f"{title} path {root} is not a directory of IDX files; {hint}")
    images_file = _find_idx_file(root, _MNIST_IMAGES, title, hint)
    labels_file = _find_idx_file(root, _MNIST_LABELS, title, hint)
    images = _read_idx(images_file, _IDX_MAGIC_IMAGES)
    labels = _read_idx(labels_file, _IDX_MAGIC_LABELS).astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{title} files disagree: {images_file} holds {images.shape[0]} images but "
            f"{labels_file} holds {labels.shape[0]} labels"
        )
    _check_class_ids(labels, _MNIST_NUM_CLASSES, f"{title} labels {labels_file}")
    return _make_dataset(images.reshape(images.shape[0], -1), labels, name)


# --------------------------------------------------------------------------
# npz
# --------------------------------------------------------------------------


_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
_NPY_MAGIC = b"\x93NUMPY"


def _read_npz_arrays(
    fh: io.BufferedReader, file: Path
) -> tuple[str, str, np.ndarray, np.ndarray]:
    """(x key, y key, x, y) from an open .npz file.

    Never unpickles: each member's .npy header is read first, and a member that
    holds Python objects, claims more data than it holds, or more than fits in
    memory is refused before its data is read.
    """
    magic = fh.read(6)
    fh.seek(0)
    if magic == _NPY_MAGIC:
        raise DataError(
            f"{file} is a single .npy array, expected an .npz archive with arrays "
            "'x' and 'y' (or 'features' and 'labels')"
        )
    if magic[:4] not in _ZIP_MAGICS:
        raise DataError(
            f"cannot read npz data file {file}: not an .npz (zip) archive "
            f"(it starts with {excerpt(magic[:4])})"
        )
    try:
        with zipfile.ZipFile(fh) as archive:
            members = {
                (n[:-4] if n.endswith(".npy") else n): n for n in archive.namelist()
            }
            if {"x", "y"} <= members.keys():
                x_key, y_key = "x", "y"
            elif {"features", "labels"} <= members.keys():
                x_key, y_key = "features", "labels"
            else:
                raise DataError(
                    f"npz data file {file} holds arrays "
                    f"{excerpt(sorted(members))}; expected 'x' and 'y' (or "
                    "'features' and 'labels')"
                )
            x = _read_npz_member(archive, members[x_key], x_key, file)
            y = _read_npz_member(archive, members[y_key], y_key, file)
            return x_key, y_key, x, y
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(
            f"cannot read npz data file {file}: {str(e)[:200]}"
        ) from None


def _read_npz_member(
    archive: zipfile.ZipFile, member: str, key: str, file: Path
) -> np.ndarray:
    """One array of an npz archive, its header checked before its data is read."""
    where = f"npz data file {file}: '{key}'"
    info = archive.getinfo(member)
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(f)
        header_size = f.tell()
    if dtype.hasobject:
        raise DataError(
            f"{where} holds Python objects (dtype {dtype}); only plain numeric "
            "arrays are read (objects would need unpickling, which is refused)"
        )
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > info.file_size - header_size:
        raise DataError(
            f"{where} is truncated: its header gives shape {excerpt(shape)} "
            f"({nbytes} bytes) but the archive holds {info.file_size - header_size}"
        )
    _check_data_memory(file, f"'{key}' has shape {excerpt(shape)}", nbytes)
    with archive.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _read_npz(file: Path) -> LabeledDataset:
    if not file.exists():
        raise DataError(f"npz data file {file} does not exist")
    if not file.is_file():
        raise DataError(f"npz data path {file} is not a file")
    # Open the file ourselves: np.load leaks its handle when the zip is invalid.
    with open(file, "rb") as fh:
        x_key, y_key, x, y = _read_npz_arrays(fh, file)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(
            f"npz data file {file}: '{x_key}' must be a non-empty 2-D array "
            f"(examples x features), got shape {x.shape}"
        )
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise DataError(
            f"npz data file {file}: '{x_key}' must be numeric, got dtype {x.dtype}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.all(np.isfinite(x.astype(np.float64)))
    if not finite:
        raise DataError(
            f"npz data file {file}: '{x_key}' holds NaN or infinite values (or values "
            "too large for a float64)"
        )
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise DataError(
            f"npz data file {file}: '{y_key}' must be 1-D with one label per row of "
            f"'{x_key}' ({x.shape[0]}), got shape {y.shape}"
        )
    if np.issubdtype(y.dtype, np.floating):
        # Accept float labels only when every value is an exact integer.
        if not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise DataError(
                f"npz data file {file}: '{y_key}' must hold integer class ids, "
                "found non-integer values"
            )
        if np.any(np.abs(y) >= _MAX_CLASS_ID):
            raise DataError(
                f"npz data file {file}: '{y_key}' holds class ids beyond "
                f"+-{_MAX_CLASS_ID}"
            )
    elif np.issubdtype(y.dtype, np.integer):
        if y.size and (y.max() >= _MAX_CLASS_ID or y.min() <= -_MAX_CLASS_ID):
            raise DataError(
                f"npz data file {file}: '{y_key}' holds class ids beyond "
                f"+-{_MAX_CLASS_ID}"
            )
    else:
        raise DataError(
            f"npz data file {file}: '{y_key}' must hold integer class ids, got "
            f"dtype {y.dtype}"
        )
    return _make_dataset(x, y.astype(np.int64), f"npz:{file.name}")
