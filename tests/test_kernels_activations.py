"""Activation kernels (csrc/kernels/activations.cpp) against numpy references written from the
formulas (activation_references.py), and their kink and saturation conventions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from activation_references import PARAMETERISED, REFERENCES, reference
from pyflux import _core as C
from strategies import arrays, assert_forward_close, float_dtypes, shapes, sigmoid_reference

NAMES = list(REFERENCES)
ACTIVATIONS = [pytest.param(getattr(C, name), reference(name), id=name) for name in NAMES]
# The parameters' keywords (Flux's names: a, α, λ), from the core's op table.
C_KEYWORDS = {e["name"]: e["param"] for e in C.op_table() if e.get("param")}
PARAM_RANGES = {"leakyrelu": (0.0, 0.5), "elu": (0.0, 3.0), "celu": (0.1, 3.0), "softshrink": (0.0, 2.0)}


@pytest.mark.parametrize("act, ref", ACTIVATIONS)
@given(x=arrays(shapes(max_dims=4, min_side=0), -20.0, 20.0), dtype=float_dtypes)
def test_matches_numpy(act, ref, x, dtype):
    x = x.astype(dtype)
    assert_forward_close(act(x), ref(x.astype(np.float64)), dtype)


@pytest.mark.parametrize("name", PARAMETERISED)
@given(x=arrays(shapes(max_dims=2), -5.0, 5.0), dtype=float_dtypes, data=st.data())
def test_parameter_matches_numpy(name, x, dtype, data):
    p = data.draw(st.floats(*PARAM_RANGES[name]), label="param")
    x = x.astype(dtype)
    expected = reference(name, p)(x.astype(np.float64))
    assert_forward_close(getattr(C, name)(x, p), expected, dtype)
    assert_forward_close(getattr(C, name)(x=x, **{C_KEYWORDS[name]: p}), expected, dtype)


@pytest.mark.parametrize("name", PARAMETERISED)
def test_parameter_defaults_are_flux_defaults(name):
    x = np.linspace(-3, 3, 13)
    np.testing.assert_array_equal(getattr(C, name)(x), getattr(C, name)(x, REFERENCES[name][2]))


@pytest.mark.parametrize("name, bad", [("leakyrelu", -0.1), ("elu", -1.0), ("celu", 0.0), ("softshrink", -0.5),
                                       ("celu", float("nan"))])
def test_parameters_outside_the_backward_rules_are_refused(name, bad):
    with pytest.raises(ValueError, match=name):
        getattr(C, name)(np.ones(2), bad)
    with pytest.raises(ValueError, match="dense"):
        C.dense(np.ones((1, 1)), None, np.ones(1), REFERENCES[name][0], bad)


@pytest.mark.parametrize("act, ref", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_input_and_odd_sizes(act, ref, dtype):
    x = np.random.default_rng(0).uniform(-5, 5, (7, 9)).astype(dtype)
    for view in (x.T, x[::-2], x[:, 1::3], x[:1, :1], x[3]):
        assert_forward_close(act(view), ref(view), dtype)


@pytest.mark.parametrize("size", [3_001, 100_003])  # costly rules split the first, every rule the second
@pytest.mark.parametrize("act, ref", ACTIVATIONS)
def test_threads_agree(act, ref, size, restore_num_threads):
    x = np.random.default_rng(1).uniform(-5, 5, size)
    results = []
    for n in (1, 2):
        C.set_num_threads(n)
        results.append(act(x))
    np.testing.assert_array_equal(results[1], results[0])
    assert_forward_close(results[1], ref(x), np.float64)


def gradient(act, x, *args):
    t = C.Tensor(x)
    tape = C.Tape()
    tape.watch(t)
    with tape:
        loss = C.sum(act(t, *args))
    (g,) = tape.gradient(loss, [t])
    return np.asarray(g)


def dense_gradient(code, z, *param):
    """act'(z) through the fused Dense: W = 1, no bias, the values as one row of the batch."""
    x = C.Tensor(z.reshape(1, -1))
    tape = C.Tape()
    tape.watch(x)
    with tape:
        loss = C.sum(C.dense(np.ones((1, 1), z.dtype), None, x, code, *param))
    (g,) = tape.gradient(loss, [x])
    return np.asarray(g).ravel()


LAMBDA, ALPHA = 1.0507009873554805, 1.6732632423543772

# (name, param or None, inputs, derivatives): the conventions at and around each kink.
KINKS = [
    ("relu", None, [-1.0, -0.0, 0.0, 1e-30, 2.0], [0.0, 0.0, 0.0, 1.0, 1.0]),
    ("leakyrelu", None, [-2.0, 0.0, 3.0], [0.01, 0.01, 1.0]),
    ("leakyrelu", 0.25, [-2.0, 0.0, 3.0], [0.25, 0.25, 1.0]),
    ("relu6", None, [-1.0, 0.0, 3.0, 6.0, 7.0], [0.0, 0.0, 1.0, 0.0, 0.0]),
    ("hardtanh", None, [-2.0, -1.0, 0.5, 1.0, 2.0], [0.0, 0.0, 1.0, 0.0, 0.0]),
    ("hardsigmoid", None, [-4.0, -3.0, 0.0, 3.0, 4.0], [0.0, 0.0, 1 / 6, 0.0, 0.0]),
    ("hardswish", None, [-4.0, -3.0, 0.0, 3.0, 4.0], [0.0, -0.5, 0.5, 1.5, 1.0]),
    ("elu", None, [-1.0, 0.0, 2.0], [np.exp(-1.0), 1.0, 1.0]),
    ("elu", 2.0, [0.0], [2.0]),
    ("selu", None, [0.0, 1.0], [LAMBDA * ALPHA, LAMBDA]),
    ("celu", 2.0, [-2.0, 0.0, 1.0], [np.exp(-1.0), 1.0, 1.0]),
    ("softshrink", None, [-1.0, -0.5, 0.0, 0.5, 1.0], [1.0, 0.0, 0.0, 0.0, 1.0]),
]


