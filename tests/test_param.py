"""Param (pyflux/param.py): a trainable array that acts like numpy outside gradient."""

import copy
import pickle

import numpy as np
import pytest

import pyflux as flux


@pytest.fixture
def W():
    return flux.param(np.arange(6.0).reshape(2, 3))


# --- construction and dtype ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_arrays_keep_their_dtype(dtype):
    p = flux.param(np.ones((2, 2), dtype))
    assert isinstance(p, flux.Param) and isinstance(p, flux.Tensor)
    assert p.dtype == dtype


@pytest.mark.parametrize("data", [[1, 2, 3], np.arange(3), np.ones(3, np.float16), [True, False, True], 3.0])
def test_other_data_becomes_float32(data):
    p = flux.param(data)
    assert p.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(p), np.asarray(data, np.float32))


def test_explicit_dtype():
    assert flux.param([1, 2], dtype=np.float64).dtype == np.float64
    assert flux.param(np.ones(2), dtype=np.float32).dtype == np.float32
    assert flux.Param(np.ones(2, np.float32), np.float64).dtype == np.float64


def test_param_copies_its_data():
    a = np.ones((2, 3))
    p = flux.param(a)
    a[0, 0] = 9.0
    assert p[0, 0] == 1.0
    q = flux.param(p)
    q[0, 0] = 5.0
    assert p[0, 0] == 1.0


def test_non_contiguous_data():
    a = np.arange(6.0).reshape(3, 2).T
    p = flux.param(a)
    assert p.shape == (2, 3)
    np.testing.assert_array_equal(np.asarray(p), a)


# --- numpy behaviour outside gradient ------------------------------------------------------------

def test_asarray_is_a_writable_view(W):
    view = np.asarray(W)
    assert view.dtype == np.float64 and view.shape == (2, 3)
    view[1, 2] = -7.0
    assert np.asarray(W)[1, 2] == -7.0


def test_arithmetic_returns_numpy(W):
    a = np.arange(6.0).reshape(2, 3)
    x = np.array([1.0, -1.0, 2.0])
    for got, expected in [(W + 1, a + 1), (1 + W, 1 + a), (W * W, a * a), (-W, -a), (W @ x, a @ x),
                          (np.ones(2) @ W, np.ones(2) @ a), (W ** 2, a ** 2), (W.T, a.T)]:
        assert type(got) is np.ndarray
        np.testing.assert_array_equal(got, expected)


def test_indexing_returns_numpy_views(W):
    row = W[0]
    assert type(row) is np.ndarray
    np.testing.assert_array_equal(row, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(W[:, 1], [1.0, 4.0])
    row[0] = 42.0
    assert np.asarray(W)[0, 0] == 42.0


def test_setitem(W):
    W[0, 1] = 5
    W[1] = [7, 8, 9]
    np.testing.assert_array_equal(np.asarray(W), [[0, 5, 2], [7, 8, 9]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inplace_operators_write_into_the_param(dtype):
    p = flux.param(np.ones(2, dtype))
    view = np.asarray(p)
    before = p
    p += np.array([1.0, 2.0])
    p *= 2
    p -= np.array([1, 1])  # integer operand
    p /= 4
    assert p is before and p.dtype == dtype
    np.testing.assert_allclose(view, [0.75, 1.25])


def test_copy_is_independent(W):
    for c in (W.copy(), copy.copy(W), copy.deepcopy(W)):
        assert type(c) is flux.Param and c.dtype == W.dtype
        np.testing.assert_array_equal(np.asarray(c), np.asarray(W))
        c[0, 0] = 100.0
        assert W[0, 0] == 0.0


def test_deepcopy_of_a_model_copies_its_params():
    m = flux.Chain(flux.Dense(2, 3))
    m2 = copy.deepcopy(m)
    assert type(m2[0].weight) is flux.Param and m2[0].weight is not m[0].weight
    m2[0].weight[0, 0] = 123.0
    assert m[0].weight[0, 0] != 123.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pickle_round_trip(dtype):
    p = flux.param(np.arange(4.0, dtype=dtype).reshape(2, 2))
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is flux.Param and q.dtype == dtype
    np.testing.assert_array_equal(np.asarray(q), np.asarray(p))


def test_repr():
    assert repr(flux.param(np.array([1.0, 2.5]))) == "Param([1. , 2.5], dtype=float64)"
    assert repr(flux.param([[1, 2], [3, 4]])) == "Param([[1., 2.],\n       [3., 4.]], dtype=float32)"


def test_repr_while_traced(W):
    seen = []

    def f(W):
        seen.append(repr(W))
        return flux.sum(W)

    flux.gradient(f, W)
    assert "traced" in seen[0] and "(2, 3)" in seen[0]
    assert "traced" not in repr(W)


# --- inside gradient -----------------------------------------------------------------------------

@pytest.mark.parametrize("mutate", [
    lambda W: W.__isub__(1.0),
    lambda W: W.__iadd__(1.0),
    lambda W: W.__imul__(2.0),
    lambda W: W.__itruediv__(2.0),
    lambda W: W.__setitem__((0, 0), 1.0),
], ids=["-=", "+=", "*=", "/=", "setitem"])
@pytest.mark.parametrize("style", ["explicit", "implicit"])
def test_inplace_ops_on_a_traced_param_raise(W, mutate, style):
    before = np.array(W)

    def loss(W):
        mutate(W)
        return flux.sum(W)

    with pytest.raises(RuntimeError, match="gradient"):
        if style == "explicit":
            flux.gradient(loss, W)
        else:
            flux.gradient(lambda: loss(W), flux.params(W))
    np.testing.assert_array_equal(np.asarray(W), before)
    W -= 1.0  # writable again once gradient has returned
    np.testing.assert_array_equal(np.asarray(W), before - 1)


def test_param_usable_after_exception_in_gradient(W):
    def boom(W):
        flux.sum(W * 2)
        raise KeyError("boom")

    with pytest.raises(KeyError):
        flux.gradient(boom, W)
    assert not W.traced
    W += 1.0
    (g,) = flux.gradient(lambda W: flux.sum(W * W), W)
    np.testing.assert_allclose(g, 2 * np.asarray(W))


def test_numpy_reductions_accept_a_param(W):
    assert np.sum(W) == 15.0
    assert np.mean(W) == 2.5
