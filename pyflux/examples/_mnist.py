"""Where the MNIST examples find their data, and the loading they share."""

import os
from pathlib import Path

import numpy as np

import pyflux as flux
from pyflux.datasets import load_mnist
from pyflux.examples import _plot

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


# --quick trains on the first QUICK_TRAIN training images and tests on the first QUICK_TEST test images.
QUICK_TRAIN, QUICK_TEST = 6000, 1000


def load(folder, quick=False):
    """(X_train, Y_train, X_test, labels_test): images (784, N) float32, one-hot training targets (10, N)."""
    X, labels = load_mnist(folder, split="train")
    X_test, labels_test = load_mnist(folder, split="test")
    if quick:
        X, labels, X_test, labels_test = X[:, :QUICK_TRAIN], labels[:QUICK_TRAIN], X_test[:, :QUICK_TEST], \
            labels_test[:QUICK_TEST]
    return X, flux.onehotbatch(labels, range(10)), X_test, labels_test


def accuracy(model, X, labels):
    """The fraction of columns of X whose predicted digit (``onecold``) is the label."""
    return float((flux.onecold(model(X)) == labels).mean())


def prepare(path, seed, make_model, quick=False):
    """The data (X, Y, X_test, labels_test) and a new model built from ``seed``, printed; or None,
    after printing one line saying why, when MNIST is not found. Also seeds pyflux's default
    generator with ``seed``, which orders ``fit``'s minibatches, so that a run can be repeated."""
    folder, reason = find_mnist(path)
    if folder is None:
        print(f"skipped: {reason}")
        return None
    data = load(folder, quick)
    print(f"MNIST from {folder}: {data[0].shape[1]:,} training and {data[2].shape[1]:,} test images"
          f"{' (--quick: a subset)' if quick else ''}")
    model = make_model(np.random.default_rng(seed))
    flux.seed(seed)
    print(model)
    return data, model


def show_predictions(out, name, title, model, X_test, labels_test, first=16, mistakes=8):
    """The PNG of the first ``first`` test images and then up to ``mistakes`` misclassified ones, each
    titled with the model's digit and the true one."""
    predicted = np.asarray(flux.onecold(model(X_test)))
    wrong = np.flatnonzero(predicted != labels_test)
    chosen = np.concatenate([np.arange(min(first, len(labels_test))), wrong[wrong >= first][:mistakes]])
    return _plot.digits(out, name, title, X_test[:, chosen], predicted[chosen], labels_test[chosen])


def evaluate_and_draw(out, name, title, model, history, loss, X_test, labels_test):
    """After ``fit``: prints the test loss and accuracy (``evaluate``), draws the History's curves and
    the test digits, and returns the test accuracy."""
    test = flux.evaluate(model, X_test, flux.onehotbatch(labels_test, range(10)), loss=loss, metrics=["accuracy"])
    print(f"test loss {test['loss']:.4f}, test accuracy: {test['accuracy']:.4f}")
    _plot.history(out, f"{name}_history.png", history)
    show_predictions(out, f"{name}_digits.png", title, model, X_test, labels_test)
    return test["accuracy"]
