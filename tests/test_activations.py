"""Activation functions (pyflux/activations.py) on numpy arrays, Python numbers and traced values."""

import numpy as np
import pytest
from gradcheck import check_gradient
from strategies import ACTIVATION_REFERENCES, assert_forward_close

import pyflux as flux

CODES = {"identity": 0, "relu": 1, "sigmoid": 2, "tanh": 3}
NAMES = {"identity": "identity", "relu": "relu", "sigmoid": "σ", "tanh": "tanh"}


@pytest.fixture(params=list(CODES))
def act(request):
    return request.param, getattr(flux, request.param), ACTIVATION_REFERENCES[CODES[request.param]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_arrays(act, dtype):
    _, f, ref = act
    x = np.random.default_rng(0).uniform(-4, 4, (3, 5)).astype(dtype)
    x[0, :3] = [0.0, -30.0, 30.0]
    assert_forward_close(f(x), ref(x), dtype)


@pytest.mark.parametrize("x", [-1.5, 0.0, 2, 0.25])
def test_python_numbers_give_floats(act, x):
    _, f, ref = act
    y = f(x)
    assert type(y) is float
    assert y == pytest.approx(float(ref(np.float64(x))), rel=1e-15, abs=1e-300)


def test_names_and_aliases(act):
    name, f, _ = act
    assert repr(f) == NAMES[name]
    assert flux.σ is flux.sigmoid


def test_identity_returns_its_argument():
    x = np.ones(3)
    assert flux.identity(x) is x


def test_saturation_does_not_overflow():
    x = np.array([-1000.0, 1000.0])
    np.testing.assert_array_equal(flux.sigmoid(x), [0.0, 1.0])
    np.testing.assert_array_equal(flux.tanh(x), [-1.0, 1.0])
    assert flux.sigmoid(-1000.0) == 0.0
    (g,) = flux.gradient(lambda x: flux.sum(flux.sigmoid(x)), x)
    np.testing.assert_array_equal(g, [0.0, 0.0])


@pytest.mark.parametrize("seed", [1, 2])
def test_traced_gradients_match_finite_differences(act, seed):
    _, f, _ = act
    x = np.random.default_rng(seed).uniform(0.1, 2.0, (3, 4)) * np.where(np.arange(12).reshape(3, 4) % 2, 1, -1)
    check_gradient(lambda ts: f(ts[0]) * 1.0, [x])  # * 1.0 keeps identity's output a recorded value


def test_gradient_values_at_known_points():
    assert flux.gradient(flux.relu, 0.0) == (0.0,)  # relu'(0) = 0, as in NNlib
    assert flux.gradient(flux.relu, -1.0) == (0.0,) and flux.gradient(flux.relu, 2.0) == (1.0,)
    assert flux.gradient(flux.sigmoid, 0.0) == (0.25,)
    assert flux.gradient(flux.tanh, 0.0) == (1.0,)
    assert flux.gradient(lambda x: 3 * flux.identity(x), 1.0) == (3.0,)
    (g,) = flux.gradient(lambda x: flux.sum(flux.relu(x)), np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])
