"""The Higham & Higham example: a small sigmoid network separating two classes of points.

From C. F. Higham and D. J. Higham, "Deep learning: an introduction for applied mathematicians"
(SIAM Review, 2019). Ten points in the unit square, the first five in class A (target [1, 0]) and
the last five in class B (target [0, 1]). The network F = Chain(Dense(2, 2, σ), Dense(2, 3, σ),
Dense(3, 2, σ)) is float64, with 23 parameters, and the cost is

    Cost = 1/10 * sum_i 0.5 * ||y_i - F(x_i)||^2.

Training is stochastic gradient descent as in the paper: each step picks one point i at random and
steps with eta = 0.05 on that point's term 0.5 * ||y_i - F(x_i)||^2, written out component by
component as the lecture does. The paper runs 10^6 steps. Here the weights start from Flux's
default initialisation (Glorot uniform, zero biases) rather than the paper's 0.5 * randn; from
seeds 0 to 7 every run classifies all ten points within 120,000 steps, so the default is 150,000
steps (a few seconds). A point counts as classified when the larger of the two outputs is its
class's.
"""

import numpy as np

import pyflux as flux
from pyflux.examples import _plot
from pyflux.examples._cli import main as run_alone

X1 = [0.1, 0.3, 0.1, 0.6, 0.4, 0.6, 0.5, 0.9, 0.4, 0.7]
X2 = [0.1, 0.4, 0.5, 0.9, 0.2, 0.3, 0.6, 0.2, 0.4, 0.6]
CLASSES = ["A", "B"]


def make_data():
    """The ten points as columns of x (2, 10) and their one-hot targets y (2, 10), float64."""
    x = np.array([X1, X2])
    y = np.array([[1.0] * 5 + [0.0] * 5, [0.0] * 5 + [1.0] * 5])
    return x, y


def make_model(rng=None):
    """The paper's 2-2-3-2 sigmoid network in float64, initialised from ``rng``."""
    init = flux.glorot_uniform(rng=rng or np.random.default_rng(0))
    return flux.f64(flux.Chain(flux.Dense(2, 2, flux.σ, init=init),
                               flux.Dense(2, 3, flux.σ, init=init),
                               flux.Dense(3, 2, flux.σ, init=init)))


def cost(model, x, y):
    """1/10 * sum over the points of 0.5 * ||y - F(x)||^2."""
    return float(0.5 * np.sum((y - model(x)) ** 2) / x.shape[1])


def classify(model, x):
    """The class ("A" or "B") the network gives each column of x."""
    return flux.onecold(model(x), CLASSES)


def fit(model, x, y, steps=150_000, eta=0.05, rng=None):
    """SGD on one random point per step, ``steps`` times; returns the model."""
    rng = rng or np.random.default_rng(1)

    def loss(xi, yi):
        return 0.5 * flux.sum((yi - model(xi)) ** 2)

    points = rng.integers(0, x.shape[1], size=steps)
    flux.train(loss, flux.params(model), zip(x[:, points].T, y[:, points].T), flux.Descent(eta), capture=True)
    return model


def run(steps=150_000, seed=0):
    """Builds and trains the network from ``seed``; returns (model, cost before, cost after)."""
    rng = np.random.default_rng(seed)
    x, y = make_data()
    model = make_model(rng)
    before = cost(model, x, y)
    fit(model, x, y, steps=steps, rng=rng)
    return model, before, cost(model, x, y)


def main(quick=False, out=None, steps=None, seed=0):
    """Trains, prints the cost and each point's class, and draws the classified unit square; returns
    the final cost and the number of points classified. ``quick`` takes 30,000 steps."""
    steps = steps or (30_000 if quick else 150_000)
    x, y = make_data()
    model, before, after = run(steps, seed)
    print(model)
    print(f"cost before training: {before:.4f}")
    print(f"cost after {steps:,} SGD steps (eta = 0.05): {after:.6f}")
    predicted = classify(model, x)
    expected = flux.onecold(y, CLASSES)
    correct = sum(p == e for p, e in zip(predicted, expected))
    for x1, x2, p, e in zip(X1, X2, predicted, expected):
        print(f"  ({x1}, {x2}): class {e}, classified {p}{'' if p == e else '  <- wrong'}")
    print(f"correctly classified: {correct} of {len(expected)}")
    _plot.unit_square(out, "higham.png", f"Higham & Higham 2-2-3-2 network after {steps:,} SGD steps",
                      lambda points: flux.onecold(model(points)), x, flux.onecold(y))
    return {"cost": after, "classified": int(correct)}


if __name__ == "__main__":
    raise SystemExit(run_alone("higham"))
