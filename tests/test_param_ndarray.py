"""Outside gradient a Param offers numpy's array methods that do not resize it, on its data."""

import numpy as np
import pytest

import pyflux as flux


@pytest.fixture
def p():
    return flux.param(np.arange(6.0).reshape(2, 3))


def test_numpy_methods_work_on_the_data(p):
    a = np.arange(6.0).reshape(2, 3)
    assert p.tolist() == a.tolist()
    np.testing.assert_array_equal(p.ravel(), a.ravel())
    assert p.max() == 5.0 and p.argmax() == 5 and p.min(axis=0).tolist() == [0.0, 1.0, 2.0]
    assert p.astype(np.int32).dtype == np.int32
    assert p.std() == pytest.approx(a.std())
    assert p.flags.c_contiguous
    np.testing.assert_array_equal(np.asarray(p), a)


def test_copy_is_an_independent_param(p):
    q = p.copy()
    assert isinstance(q, flux.Param)
    q[0, 0] = 7
    assert p[0, 0] == 0


def test_ordering_comparisons_are_elementwise(p):
    np.testing.assert_array_equal(p > 2, np.arange(6.0).reshape(2, 3) > 2)
    np.testing.assert_array_equal(p <= flux.param(np.full((2, 3), 1.0)), np.arange(6.0).reshape(2, 3) <= 1)
    np.testing.assert_array_equal(p >= 5, [[False] * 3, [False, False, True]])
    np.testing.assert_array_equal(p < 1, [[True, False, False], [False] * 3])


def test_resizing_is_not_offered(p):
    with pytest.raises(AttributeError, match="resize"):
        p.resize(3)


def test_inside_gradient_numpy_methods_name_the_fix(p):
    with pytest.raises(AttributeError, match="Param.max is numpy's and cannot be traced"):
        flux.gradient(lambda q: q.max(), p)
    with pytest.raises(TypeError, match="compare after gradient returns"):
        flux.gradient(lambda q: flux.sum(q) if q > 0 else 0.0, p)


def test_numpy_ufuncs_that_are_pyflux_ops_are_traced():
    x = np.array([[0.5, 1.0], [2.0, 3.0]])
    (g,) = flux.gradient(lambda x: flux.sum(np.exp(x) + np.ones(2) * x + np.tanh(x)), x)
    np.testing.assert_allclose(g, np.exp(x) + 1 + 1 - np.tanh(x) ** 2)
    (g,) = flux.gradient(lambda x: flux.sum(np.sqrt(x) + np.sin(x) + np.abs(-x)), x)
    np.testing.assert_allclose(g, 0.5 / np.sqrt(x) + np.cos(x) + 1)


def test_ndarray_with_a_float32_param_keeps_the_params_dtype(p):
    W = flux.param(np.ones((2, 2), np.float32))
    assert (np.ones((2, 2)) + W).dtype == np.float32
    assert np.sqrt(W).dtype == np.float32


@pytest.mark.parametrize("fn, hint", [(np.reciprocal, "1 / x"), (lambda x: np.maximum(x, 0), "flux.relu"),
                                      (np.arctan, "pyflux operations")])
def test_numpy_function_on_a_traced_value_names_the_pyflux_way(fn, hint):
    with pytest.raises(TypeError, match=f"numpy.* cannot be traced by gradient; .*{hint}"):
        flux.gradient(lambda x: flux.sum(fn(x)), np.ones(2))
