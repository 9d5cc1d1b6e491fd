"""Linear regression, one sample per step, as the Flux lecture writes it.

Data: W_true = [[1,2,3,4,5],[5,4,3,2,1]], b_true = [-1,-2]; 10,000 points x = 5 + 5u (u uniform
on [0, 1)^5) and y = W_true x + b_true + 0.2v (v standard normal). The model is M(x) = W x + b with
random W (2x5) and b, and the loss is sum((y - M(x))^2).

The lecture's learning rate 0.01 diverges on these inputs: with |x| around 7.5 per coordinate the
squared loss's curvature 2|x|^2 is about 600, and gradient descent on a quadratic diverges once
eta * curvature > 2. train stops with an error at the first non-finite loss. With 0.001 it
converges, and three passes recover W_true to within 0.15.
"""

import numpy as np

import pyflux as flux
from pyflux.examples._cli import main as run_alone

W_TRUE = np.array([[1.0, 2, 3, 4, 5], [5, 4, 3, 2, 1]])
B_TRUE = np.array([-1.0, -2])


def make_data(n=10_000, rng=None):
    """Samples stored one per row, so that ``zip(x_train, y_train)`` yields (x, y) pairs."""
    rng = rng or np.random.default_rng(0)
    x = 5 + 5 * rng.random((n, 5))
    y = x @ W_TRUE.T + B_TRUE + 0.2 * rng.standard_normal((n, 2))
    return x, y


def fit(x_train, y_train, eta=0.001, epochs=3, rng=None):
    """The short way: ``train`` over the samples, ``epochs`` times. Returns (W, b)."""
    rng = rng or np.random.default_rng(1)
    W = flux.param(rng.random((2, 5)))
    b = flux.param(rng.random(2))

    def loss(x, y):
        return flux.sum((y - (W @ x + b)) ** 2)

    opt = flux.Descent(eta)
    for _ in range(epochs):
        flux.train(loss, flux.params(W, b), zip(x_train, y_train), opt, capture=True)
    return W, b


def fit_the_longer_way(x_train, y_train, eta=0.001, epochs=3, rng=None):
    """The lecture's "longer way": the same loop written with gradient and update. Returns (W, b)."""
    rng = rng or np.random.default_rng(1)
    W = flux.param(rng.random((2, 5)))
    b = flux.param(rng.random(2))
    ps = flux.params(W, b)
    opt = flux.Descent(eta)
    for _ in range(epochs):
        for x, y in zip(x_train, y_train):
            grads = flux.gradient(lambda: flux.sum((y - (W @ x + b)) ** 2), ps)
            flux.update(opt, ps, grads)
    return W, b


def diverges(x_train, y_train, eta=0.01):
    """Trains with the lecture's rate; returns the error train stopped with, or None."""
    try:
        fit(x_train, y_train, eta=eta, epochs=1)
    except ValueError as err:
        return err
    return None


def main(quick=False, out=None):
    """Prints whether eta = 0.01 diverges and what both ways recover with 0.001; returns the largest
    errors in W. ``quick`` uses 2,000 samples instead of 10,000."""
    x_train, y_train = make_data(2000 if quick else 10_000)
    print(f"{len(x_train):,} samples, loss(x, y) = sum((y - (W x + b))^2), Descent, one sample per step")
    stopped = diverges(x_train, y_train)
    print(f"learning rate 0.01: {'diverges: ' + str(stopped) if stopped else 'converged'}")
    figures = {}
    for name, method in (("train", fit), ("gradient + update", fit_the_longer_way)):
        W, b = method(x_train, y_train)
        err = np.abs(np.asarray(W) - W_TRUE).max()
        print(f"learning rate 0.001, 3 passes, {name}: max |W - W_true| = {err:.3f}")
        print(f"  W = {np.round(np.asarray(W), 2).tolist()}, b = {np.round(np.asarray(b), 2).tolist()}")
        figures[f"max|W-W_true| ({name})"] = float(err)
    return figures


if __name__ == "__main__":
    raise SystemExit(run_alone("linear_regression"))
