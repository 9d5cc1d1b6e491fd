"""Helpers for the tests of pyflux's Python layer: small float64 models, central differences taken
by perturbing a Param in place, and snapshots of parameters."""

import numpy as np

import pyflux as flux


def float64_chain(rng, sizes=(3, 4, 2), activations=(flux.tanh, flux.sigmoid)):
    """A Chain of float64 Dense layers ``sizes[k] => sizes[k + 1]`` with random weights and biases."""
    layers = [
        flux.Dense(rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out), act)
        for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations)
    ]
    return flux.Chain(*layers)


def linear_layer(rng, n_in=3, n_out=2):
    """A float64 Dense layer without activation."""
    return flux.Dense(rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out))


def numeric_gradient(f, p, eps=1e-6):
    """Central differences of the scalar ``f()`` with respect to each element of the Param ``p``."""
    view = np.asarray(p)
    g = np.zeros(view.shape)
    for idx in np.ndindex(view.shape):
        old = view[idx]
        view[idx] = old + eps
        plus = float(f())
        view[idx] = old - eps
        minus = float(f())
        view[idx] = old
        g[idx] = (plus - minus) / (2 * eps)
    return g


def layer_grads(model_grad):
    """(weight, bias) gradient pairs of a Chain-of-Dense gradient, layer by layer."""
    return [(g.weight, g.bias) for g in model_grad.layers]


def snapshot(ps):
    """Copies of the values of the Params in ps."""
    return [np.array(p) for p in ps]


def linear_mse_grads(W, b, x, y):
    """numpy gradients of mean((W x + b - y)^2) with respect to W and b (x of shape (in, N))."""
    r = W @ x + b[:, None] - y
    scale = 2.0 / r.size
    return scale * r @ x.T, scale * r.sum(axis=1)
