"""Activation kernels (csrc/kernels/activations.cpp) against numpy, and their edge conventions."""

import numpy as np
import pytest
from hypothesis import given

from pyflux import _core as C
from strategies import ACTIVATION_REFERENCES, arrays, assert_forward_close, float_dtypes, shapes

ACTIVATIONS = [
    pytest.param(act, ACTIVATION_REFERENCES[code], id=act.__name__)
    for code, act in enumerate([C.identity, C.relu, C.sigmoid, C.tanh])
]


@pytest.mark.parametrize("act, ref", ACTIVATIONS)
@given(x=arrays(shapes(max_dims=4, min_side=0), -20.0, 20.0), dtype=float_dtypes)
def test_matches_numpy(act, ref, x, dtype):
    x = x.astype(dtype)
    assert_forward_close(act(x), ref(x.astype(np.float64)), dtype)


@pytest.mark.parametrize("act, ref", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_input_and_odd_sizes(act, ref, dtype):
    x = np.random.default_rng(0).uniform(-5, 5, (7, 9)).astype(dtype)
    for view in (x.T, x[::-2], x[:, 1::3], x[:1, :1], x[3]):
        assert_forward_close(act(view), ref(view), dtype)


@pytest.mark.parametrize("act, ref", ACTIVATIONS)
def test_threads_agree(act, ref, restore_num_threads):
    x = np.random.default_rng(1).uniform(-5, 5, 100_003)
    results = []
    for n in (1, 2):
        C.set_num_threads(n)
        results.append(act(x))
    np.testing.assert_allclose(results[1], results[0], rtol=4 * np.finfo(np.float64).eps, atol=0)
    assert_forward_close(results[1], ref(x), np.float64)


def gradient(act, x):
    t = C.Tensor(x)
    tape = C.Tape()
    tape.watch(t)
    with tape:
        loss = C.sum(act(t))
    (g,) = tape.gradient(loss, [t])
    return np.asarray(g)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_derivative_at_zero_is_zero(dtype):
    x = np.array([-1.0, -0.0, 0.0, 1e-30, 2.0], dtype)
    np.testing.assert_array_equal(gradient(C.relu, x), [0.0, 0.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(C.relu(x), [0.0, 0.0, 0.0, dtype(1e-30), 2.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_relu_derivative_at_zero_is_zero(dtype):
    W = C.Tensor(np.ones((3, 1)), dtype=dtype)
    b = C.Tensor(np.array([-2.0, -1.0, 0.5]), dtype=dtype)
    tape = C.Tape()
    tape.watch(W)
    tape.watch(b)
    with tape:
        loss = C.sum(C.dense(W, b, np.array([1.0], dtype), 1))  # pre-activations -1, 0, 1.5
    gW, gb = tape.gradient(loss, [W, b])
    np.testing.assert_array_equal(np.asarray(gW), [[0.0], [0.0], [1.0]])
    np.testing.assert_array_equal(np.asarray(gb), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_saturates_without_overflow(dtype):
    x = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype)
    y = C.sigmoid(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_array_equal(y[[0, 2, 4]], [0.0, 0.5, 1.0])
    assert 0.0 <= y[1] < 1e-40 and y[3] == 1.0
    g = gradient(C.sigmoid, x)
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[[0, 4]], [0.0, 0.0])
    assert g[2] == 0.25
    dense = C.dense(np.array([[1.0]], dtype), None, x.reshape(1, -1), 2)
    np.testing.assert_array_equal(dense, y.reshape(1, -1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_saturates(dtype):
    x = np.array([-1000.0, 1000.0], dtype)
    np.testing.assert_array_equal(C.tanh(x), [-1.0, 1.0])
    np.testing.assert_array_equal(gradient(C.tanh, x), [0.0, 0.0])


def test_activations_of_empty_arrays():
    for act in (C.identity, C.relu, C.sigmoid, C.tanh):
        assert act(np.zeros((0, 3))).shape == (0, 3)
