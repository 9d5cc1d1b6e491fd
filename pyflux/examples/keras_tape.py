"""The Keras book's GradientTape examples, with pyflux's gradient."""

import numpy as np

import pyflux as flux
from pyflux.examples._cli import main as run_alone


def examples():
    """(description, gradient) for each of the book's three tape examples."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    return [
        ("d/dx (2x + 3) at x = 0", flux.gradient(lambda x: 2 * x + 3, 0.0)[0]),
        ("d/dx (2x^2 + 3) at x = 3", flux.gradient(lambda x: 2 * x**2 + 3, 3.0)[0]),
        ("d/dx sum(2x^2 + 3) at [[1, 2], [3, 4]]", flux.gradient(lambda x: flux.sum(2 * x**2 + 3), x)[0]),
    ]


def main(quick=False, out=None):
    """Prints the three gradients; returns the two scalar ones. (``quick`` and ``out`` change nothing here.)"""
    results = examples()
    for description, grad in results:
        print(f"{description}: {np.asarray(grad).tolist()}")
    return {"d(2x+3)/dx": float(results[0][1]), "d(2x^2+3)/dx": float(results[1][1])}


if __name__ == "__main__":
    raise SystemExit(run_alone("keras_tape"))
