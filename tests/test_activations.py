"""Activation functions (pyflux/activations.py) on numpy arrays, Python numbers and traced values."""

import math

import numpy as np
import pytest
from gradcheck import check_gradient
from strategies import assert_forward_close

import pyflux as flux
from activation_references import PARAMETERISED, REFERENCES, kinks, reference

# How Flux 0.16 prints each (with current NNlib, whose gelu is gelu_tanh).
PRINTED = {name: name for name in REFERENCES} | {
    "sigmoid": "σ", "hardsigmoid": "hardσ", "logsigmoid": "logσ", "gelu": "gelu_tanh"}
ALIASES = [("σ", "sigmoid"), ("hardσ", "hardsigmoid"), ("logσ", "logsigmoid"), ("gelu_tanh", "gelu")]


@pytest.fixture(params=list(REFERENCES))
def act(request):
    name = request.param
    return name, getattr(flux, name), reference(name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_arrays(act, dtype):
    _, f, ref = act
    x = np.random.default_rng(0).uniform(-4, 4, (3, 5)).astype(dtype)
    x[0, :3] = [0.0, -30.0, 30.0]
    y = f(x)
    assert isinstance(y, np.ndarray)
    assert_forward_close(y, ref(x), dtype)


@pytest.mark.parametrize("x", [-1.5, 0.0, 2, 0.25])
def test_python_numbers_give_floats(act, x):
    _, f, ref = act
    y = f(x)
    assert type(y) is float
    assert y == pytest.approx(float(ref(np.float64(x))), rel=1e-15, abs=1e-300)


def test_names_and_aliases(act):
    name, f, _ = act
    assert repr(f) == f.name == PRINTED[name]
    assert f.code == REFERENCES[name][0]


@pytest.mark.parametrize("greek, ascii_name", ALIASES)
def test_aliases_are_the_same_object(greek, ascii_name):
    assert getattr(flux, greek) is getattr(flux, ascii_name)
    assert {greek, ascii_name} <= set(flux.__all__)


def test_every_activation_is_exported():
    assert set(REFERENCES) <= set(flux.__all__)
    assert all(isinstance(getattr(flux, name), flux.activations.Activation) for name in REFERENCES)


def test_docstrings_give_the_formula(act):
    name, f, _ = act
    assert f.__doc__.startswith(f"{PRINTED[name] if name in ('sigmoid', 'hardsigmoid', 'logsigmoid') else name}(x")
    default = REFERENCES[name][2]
    if default is not None:
        assert f"={default:g}" in f.__doc__.splitlines()[0]
    if name == "gelu":
        assert "tanh" in f.__doc__ and "Flux 0.16" in f.__doc__


@pytest.mark.parametrize("name", PARAMETERISED)
def test_parameter_positional_and_by_flux_keyword(name):
    f, ref = getattr(flux, name), REFERENCES[name][1]
    p = 2 * REFERENCES[name][2]
    keyword = {"leakyrelu": "a", "elu": "α", "celu": "α", "softshrink": "λ"}[name]
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(f(x, p), ref(x, p), rtol=1e-15)
    np.testing.assert_array_equal(f(x, **{keyword: p}), f(x, p))
    assert f(-2.0, p) == pytest.approx(float(ref(-2.0, p)), rel=1e-15)
    assert f.param == REFERENCES[name][2]


def test_parameter_errors():
    with pytest.raises(ValueError, match="leakyrelu"):
        flux.leakyrelu(np.ones(2), -0.5)
    with pytest.raises(TypeError):
        flux.relu(np.ones(2), 0.5)


def test_identity_returns_its_argument():
    x = np.ones(3)
    assert flux.identity(x) is x


def test_saturation_does_not_overflow():
    x = np.array([-1000.0, 1000.0])
    np.testing.assert_array_equal(flux.sigmoid(x), [0.0, 1.0])
    np.testing.assert_array_equal(flux.tanh(x), [-1.0, 1.0])
    assert flux.sigmoid(-1000.0) == 0.0
    assert flux.softplus(1000.0) == 1000.0 and flux.logσ(-1000.0) == -1000.0
    (g,) = flux.gradient(lambda x: flux.sum(flux.sigmoid(x)), x)
    np.testing.assert_array_equal(g, [0.0, 0.0])


@pytest.mark.parametrize("seed", [1, 2])
def test_traced_gradients_match_finite_differences(act, seed):
    name, f, _ = act
    x = np.random.default_rng(seed).uniform(0.1, 2.0, (3, 4)) * np.where(np.arange(12).reshape(3, 4) % 2, 1, -1)
    for k in kinks(name):
        x = np.where(np.abs(x - k) < 0.05, x + 0.1, x)
    check_gradient(lambda ts: f(ts[0]) * 1.0, [x])  # * 1.0 keeps identity's output a recorded value


def test_gradient_values_at_known_points():
    assert flux.gradient(flux.relu, 0.0) == (0.0,)  # relu'(0) = 0, as in NNlib
    assert flux.gradient(flux.relu, -1.0) == (0.0,) and flux.gradient(flux.relu, 2.0) == (1.0,)
    assert flux.gradient(flux.sigmoid, 0.0) == (0.25,)
    assert flux.gradient(flux.tanh, 0.0) == (1.0,)
    assert flux.gradient(flux.leakyrelu, 0.0) == (0.01,)
    assert flux.gradient(lambda x: flux.leakyrelu(x, 0.2), -1.0) == (0.2,)
    assert flux.gradient(flux.relu6, 6.0) == (0.0,) and flux.gradient(flux.hardtanh, 1.0) == (0.0,)
    assert flux.gradient(flux.softplus, 0.0) == (0.5,)
    assert flux.gradient(flux.gelu, 0.0) == (0.5,) and flux.gradient(flux.gelu_erf, 0.0) == (0.5,)
    assert flux.gradient(lambda x: 3 * flux.identity(x), 1.0) == (3.0,)
    (g,) = flux.gradient(lambda x: flux.sum(flux.relu(x)), np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


def test_dense_and_chain_print_flux_names():
    layer = flux.Dense(2, 3, flux.gelu)
    assert repr(layer).startswith("Dense(2 => 3, gelu_tanh)")
    chain = flux.Chain(flux.Dense(2, 3, flux.hardsigmoid), flux.logsigmoid)
    assert flux.compact(chain) == "Chain(Dense(2 => 3, hardσ), logσ)"


def test_softshrink_keeps_nan():
    assert np.isnan(flux.softshrink(float("nan")))
    np.testing.assert_array_equal(flux.softshrink(np.array([np.nan, 0.2, 1.0])), [np.nan, 0.0, 0.5])


def test_gelu_erf_matches_nnlib_to_the_last_digit():
    # NNlib: gelu_erf(x) = x/2 * (1 + erf(x/√2)), evaluated in that order.
    for x in (1.0, -1.0, 0.3, -2.5):
        assert flux.gelu_erf(x) == x / 2 * (1 + math.erf(x / math.sqrt(2)))


def test_activation_codes_come_from_the_op_table():
    table = {e["name"]: e for e in flux._core.op_table() if e.get("kind") == "activation"}
    assert {flux.relu.code, flux.σ.code} == {table["relu"]["code"], table["sigmoid"]["code"]}
    assert set(table) <= set(dir(flux.activations))
