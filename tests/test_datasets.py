"""read_idx and load_mnist (pyflux/datasets/mnist.py), on small IDX files written here and on MNIST when present."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

import pyflux as flux
from pyflux.datasets import load_mnist, read_idx

TYPE_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array):
    array = np.asarray(array)
    code = TYPE_CODES[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, data, compress=False):
    path = Path(path)
    if compress:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def write_mnist(folder, n_train=5, n_test=3, compress=False, rows=4, cols=3):
    rng = np.random.default_rng(0)
    sets = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, rows, cols), dtype=np.uint8)
        images[0, 0, 0], images[0, 0, 1] = 0, 255
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        write(folder / f"{prefix}-images-idx3-ubyte", idx_bytes(images), compress)
        write(folder / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels), compress)
        sets[prefix] = images, labels
    return sets


# ---------------------------------------------------------------------------------------------------
# read_idx


@pytest.mark.parametrize("dtype", list(TYPE_CODES))
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips(tmp_path, dtype, compress):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    out = read_idx(write(tmp_path / "a-idx3", idx_bytes(array), compress))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, array)


def test_read_idx_takes_a_string_path(tmp_path):
    path = write(tmp_path / "labels", idx_bytes(np.array([3, 1, 4], np.uint8)))
    np.testing.assert_array_equal(read_idx(str(path)), [3, 1, 4])


@pytest.mark.parametrize("data, text", [
    (b"\x00\x00", "too short"),
    (b"\x01\x02\x08\x01" + (3).to_bytes(4, "big") + b"abc", "0x01020801 is not that of an IDX file"),
    (b"\x00\x00\x07\x01" + (3).to_bytes(4, "big") + b"abc", "0x00000701 is not that of an IDX file"),
    (b"\x00\x00\x08\x00", "0x00000800 is not that of an IDX file"),
    (b"\x00\x00\x08\x03" + (3).to_bytes(4, "big"), "truncated: the header needs 16 bytes"),
    (b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + b"abc", "truncated: the header gives shape (10,), 10 bytes"),
    (b"\x00\x00\x08\x01" + (2).to_bytes(4, "big") + b"abc", "1 unexpected bytes"),
    (b"\x00\x00\x0c\x01" + (2).to_bytes(4, "big") + b"abcdefg", "truncated"),
])
def test_read_idx_errors_name_the_file(tmp_path, data, text):
    path = write(tmp_path / "broken-idx", data)
    with pytest.raises(ValueError) as err:
        read_idx(path)
    assert str(path) in str(err.value) and text in str(err.value)


def test_truncated_gzip_names_the_file(tmp_path):
    good = gzip.compress(idx_bytes(np.zeros((50, 28, 28), np.uint8)))
    path = write(tmp_path / "cut-idx3-ubyte.gz", good[: len(good) // 2])
    with pytest.raises(ValueError, match="cut-idx3-ubyte.gz"):
        read_idx(path)
    path = write(tmp_path / "plain-bytes.gz", b"not gzip at all")
    with pytest.raises(ValueError, match="plain-bytes.gz"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nothing-here")


# ---------------------------------------------------------------------------------------------------
# load_mnist on small files


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_scales_and_lays_out_features_by_batch(tmp_path, compress):
    sets = write_mnist(tmp_path, compress=compress)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        raw_images, raw_labels = sets[prefix]
        images, labels = load_mnist(tmp_path, split)
        n = raw_images.shape[0]
        assert images.shape == (12, n) and images.dtype == np.float32
        assert labels.shape == (n,) and labels.dtype == np.int64
        np.testing.assert_array_equal(labels, raw_labels)
        for k in range(n):
            np.testing.assert_array_equal(images[:, k], raw_images[k].ravel().astype(np.float32) / np.float32(255))
        assert images[0, 0] == 0 and images[1, 0] == 1
        assert images.T.flags.c_contiguous  # one image after another in memory


def test_load_mnist_prefers_plain_files_and_accepts_dotted_names(tmp_path):
    write_mnist(tmp_path, n_train=4, compress=True)
    images = np.full((2, 2, 2), 51, np.uint8)
    write(tmp_path / "train-images.idx3-ubyte", idx_bytes(images))
    write(tmp_path / "train-labels.idx1-ubyte", idx_bytes(np.array([7, 8], np.uint8)))
    x, y = load_mnist(tmp_path)
    assert x.shape == (4, 2) and np.allclose(x, 0.2) and y.tolist() == [7, 8]


def test_load_mnist_uses_the_environment_variable(tmp_path, monkeypatch):
    write_mnist(tmp_path, n_train=2)
    monkeypatch.setenv("PYFLUX_MNIST", str(tmp_path))
    assert load_mnist()[0].shape == (12, 2)


def test_load_mnist_without_a_path_asks_for_one(monkeypatch):
    monkeypatch.delenv("PYFLUX_MNIST", raising=False)
    with pytest.raises(ValueError, match="PYFLUX_MNIST"):
        load_mnist()


def test_load_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_mnist(tmp_path / "absent")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, "validation")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_swapped_files(tmp_path):
    write_mnist(tmp_path)
    labels_file = tmp_path / "train-labels-idx1-ubyte"
    os.replace(labels_file, tmp_path / "spare")
    (tmp_path / "train-images-idx3-ubyte").rename(labels_file)
    os.replace(tmp_path / "spare", tmp_path / "train-images-idx3-ubyte")
    with pytest.raises(ValueError) as err:
        load_mnist(tmp_path)
    assert "train-images-idx3-ubyte" in str(err.value) and "expected 0x00000803" in str(err.value)


def test_load_mnist_rejects_count_mismatch(tmp_path):
    write_mnist(tmp_path, n_train=5)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match="holds 5 images but .*train-labels-idx1-ubyte holds 4 labels"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_a_corrupt_magic_number(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte"
    data = bytearray(path.read_bytes())
    data[2] = 0x09
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte: magic number 0x00000903, expected 0x00000803"):
        load_mnist(tmp_path, "test")


def test_load_mnist_rejects_a_truncated_file(tmp_path):
    write_mnist(tmp_path, compress=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-7]))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: truncated"):
        load_mnist(tmp_path)


# ---------------------------------------------------------------------------------------------------
# the real MNIST


def _mnist_folder():
    env = os.environ.get("PYFLUX_MNIST")
    folder = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    present = any((folder / name).exists() for name in ("train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte"))
    return folder if present else None


MNIST = _mnist_folder()
needs_mnist = pytest.mark.skipif(MNIST is None,
                                 reason="MNIST files not found (set PYFLUX_MNIST or provide ../shared/data/mnist)")


@needs_mnist
@pytest.mark.parametrize("split, n, first, counts, mean", [
    ("train", 60_000, [5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
     [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949], 33.32),
    ("test", 10_000, [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
     [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], 33.79),
])
def test_real_mnist(split, n, first, counts, mean):
    images, labels = load_mnist(MNIST, split)
    assert images.shape == (784, n) and images.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert labels[:10].tolist() == first and np.bincount(labels).tolist() == counts
    assert images.min() == 0 and images.max() == 1
    assert abs(float(images.mean(dtype=np.float64)) * 255 - mean) < 0.05
    targets = flux.onehotbatch(labels, range(10))
    assert targets.shape == (10, n) and (flux.onecold(targets) == labels).all()
    xb, yb = next(iter(flux.DataLoader((images, targets), batchsize=128, shuffle=True, rng=0)))
    assert xb.shape == (784, 128) and yb.shape == (10, 128)
