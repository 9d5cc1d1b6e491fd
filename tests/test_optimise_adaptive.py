"""RMSProp and Adam (pyflux/optimise.py, csrc/kernels/optimisers.cpp) against their formulas in numpy,
over several steps, in both training styles."""

import numpy as np
import pytest
from flux_helpers import linear_layer, linear_mse_grads

import pyflux as flux

STEPS = 6


def numpy_rmsprop(eta=0.001, rho=0.9, eps=1e-8, centred=False):
    def run(params, grad_fn):
        s = [np.zeros_like(p) for p in params]
        a = [np.zeros_like(p) for p in params]
        for _ in range(STEPS):
            grads = grad_fn(*params)
            for i, g in enumerate(grads):
                s[i] = rho * s[i] + (1 - rho) * g * g
                a[i] = rho * a[i] + (1 - rho) * g if centred else a[i]
                params[i] = params[i] - eta * g / (np.sqrt(s[i] - a[i] ** 2) + eps)
        return params
    return run


def numpy_adam(eta=0.001, beta=(0.9, 0.999), eps=1e-8):
    def run(params, grad_fn):
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        for t in range(1, STEPS + 1):
            grads = grad_fn(*params)
            for i, g in enumerate(grads):
                m[i] = beta[0] * m[i] + (1 - beta[0]) * g
                v[i] = beta[1] * v[i] + (1 - beta[1]) * g * g
                mhat, vhat = m[i] / (1 - beta[0] ** t), v[i] / (1 - beta[1] ** t)
                params[i] = params[i] - eta * mhat / (np.sqrt(vhat) + eps)
        return params
    return run


RULES = [
    pytest.param(lambda: flux.RMSProp(0.01), numpy_rmsprop(0.01), id="RMSProp"),
    pytest.param(lambda: flux.RMSProp(0.01, 0.8, 1e-6, centred=True), numpy_rmsprop(0.01, 0.8, 1e-6, True),
                 id="RMSProp-centred"),
    pytest.param(lambda: flux.Adam(0.02), numpy_adam(0.02), id="Adam"),
    pytest.param(lambda: flux.Adam(0.01, (0.8, 0.99), 1e-6), numpy_adam(0.01, (0.8, 0.99), 1e-6), id="Adam-custom"),
]


@pytest.fixture
def problem():
    rng = np.random.default_rng(5)
    return linear_layer(rng), rng.standard_normal((3, 6)), rng.standard_normal((2, 6))


def expected(problem, reference):
    layer, x, y = problem
    start = [np.array(layer.weight), np.array(layer.bias)]
    return reference(start, lambda W, b: linear_mse_grads(W, b, x, y))


@pytest.mark.parametrize("make_rule, reference", RULES)
def test_implicit_style_follows_the_formula(problem, make_rule, reference):
    layer, x, y = problem
    want = expected(problem, reference)
    ps, rule = flux.params(layer), make_rule()
    for _ in range(STEPS):
        flux.update(rule, ps, flux.gradient(lambda: flux.mse(layer(x), y), ps))
    np.testing.assert_allclose(np.asarray(layer.weight), want[0], rtol=1e-10)
    np.testing.assert_allclose(np.asarray(layer.bias), want[1], rtol=1e-10)


@pytest.mark.parametrize("make_rule, reference", RULES)
def test_explicit_train_follows_the_formula(problem, make_rule, reference):
    layer, x, y = problem
    want = expected(problem, reference)
    state = flux.setup(make_rule(), layer)
    flux.train(lambda m, x, y: flux.mse(m(x), y), layer, [(x, y)] * STEPS, state)
    np.testing.assert_allclose(np.asarray(layer.weight), want[0], rtol=1e-10)
    np.testing.assert_allclose(np.asarray(layer.bias), want[1], rtol=1e-10)


def test_defaults_and_printing():
    assert repr(flux.Adam()) == "Adam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-08)"
    assert repr(flux.RMSProp()) == "RMSProp(eta=0.001, rho=0.9, epsilon=1e-08, centred=False)"
    with pytest.raises(ValueError, match="negative"):
        flux.Adam(-1.0)


def test_train_with_a_stateful_rule_warns_that_state_is_discarded(problem):
    layer, x, y = problem
    with pytest.warns(UserWarning, match="discarded"):
        flux.train(lambda m, x, y: flux.mse(m(x), y), layer, [(x, y)], flux.Adam())


def test_float32_parameters_stay_float32():
    layer = flux.Dense(3, 2)
    x, y = np.ones((3, 4), np.float32), np.zeros((2, 4), np.float32)
    flux.train(lambda m, x, y: flux.mse(m(x), y), layer, [(x, y)] * 3, flux.setup(flux.Adam(), layer))
    assert layer.weight.dtype == np.float32 and np.isfinite(np.asarray(layer.weight)).all()
