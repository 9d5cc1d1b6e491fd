"""Losses built from the array functions replay in a captured training step as on the general path."""

import contextlib
import io

import numpy as np
import pytest

import pyflux as flux

MASK = np.array([[True], [False]])

LOSSES = {
    "gather": lambda yhat, y: flux.sum(yhat[:, np.array([2, 0, 0])] ** 2) + flux.sum(yhat[[1, -2]] * y),
    "joins": lambda yhat, y: flux.sum(flux.hcat(yhat[0], y[1], yhat[1]) ** 2) + flux.sum(flux.stack([yhat, y], -1)[0])
    + flux.mean(flux.cat([yhat, y, yhat, yhat], 0) * 0.5),
    "where_xlogy": lambda yhat, y: flux.sum(flux.where(MASK, yhat, -2 * yhat)) - flux.sum(flux.xlogy(y, flux.sigmoid(yhat))),
    "reductions": lambda yhat, y: flux.sum(flux.max(yhat, 0, keepdims=True) * y) + flux.mean(flux.logsumexp(yhat, 0))
    + flux.var(yhat, (0, 1)) + 0.1 * flux.sum(flux.prod(yhat, 0)) - flux.sum(flux.min(yhat, (0,))),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_captured_step_replays_the_array_functions(loss):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 12)), rng.random((2, 12))
    results = []
    for capture in (False, True):
        flux.seed(1)
        model = flux.f64(flux.Chain(flux.Dense(3, 4, flux.tanh), flux.Dense(4, 2)))
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            losses = flux.train(lambda m, x, y: LOSSES[loss](m(x), y), model,
                                flux.DataLoader((X, Y), batchsize=3), flux.setup(flux.Descent(0.05), model),
                                capture=capture)
        assert "falls back" not in err.getvalue()
        results.append((losses, [np.array(p) for p in flux.trainables(model)]))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-10)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