@pytest.mark.parametrize("name, param, xs, derivatives", KINKS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kink_conventions(name, param, xs, derivatives, dtype):
    x = np.array(xs, dtype)
    args = () if param is None else (param,)
    expected = np.array(derivatives, dtype)
    np.testing.assert_allclose(gradient(getattr(C, name), x, *args), expected, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_allclose(dense_gradient(REFERENCES[name][0], x, *args), expected, rtol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_keeps_nan(dtype):
    assert np.isnan(C.relu(np.array([np.nan], dtype))[0])


# Values at ±1000, where naive formulas overflow.
SATURATED = {
    "sigmoid": (0.0, 1.0), "softplus": (0.0, 1000.0), "logsigmoid": (-1000.0, 0.0), "tanh": (-1.0, 1.0),
    "logcosh": (1000.0 - np.log(2), 1000.0 - np.log(2)), "gelu": (0.0, 1000.0), "gelu_erf": (0.0, 1000.0),
    "swish": (0.0, 1000.0), "mish": (0.0, 1000.0), "elu": (-1.0, 1000.0), "celu": (-1.0, 1000.0),
    "selu": (-LAMBDA * ALPHA, LAMBDA * 1000.0), "hardswish": (0.0, 1000.0), "softsign": (-1000 / 1001, 1000 / 1001),
    "tanhshrink": (-999.0, 999.0), "lisht": (1000.0, 1000.0),
}


@pytest.mark.parametrize("name", list(SATURATED))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_values(name, dtype):
    x = np.array([-1000.0, 1000.0], dtype)
    np.testing.assert_allclose(getattr(C, name)(x), np.array(SATURATED[name], dtype), rtol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_stay_finite(name, dtype):
    big = 1e30 if dtype == np.float64 else 1e18
    x = np.array([-big, -1000.0, -40.0, 40.0, 1000.0, big], dtype)
    act = getattr(C, name)
    assert np.all(np.isfinite(act(x))), act(x)
    assert np.all(np.isfinite(gradient(act, x))), gradient(act, x)
    assert np.all(np.isfinite(dense_gradient(REFERENCES[name][0], x)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_saturates_without_overflow(dtype):
    x = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype)
    y = C.sigmoid(x)
    np.testing.assert_array_equal(y[[0, 2, 4]], [0.0, 0.5, 1.0])
    assert 0.0 <= y[1] < 1e-40 and y[3] == 1.0
    g = gradient(C.sigmoid, x)
    np.testing.assert_array_equal(g[[0, 4]], [0.0, 0.0])
    assert g[2] == 0.25
    dense = C.dense(np.array([[1.0]], dtype), None, x.reshape(1, -1), 2)
    np.testing.assert_array_equal(dense, y.reshape(1, -1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_saturates(dtype):
    x = np.array([-1000.0, 1000.0], dtype)
    np.testing.assert_array_equal(gradient(C.tanh, x), [0.0, 0.0])


@pytest.mark.parametrize("name", NAMES)
def test_activations_of_empty_arrays(name):
    assert getattr(C, name)(np.zeros((0, 3))).shape == (0, 3)


def test_float32_sigmoid_within_two_ulp_everywhere():
    """float32 sigmoid runs a vectorised exp of its own (kernels/vector_exp.hpp): within 2 ulp of
    the exactly rounded value over the whole range, subnormal results and special values included,
    alone and in the dense kernel."""
    rng = np.random.default_rng(7)
    x = np.concatenate([
        rng.uniform(-110, 110, 200_000), rng.uniform(-1, 1, 50_000), rng.uniform(-104, -87, 20_000),
        [0.0, -0.0, 1e-30, -1e-30, 88.72, -88.72, -103.9, -104.0, -150.0, 17.0, -17.0],
    ]).astype(np.float32)
    exact = sigmoid_reference(x.astype(np.float64)).astype(np.float32)
    for got in (C.sigmoid(x), C.dense(np.array([[1.0]], np.float32), None, x.reshape(1, -1), 2).ravel()):
        ulps = np.abs(got.view(np.int32).astype(np.int64) - exact.view(np.int32).astype(np.int64))
        assert ulps.max() <= 2, f"{ulps.max()} ulp at x = {x[ulps.argmax()]}"
    specials = np.array([np.nan, np.inf, -np.inf], np.float32)
    np.testing.assert_array_equal(C.sigmoid(specials), [np.nan, 1.0, 0.0])
