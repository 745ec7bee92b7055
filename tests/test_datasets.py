"""Tests of the data set readers on small files written in the real formats."""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from automl_zero.errors import DataError
from automl_zero.tasks.datasets import (
    LabeledDataset,
    load_cifar10,
    load_dataset,
    load_digits,
    load_mnist,
    load_npz,
)

# --------------------------------------------------------------------------
# Helpers writing the real formats.
# --------------------------------------------------------------------------


def _cifar_batches(
    num_per_batch: int = 4, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Five batches of (uint8 (n, 3072) channel-major images, int labels)."""
    rng = np.random.default_rng(seed)
    return [
        (
            rng.integers(0, 256, (num_per_batch, 3072), dtype=np.uint8),
            rng.integers(0, 10, num_per_batch),
        )
        for _ in range(5)
    ]


def _write_cifar_bin(directory: Path, batches) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for b, (images, labels) in enumerate(batches, start=1):
        records = np.concatenate([labels.astype(np.uint8)[:, None], images], axis=1)
        (directory / f"data_batch_{b}.bin").write_bytes(records.tobytes())
    return directory


def _write_cifar_py(directory: Path, batches, protocol: int = 2) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for b, (images, labels) in enumerate(batches, start=1):
        # The official files are python-2 pickles with bytes keys and list labels.
        content = {
            b"batch_label": b"training batch %d of 5" % b,
            b"labels": [int(v) for v in labels],
            b"data": images,
            b"filenames": [b"img_%d.png" % i for i in range(len(labels))],
        }
        with open(directory / f"data_batch_{b}", "wb") as f:
            pickle.dump(content, f, protocol=protocol)
    return directory


def _expected_cifar(batches) -> tuple[np.ndarray, np.ndarray]:
    images = np.concatenate([b[0] for b in batches])
    hwc = images.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(len(images), -1)
    return hwc.astype(np.float64), np.concatenate([b[1] for b in batches])


def _idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: magic 0x0000 08 ndim, big-endian dims, data."""
    header = struct.pack(">I", 0x0800 | array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_mnist(directory: Path, images, labels, compress: bool) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, arr in (
        ("train-images-idx3-ubyte", images),
        ("train-labels-idx1-ubyte", labels),
    ):
        data = _idx_bytes(arr)
        if compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return directory


class _Evil:
    """Unpickling this runs os.system: the loader must refuse it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# --------------------------------------------------------------------------
# digits
# --------------------------------------------------------------------------


def test_digits_loads_bundled_data():
    ds = load_digits()
    assert isinstance(ds, LabeledDataset)
    assert ds.features.shape == (1797, 64)
    assert ds.features.dtype == np.float64 and ds.labels.dtype == np.int64
    assert set(np.unique(ds.labels)) == set(range(10))
    assert ds.features.min() == 0 and ds.features.max() == 16
    assert not ds.features.flags.writeable and not ds.labels.flags.writeable
    assert load_dataset("digits") is ds  # cached


def test_unknown_dataset_and_missing_path():
    with pytest.raises(DataError, match="unknown data set 'imagenet'"):
        load_dataset("imagenet")
    with pytest.raises(DataError, match="needs a path"):
        load_dataset("cifar10")


# --------------------------------------------------------------------------
# CIFAR-10
# --------------------------------------------------------------------------


def test_cifar_binary_version(tmp_path):
    batches = _cifar_batches()
    directory = _write_cifar_bin(tmp_path / "cifar-10-batches-bin", batches)
    ds = load_cifar10(directory)
    x, y = _expected_cifar(batches)
    assert ds.name == "cifar10"
    assert ds.features.shape == (20, 3072) and ds.features.dtype == np.float64
    np.testing.assert_array_equal(ds.features, x)
    np.testing.assert_array_equal(ds.labels, y)


def test_cifar_pixels_are_height_width_channel(tmp_path):
    batches = _cifar_batches(num_per_batch=1)
    image = np.concatenate([np.full(1024, 1), np.full(1024, 2), np.full(1024, 3)])
    batches[0] = (image.astype(np.uint8)[None, :], np.array([7]))
    ds = load_cifar10(_write_cifar_bin(tmp_path / "bin", batches))
    # The file holds 1024 R, then G, then B; rows are pixel by pixel (R, G, B).
    np.testing.assert_array_equal(ds.features[0, :6], [1, 2, 3, 1, 2, 3])
    assert ds.labels[0] == 7


def test_cifar_parent_directory_is_accepted(tmp_path):
    batches = _cifar_batches()
    _write_cifar_bin(tmp_path / "cifar-10-batches-bin", batches)
    ds = load_dataset("cifar10", tmp_path)
    np.testing.assert_array_equal(ds.features, _expected_cifar(batches)[0])


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_python_version_matches_binary(tmp_path, protocol):
    batches = _cifar_batches(seed=3)
    ds_py = load_cifar10(
        _write_cifar_py(tmp_path / "cifar-10-batches-py", batches, protocol)
    )
    x, y = _expected_cifar(batches)
    np.testing.assert_array_equal(ds_py.features, x)
    np.testing.assert_array_equal(ds_py.labels, y)
    ds_bin = load_cifar10(_write_cifar_bin(tmp_path / "bin", batches))
    np.testing.assert_array_equal(ds_py.features, ds_bin.features)


def test_cifar_python_version_with_str_keys_and_array_labels(tmp_path):
    batches = _cifar_batches(seed=4)
    directory = tmp_path / "py"
    directory.mkdir()
    for b, (images, labels) in enumerate(batches, start=1):
        with open(directory / f"data_batch_{b}", "wb") as f:
            pickle.dump({"data": images, "labels": labels.astype(np.int64)}, f)
    ds = load_cifar10(directory)
    np.testing.assert_array_equal(ds.labels, _expected_cifar(batches)[1])


def test_cifar_pickle_with_malicious_global_is_refused(tmp_path):
    batches = _cifar_batches()
    directory = _write_cifar_py(tmp_path / "py", batches)
    marker = tmp_path / "pwned"
    with open(directory / "data_batch_2", "wb") as f:
        pickle.dump({b"data": _Evil(marker), b"labels": [0]}, f)
    with pytest.raises(DataError, match=r"data_batch_2.*(posix|os)\.system"):
        load_cifar10(directory)
    assert not marker.exists()


def test_cifar_pickle_with_builtin_eval_is_refused(tmp_path):
    directory = _write_cifar_py(tmp_path / "py", _cifar_batches())
    payload = (
        b"\x80\x02cbuiltins\neval\nq\x00X\x06\x00\x00\x001+1+1+q\x01\x85q\x02Rq\x03."
    )
    (directory / "data_batch_1").write_bytes(payload)
    with pytest.raises(DataError, match="builtins.eval"):
        load_cifar10(directory)


def test_cifar_pickle_codecs_encode_only_for_latin1(tmp_path):
    directory = _write_cifar_py(tmp_path / "py", _cifar_batches())
    # _codecs.encode("abc", "rot13"): allowed global, refused arguments.
    payload = (
        b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13\x86R."
    )
    assert pickle.loads(payload) == "nop"  # what plain pickle would do
    (directory / "data_batch_3").write_bytes(payload)
    with pytest.raises(
        DataError, match=r"data_batch_3: refusing to unpickle a _codecs"
    ):
        load_cifar10(directory)


def test_cifar_missing_directory_and_files(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_cifar10(tmp_path / "nope")
    with pytest.raises(
        DataError, match=r"no CIFAR-10 data_batch_1\.bin or data_batch_1"
    ):
        load_cifar10(tmp_path)
    directory = _write_cifar_bin(tmp_path / "bin", _cifar_batches())
    (directory / "data_batch_3.bin").unlink()
    with pytest.raises(DataError, match=r"data_batch_3\.bin is missing"):
        load_cifar10(directory)


def test_cifar_truncated_binary_batch(tmp_path):
    directory = _write_cifar_bin(tmp_path / "bin", _cifar_batches())
    raw = (directory / "data_batch_4.bin").read_bytes()
    (directory / "data_batch_4.bin").write_bytes(raw[:-10])
    with pytest.raises(DataError, match=r"data_batch_4\.bin is malformed.*3073"):
        load_cifar10(directory)


def test_cifar_binary_label_out_of_range(tmp_path):
    batches = _cifar_batches()
    batches[0] = (batches[0][0], np.array([0, 1, 12, 3]))
    with pytest.raises(DataError, match="class ids in 0..9"):
        load_cifar10(_write_cifar_bin(tmp_path / "bin", batches))


def test_cifar_truncated_and_malformed_pickles(tmp_path):
    directory = _write_cifar_py(tmp_path / "py", _cifar_batches())
    raw = (directory / "data_batch_1").read_bytes()
    (directory / "data_batch_1").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="data_batch_1 is not a readable pickle"):
        load_cifar10(directory)

    directory = _write_cifar_py(tmp_path / "py2", _cifar_batches())
    with open(directory / "data_batch_5", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(DataError, match=r"data_batch_5.*shape \(2, 100\)"):
        load_cifar10(directory)

    directory = _write_cifar_py(tmp_path / "py3", _cifar_batches())
    with open(directory / "data_batch_5", "wb") as f:
        pickle.dump([1, 2, 3], f)
    with pytest.raises(DataError, match="holds a list"):
        load_cifar10(directory)

    directory = _write_cifar_py(tmp_path / "py4", _cifar_batches())
    with open(directory / "data_batch_5", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, f)
    with pytest.raises(DataError, match="'labels' must be 2 integers"):
        load_cifar10(directory)


# --------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_idx_files(tmp_path, compress):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labels = np.array([5, 0, 4, 1, 9, 2], dtype=np.uint8)
    ds = load_mnist(_write_mnist(tmp_path, images, labels, compress))
    assert ds.name == "mnist"
    assert ds.features.shape == (6, 784) and ds.features.dtype == np.float64
    np.testing.assert_array_equal(
        ds.features, images.reshape(6, 784).astype(np.float64)
    )
    np.testing.assert_array_equal(ds.labels, labels)


def test_mnist_missing_files(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(tmp_path / "none")
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


def test_mnist_bad_magic(tmp_path):
    images = np.zeros((2, 28, 28), np.uint8)
    labels = np.array([1, 2], np.uint8)
    _write_mnist(tmp_path, images, labels, compress=False)
    # Swap the files: the image file now carries the labels' magic number.
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(labels))
    with pytest.raises(
        DataError, match=r"magic number 0x00000801, expected 0x00000803"
    ):
        load_mnist(tmp_path)


def test_mnist_truncated_file(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    labels = np.array([1, 2, 3], np.uint8)
    _write_mnist(tmp_path, images, labels, compress=False)
    raw = (tmp_path / "train-images-idx3-ubyte").read_bytes()
    (tmp_path / "train-images-idx3-ubyte").write_bytes(raw[:-5])
    with pytest.raises(DataError, match=r"header gives dimensions \(3, 28, 28\)"):
        load_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(raw[:6])
    with pytest.raises(DataError, match="truncated"):
        load_mnist(tmp_path)


def test_mnist_count_mismatch_and_bad_labels(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    _write_mnist(tmp_path / "a", images, np.array([1, 2], np.uint8), compress=False)
    with pytest.raises(DataError, match="3 images but .* 2 labels"):
        load_mnist(tmp_path / "a")
    _write_mnist(tmp_path / "b", images, np.array([1, 2, 200], np.uint8), compress=True)
    with pytest.raises(DataError, match="class ids in 0..9"):
        load_mnist(tmp_path / "b")


def test_mnist_corrupt_gzip(tmp_path):
    _write_mnist(tmp_path, np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8), True)
    raw = (tmp_path / "train-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(raw[:12])
    with pytest.raises(DataError, match="not a valid gzip file"):
        load_mnist(tmp_path)


# --------------------------------------------------------------------------
# npz
# --------------------------------------------------------------------------


def test_npz_x_y(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array([0, 3, 3, 7])
    np.savez(tmp_path / "d.npz", x=x, y=y)
    ds = load_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(ds.features, x.astype(np.float64))
    assert ds.features.dtype == np.float64 and ds.labels.dtype == np.int64
    np.testing.assert_array_equal(ds.labels, y)
    assert ds.class_counts() == {0: 1, 3: 2, 7: 1}


def test_npz_features_labels_and_integral_float_labels(tmp_path):
    np.savez_compressed(
        tmp_path / "d.npz",
        features=np.ones((3, 2), np.int16),
        labels=np.array([1.0, 2.0, 1.0]),
    )
    ds = load_dataset("npz", tmp_path / "d.npz")
    np.testing.assert_array_equal(ds.labels, [1, 2, 1])
    np.testing.assert_array_equal(ds.features, np.ones((3, 2)))


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"a": np.ones((2, 2)), "b": np.ones(2)}, "expected 'x' and 'y'"),
        ({"x": np.ones(3), "y": np.ones(3, int)}, "non-empty 2-D array"),
        ({"x": np.ones((3, 2)), "y": np.ones(2, int)}, "one label per row"),
        ({"x": np.ones((3, 2)), "y": np.array([0.5, 1, 2])}, "non-integer values"),
        ({"x": np.array([["a", "b"]]), "y": np.ones(1, int)}, "must be numeric"),
        ({"x": np.array([[np.nan, 1.0]]), "y": np.ones(1, int)}, "NaN or infinite"),
        ({"x": np.ones((2, 2)), "y": np.array(["a", "b"])}, "integer class ids"),
    ],
)
def test_npz_malformed_contents(tmp_path, arrays, message):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError, match=message):
        load_npz(tmp_path / "d.npz")


def test_npz_object_arrays_are_not_unpickled(tmp_path):
    y = np.array([{"a": 1}, None], dtype=object)
    np.savez(tmp_path / "d.npz", x=np.ones((2, 2)), y=y)
    with pytest.raises(DataError, match=r"d\.npz: 'y' holds Python objects"):
        load_npz(tmp_path / "d.npz")


def test_npz_missing_garbage_and_npy(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_npz(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(DataError, match="cannot read npz data file"):
        load_npz(tmp_path / "junk.npz")
    np.save(tmp_path / "single.npy", np.ones((2, 2)))
    with pytest.raises(DataError, match="single .npy array"):
        load_npz(tmp_path / "single.npy")
    with pytest.raises(DataError, match="is not a file"):
        load_npz(tmp_path)


# --------------------------------------------------------------------------
# Hostile files: absurd headers, truncation, wrong magic, objects. Every
# problem is a DataError naming the file, raised before large allocations.
# --------------------------------------------------------------------------

_LABELS = np.array([1, 2], np.uint8)


def _idx_header(magic: int, *dims: int) -> bytes:
    return struct.pack(f">I{len(dims)}I", magic, *dims)


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_header_claiming_absurd_shapes(tmp_path, compress):
    huge = _idx_header(0x803, 10**9, 10**9, 10**9) + bytes(64)
    _write_mnist(tmp_path, np.zeros((2, 2, 2), np.uint8), _LABELS, compress)
    name = "train-images-idx3-ubyte" + (".gz" if compress else "")
    (tmp_path / name).write_bytes(gzip.compress(huge) if compress else huge)
    with pytest.raises(DataError) as err:
        load_mnist(tmp_path)
    message = str(err.value)
    assert name in message
    assert "(1000000000, 1000000000, 1000000000)" in message  # exact, no int64 overflow
    # plain files: compared with the file size; gzip: with the memory available
    assert ("holds 64 bytes" if not compress else "of memory of this machine") in message


def test_mnist_gzip_body_longer_than_its_header_says(tmp_path):
    _write_mnist(tmp_path, np.zeros((2, 2, 2), np.uint8), _LABELS, compress=True)
    # 8 bytes announced, 50 MB compressed into a few kB: read no further than 9
    body = _idx_header(0x803, 2, 2, 2) + bytes(50_000_000)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(body))
    with pytest.raises(DataError, match=r"ubyte\.gz is malformed: .* but it holds more"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("content, message", [
    (b"", "is truncated: 0 bytes"),
    (b"\x00\x00\x08", "is truncated: 3 bytes"),
    (_idx_header(0x803, 2, 2), "is truncated: 12 bytes"),
    (_idx_header(0x0D03, 2, 2, 2) + bytes(8), "magic number 0x00000d03"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "magic number 0x89504e47"),
    (_idx_header(0x803, 0, 28, 28), "holds no examples"),
])
def test_mnist_truncated_and_wrong_magic(tmp_path, content, message):
    _write_mnist(tmp_path, np.zeros((2, 2, 2), np.uint8), _LABELS, compress=False)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(content)
    with pytest.raises(DataError, match=message) as err:
        load_mnist(tmp_path)
    assert "train-images-idx3-ubyte" in str(err.value)


def test_mnist_file_that_is_a_directory(tmp_path):
    _write_mnist(tmp_path, np.zeros((2, 2, 2), np.uint8), _LABELS, compress=False)
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte").mkdir()
    with pytest.raises(DataError, match="no MNIST file train-images-idx3-ubyte"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("size", [3073 * 2 - 1, 3073 * 2 + 1, 100, 0])
def test_cifar_batch_of_the_wrong_size(tmp_path, size):
    directory = _write_cifar_bin(tmp_path / "bin", _cifar_batches())
    (directory / "data_batch_2.bin").write_bytes(bytes(size))
    with pytest.raises(DataError, match=rf"data_batch_2\.bin is malformed: its size "
                                        rf"\({size} bytes\)"):
        load_cifar10(directory)


def test_cifar_python_batch_that_is_not_a_pickle(tmp_path):
    directory = _write_cifar_py(tmp_path / "py", _cifar_batches())
    (directory / "data_batch_3").write_bytes(b"\x00" * 100)
    with pytest.raises(DataError, match=r"data_batch_3 is not a readable pickle"):
        load_cifar10(directory)


def _npz_with_header(path: Path, header: dict, body: bytes, compress: bool) -> Path:
    """An npz whose x.npy has the given header (which may lie) and body."""
    import io
    import zipfile

    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, header)
    member.write(body)
    y = io.BytesIO()
    np.save(y, np.arange(2))
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", mode) as z:
        z.writestr("x.npy", member.getvalue())
        z.writestr("y.npy", y.getvalue())
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_npz_header_claiming_an_absurd_shape(tmp_path, compress):
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**9)}
    path = _npz_with_header(tmp_path / "h.npz", header, bytes(64), compress)
    with pytest.raises(DataError, match=r"h\.npz: 'x' is truncated: its header gives "
                                        r"shape \(1000000000, 1000000000\)"):
        load_npz(path)


def test_npz_truncated_member_and_archive(tmp_path):
    header = {"descr": "<f8", "fortran_order": False, "shape": (2, 3)}
    path = _npz_with_header(tmp_path / "t.npz", header, bytes(8 * 5), False)
    with pytest.raises(DataError, match=r"t\.npz: 'x' is truncated"):
        load_npz(path)
    np.savez(tmp_path / "cut.npz", x=np.ones((100, 3)), y=np.arange(100))
    raw = (tmp_path / "cut.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match=r"cannot read npz data file .*cut\.npz"):
        load_npz(tmp_path / "cut.npz")


@pytest.mark.parametrize("x", [
    np.array([[1, None]], dtype=object),
    np.zeros(2, dtype=[("a", "O"), ("b", "f8")]),
])
def test_npz_object_members_are_refused_before_reading(tmp_path, x, monkeypatch):
    np.savez(tmp_path / "o.npz", x=x, y=np.arange(len(x)))

    def no_unpickling(*args, **kwargs):
        raise AssertionError("the loader tried to unpickle")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    with pytest.raises(DataError, match=r"o\.npz: 'x' holds Python objects"):
        load_npz(tmp_path / "o.npz")


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.zeros((2, 3), complex), "y": np.arange(2)}, "'x' must be numeric"),
    ({"x": np.zeros((2, 3), bool), "y": np.arange(2)}, "'x' must be numeric"),
    ({"x": np.zeros((2, 3)), "y": np.array([1e300, 1.0])}, "class ids beyond"),
    ({"x": np.zeros((2, 3)), "y": np.array([2**64 - 1, 1], np.uint64)},
     "class ids beyond"),
    ({"x": np.zeros(3, dtype=[("a", "f8")]), "y": np.arange(3)}, "non-empty 2-D"),
])
def test_npz_members_that_are_not_plain_numeric_arrays(tmp_path, arrays, message):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError, match=message):
        load_npz(tmp_path / "d.npz")


def test_npz_wrong_magic(tmp_path):
    for content in (b"hello world", b"", b"\x1f\x8b\x08\x00"):
        (tmp_path / "m.npz").write_bytes(content)
        with pytest.raises(DataError, match=r"m\.npz: not an .npz \(zip\) archive"):
            load_npz(tmp_path / "m.npz")
