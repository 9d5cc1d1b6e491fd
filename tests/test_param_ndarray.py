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


def test_equality_is_elementwise_and_params_stay_hashable(p):
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(p == 1, a == 1)
    np.testing.assert_array_equal(p != 1, a != 1)
    np.testing.assert_array_equal(p == flux.param(a), np.ones((2, 3), bool))
    np.testing.assert_array_equal(a == p, np.ones((2, 3), bool))
    assert {p: "weight"}[p] == "weight" and p in {p} and p in [p]


def test_comparing_a_traced_param_names_the_fix(p):
    with pytest.raises(TypeError, match="compare after gradient returns"):
        flux.gradient(lambda q: flux.sum(q) if (q == 1).any() else flux.sum(q), p)


def test_torch_reads_a_param_in_place(p):
    torch = pytest.importorskip("torch")
    t = torch.as_tensor(p)
    assert t.dtype == torch.float64 and t.tolist() == np.arange(6.0).reshape(2, 3).tolist()
    p[0, 0] = 9
    assert t[0, 0].item() == 9


def test_the_buffer_protocol_and_dlpack_read_the_data_in_place(p):
    m = memoryview(p)
    assert m.format == "d" and m.shape == (2, 3) and m.tolist() == np.arange(6.0).reshape(2, 3).tolist()
    transposed = memoryview(flux.param(np.arange(6.0).reshape(2, 3).T))
    assert transposed.shape == (3, 2) and transposed.tolist() == np.arange(6.0).reshape(2, 3).T.tolist()
    np.testing.assert_array_equal(np.from_dlpack(p), np.arange(6.0).reshape(2, 3))


def test_a_traced_param_has_no_buffer_or_dlpack(p):
    def f(q):
        memoryview(q)
        return flux.sum(q)

    with pytest.raises(BufferError, match="traced"):
        flux.gradient(f, p)
    with pytest.raises(TypeError, match="exported"):
        flux.gradient(lambda q: flux.sum(q) if np.from_dlpack(q) is None else flux.sum(q), p)


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


@pytest.mark.parametrize("fn, hint", [(np.reciprocal, "1 / x"), (np.arctan, "pyflux operations")])
def test_numpy_function_on_a_traced_value_names_the_pyflux_way(fn, hint):
    with pytest.raises(TypeError, match=f"numpy.* cannot be traced by gradient; .*{hint}"):
        flux.gradient(lambda x: flux.sum(fn(x)), np.ones(2))


W2 = flux.param(np.eye(2))


@pytest.mark.parametrize("fn, name, hint", [
    (lambda x: np.dot(W2, x), "numpy.dot", "x @ y"),
    (lambda x: np.dot(x, np.ones(2)), "numpy.dot", "x @ y"),
    (lambda x: np.vstack([x, np.ones(2)]), "numpy.vstack", "flux.vcat"),
    (lambda x: np.hstack((np.ones(2), x)), "numpy.hstack", "flux.hcat"),
    (lambda x: np.cumsum(x), "numpy.cumsum", "pyflux operations"),
    (lambda x: np.clip(x, 0, 1), "numpy.clip", "flux.clamp"),
    (lambda x: np.linalg.norm(x), "numpy.linalg.norm", "pyflux operations"),
])
def test_numpy_non_ufunc_on_a_traced_value_names_the_pyflux_function(fn, name, hint):
    with pytest.raises(TypeError, match=f"{name} cannot be traced by gradient .*{hint}"):
        flux.gradient(lambda x: flux.sum(fn(x)), np.ones(2))


def test_numpy_maximum_and_minimum_on_traced_values_are_the_pyflux_ops():
    x = np.array([-1.0, 0.5, 2.0])
    g = flux.gradient(lambda x: flux.sum(np.maximum(x, 0) + 2 * np.minimum(x, 1)), x)[0]
    np.testing.assert_array_equal(g, [2.0, 3.0, 1.0])


def test_numpy_functions_work_on_params_outside_gradient(p):
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(np.dot(p, p.T), a @ a.T)
    np.testing.assert_array_equal(np.concatenate([p, a]), np.concatenate([a, a]))
    np.testing.assert_array_equal(np.stack((p, p)), np.stack((a, a)))
    np.testing.assert_array_equal(np.where(p > 2, p, -1.0), np.where(a > 2, a, -1.0))
    assert np.sum(p) == 15.0 and np.mean(p, axis=1).tolist() == [1.0, 4.0]
    assert np.allclose(p, a) and np.array_equal(p, a)
    out = np.empty((2, 2))
    assert np.dot(p, p.T, out=out) is out


def test_numpy_functions_write_into_a_param_outside_gradient(p):
    np.copyto(p, 1.0)
    np.testing.assert_array_equal(np.asarray(p), np.ones((2, 3)))
    np.dot(np.eye(2), np.full((2, 3), 2.0), out=p)
    np.testing.assert_array_equal(np.asarray(p), np.full((2, 3), 2.0))


def test_numpy_shape_functions_read_a_traced_value():
    seen = []

    def f(x):
        seen.append((np.shape(x), np.ndim(x), np.size(x), np.size(x, 1)))
        return flux.sum(x)

    flux.gradient(f, np.ones((2, 3)))
    assert seen == [((2, 3), 2, 6, 3)]
