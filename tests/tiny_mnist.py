"""A tiny MNIST look-alike written as real IDX files, for running the MNIST examples end to end in tests.

Each image is a 28x28 uint8 picture of its label: a bright horizontal bar whose row depends on the
digit, over faint noise, so that a network learns it quickly and accuracy well above chance is
a real check.
"""

from pathlib import Path

import numpy as np
from test_datasets import idx_bytes, write


def digits(n, rng):
    """(images (n, 28, 28) uint8, labels (n,) uint8)."""
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = rng.integers(0, 40, size=(n, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels):
        image[2 + 2 * label: 4 + 2 * label, 4:24] = 255
    return images, labels


def write_tiny_mnist(folder, n_train=600, n_test=200, seed=0):
    """Writes the four MNIST files into ``folder``: the training files gzipped, the test files plain."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n, compress in (("train", n_train, True), ("t10k", n_test, False)):
        images, labels = digits(n, rng)
        write(folder / f"{prefix}-images-idx3-ubyte", idx_bytes(images), compress)
        write(folder / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels), compress)
    return folder
