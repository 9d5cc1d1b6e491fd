"""MNIST from its four IDX files (plain or gzip-compressed) in a folder the user names."""

import gzip
import math
import os
import zlib

import numpy as np

# IDX data type codes (third byte of the magic number) and their big-endian numpy types.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_SPLITS = {"train": "train", "test": "t10k"}


def _read_bytes(path):
    with open(path, "rb") as f:
        if not path.endswith(".gz"):
            return f.read()
        try:
            return gzip.GzipFile(fileobj=f).read()
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{path}: cannot decompress this gzip file ({error})") from error


def _parse_idx(raw, path, expect=None):
    """The array in IDX bytes ``raw`` (read-only, big-endian for multi-byte types); ``expect`` = (type, ndim)."""
    if len(raw) < 4:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for an IDX header (4-byte magic number)")
    magic = int.from_bytes(raw[:4], "big")
    code, ndim = raw[2], raw[3]
    if expect is not None and (code, ndim) != expect:
        want = (expect[0] << 8) | expect[1]
        raise ValueError(f"{path}: magic number 0x{magic:08X}, expected 0x{want:08X} (IDX, type 0x{expect[0]:02X}, "
                         f"{expect[1]} dimensions); is this the right file?")
    if raw[0] != 0 or raw[1] != 0 or code not in _IDX_TYPES or ndim == 0:
        raise ValueError(f"{path}: magic number 0x{magic:08X} is not that of an IDX file (0x0000TTNN with a known "
                         f"type TT and NN >= 1 dimensions)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated: the header needs {header} bytes for {ndim} dimensions, the file has "
                         f"{len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[code])
    expected, found = math.prod(shape) * dtype.itemsize, len(raw) - header
    if found < expected:
        raise ValueError(f"{path}: truncated: the header gives shape {shape}, {expected} bytes of data, but the file "
                         f"has {found}")
    if found > expected:
        raise ValueError(f"{path}: {found - expected} unexpected bytes after the {expected} bytes of data for shape "
                         f"{shape}")
    return np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=header).reshape(shape)


def read_idx(file):
    """``read_idx(file)``: the array stored in one IDX file (plain, or gzip-compressed if the name ends in .gz).

    IDX: a magic number ``0x0000TTNN`` (TT the element type: 0x08 uint8, 0x09 int8, 0x0B int16,
    0x0C int32, 0x0D float32, 0x0E float64; NN the number of dimensions), NN big-endian uint32
    sizes, then the data in row-major order. Returns a writable array of that shape in native byte
    order. A wrong magic number, a short (truncated) file or extra bytes raise ValueError naming
    the file.
    """
    path = os.fspath(file)
    array = _parse_idx(_read_bytes(path), path)
    return array.astype(array.dtype.newbyteorder("="))


def _mnist_directory(path):
    if path is None:
        path = os.environ.get("PYFLUX_MNIST") or None
    if path is None:
        raise ValueError("load_mnist: no MNIST folder given; pass load_mnist(path) or set the environment variable "
                         "PYFLUX_MNIST to the folder holding train-images-idx3-ubyte(.gz) and the other three files")
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"load_mnist: {path} is not a folder")
    return path


def _find(directory, prefix, what, ndim):
    names = [f"{prefix}-{what}-idx{ndim}-ubyte", f"{prefix}-{what}.idx{ndim}-ubyte"]
    candidates = names + [name + ".gz" for name in names]
    for name in candidates:
        file = os.path.join(directory, name)
        if os.path.isfile(file):
            return file
    raise FileNotFoundError(f"load_mnist: none of {', '.join(candidates)} is in {directory}")


def load_mnist(path=None, split="train"):
    """``load_mnist(path=None, split="train")``: ``(images, labels)`` of MNIST's training or test set.

    ``path`` is the folder holding the IDX files (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
    plain or ending in ``.gz``); None means the environment variable ``PYFLUX_MNIST``. ``split``
    is ``"train"`` (60,000 images) or ``"test"`` (10,000). Nothing is downloaded.

    ``images`` is float32 of shape ``(784, N)`` (features x batch, pixel values / 255 in [0, 1],
    each column one image in row-major pixel order); its memory holds one image after another,
    the layout of Flux's 784 x N matrix (a transposed view of an ``(N, 784)`` array), which is also
    the layout ``DataLoader`` shuffles fastest. ``labels`` is int64 of shape ``(N,)`` with values
    0-9; ``onehotbatch(labels, range(10))`` gives the targets.

    Files with a wrong magic number, truncated files and image/label counts that disagree raise
    ValueError naming the file; missing files raise FileNotFoundError.
    """
    if split not in _SPLITS:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    directory = _mnist_directory(path)
    image_file = _find(directory, _SPLITS[split], "images", 3)
    label_file = _find(directory, _SPLITS[split], "labels", 1)
    images = _parse_idx(_read_bytes(image_file), image_file, expect=(0x08, 3))
    labels = _parse_idx(_read_bytes(label_file), label_file, expect=(0x08, 1))
    n = images.shape[0]
    if labels.shape[0] != n:
        raise ValueError(f"load_mnist: {image_file} holds {n} images but {label_file} holds {labels.shape[0]} labels")
    pixels = np.empty((n, images.shape[1] * images.shape[2]), dtype=np.float32)
    np.divide(images.reshape(n, -1), np.float32(255), out=pixels)
    return pixels.T, labels.astype(np.int64)
