"""Where the MNIST examples find their data, and the loading they share."""

import os
from pathlib import Path

import numpy as np

import pyflux as flux
from pyflux.datasets import load_mnist

FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def find_mnist(path=None):
    """The MNIST folder: ``path`` if given, else $PYFLUX_MNIST, else ``../shared/data/mnist`` from the
    current directory. Returns (folder, None) when its four files are there, else (None, reason)."""
    if path is not None:
        folder, source = Path(path), "the folder given"
    elif os.environ.get("PYFLUX_MNIST"):
        folder, source = Path(os.environ["PYFLUX_MNIST"]), "PYFLUX_MNIST"
    else:
        folder, source = Path("..", "shared", "data", "mnist"), "the default folder"
    missing = [name for name in FILES if not any((folder / (name + ext)).is_file() for ext in ("", ".gz"))]
    if missing:
        return None, (f"MNIST not found: {source} {folder} lacks {', '.join(missing)} (pass a folder or set "
                      f"PYFLUX_MNIST)")
    return folder, None


def load(folder):
    """(X_train, Y_train, X_test, labels_test): images (784, N) float32, one-hot training targets (10, N)."""
    X, labels = load_mnist(folder, split="train")
    X_test, labels_test = load_mnist(folder, split="test")
    return X, flux.onehotbatch(labels, range(10)), X_test, labels_test


def accuracy(model, X, labels):
    """The fraction of columns of X whose predicted digit (``onecold``) is the label."""
    return float((flux.onecold(model(X)) == labels).mean())


def prepare(path, seed, make_model):
    """The data (X, Y, X_test, labels_test) and a new model built from ``seed``, printed; or None,
    after printing one line saying why, when MNIST is not found."""
    folder, reason = find_mnist(path)
    if folder is None:
        print(f"skipped: {reason}")
        return None
    data = load(folder)
    model = make_model(np.random.default_rng(seed))
    print(model)
    return data, model
