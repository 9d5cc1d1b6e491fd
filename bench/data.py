"""Data for the MNIST workloads: the real images through ``pyflux.datasets.load_mnist``, or seeded
random stand-ins of the same shapes.

Images come back batch-first, ``(N, 784)`` float32 and C-contiguous, so that a batch is a
contiguous block of rows for every peer; pyflux and the numpy code take ``rows.T``, which is the
features x batch ``(784, N)`` layout of Flux without a copy.
"""

import functools
import os
from pathlib import Path

import numpy as np

from bench.workloads.common import Skip

REPO = Path(__file__).resolve().parent.parent
N_PIXELS, N_CLASSES = 784, 10


def mnist_dir():
    """``$PYFLUX_MNIST`` if set, else ``../shared/data/mnist`` beside the repository."""
    return Path(os.environ.get("PYFLUX_MNIST") or REPO.parent / "shared" / "data" / "mnist")


@functools.cache
def mnist(split):
    """``(rows (N, 784) float32 in [0, 1], labels (N,) int64)`` for split "train" or "test"; raises
    :class:`Skip` with the reason when the files or the loader are missing."""
    path = mnist_dir()
    if not path.is_dir():
        raise Skip(f"MNIST not found at {path} (set PYFLUX_MNIST to its folder)")
    try:
        from pyflux.datasets import load_mnist
    except ImportError as err:
        raise Skip(f"pyflux.datasets.load_mnist is not available: {err}") from None
    images, labels = load_mnist(str(path), split)
    rows = np.ascontiguousarray(np.asarray(images, dtype=np.float32).T)
    rows.flags.writeable = False
    labels = np.asarray(labels, dtype=np.int64)
    if rows.shape != (labels.shape[0], N_PIXELS):
        raise Skip(f"load_mnist returned images of shape {np.shape(images)} for {labels.shape[0]} labels")
    return rows, labels


def synthetic(n, seed=0):
    """Random images in [0, 1) and random labels, shaped like MNIST."""
    rng = np.random.default_rng(seed)
    return rng.random((n, N_PIXELS), dtype=np.float32), rng.integers(0, N_CLASSES, size=n, dtype=np.int64)


def images(n, real, seed=0):
    """The first ``n`` training images: real ones when ``real`` (raising Skip if absent), otherwise
    synthetic. Returns ``(rows, labels, source)``."""
    if not real:
        rows, labels = synthetic(n, seed)
        return rows, labels, "synthetic"
    rows, labels = mnist("train")
    return rows[:n], labels[:n], "MNIST"


def one_hot(labels, classes=N_CLASSES):
    """``(classes, N)`` float32 one-hot columns, Flux's ``onehotbatch``."""
    out = np.zeros((classes, labels.shape[0]), dtype=np.float32)
    out[labels, np.arange(labels.shape[0])] = 1
    return out
