"""Gradients of sum and mean (csrc/autodiff/ops_reduce.cpp) against finite differences."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import pyflux as flux
from gradcheck import check_gradient, covers
from pyflux import _core as C
from strategies import arrays, shapes

REDUCTIONS = [pytest.param(C.sum, id="sum"), pytest.param(C.mean, id="mean")]


@st.composite
def array_and_axis(draw, max_dims=4):
    x = draw(arrays(shapes(max_dims=max_dims)))
    axis = draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    return x, axis


@covers("sum", "mean")
@pytest.mark.parametrize("op", REDUCTIONS)
@given(case=array_and_axis())
@example(case=(np.array(0.25), None))
@example(case=(np.array([0.25]), 0))
@example(case=(np.array([[0.25, 0.5, -1.0]]), -2))
def test_reduce(op, case):
    x, axis = case
    check_gradient(lambda ts: op(ts[0], axis=axis), [x])


@covers("sum", "mean")
@pytest.mark.parametrize("method", ["sum", "mean"])
@given(case=array_and_axis(max_dims=3))
def test_reduce_method_of_a_transposed_view(method, case):
    x, axis = case
    check_gradient(lambda ts: getattr(ts[0].T, method)(axis), [x])


@covers("sum", "mean")
@pytest.mark.parametrize("op", REDUCTIONS)
def test_reduce_of_a_large_array(op):
    x = np.random.default_rng(0).uniform(-1, 1, (300, 400))
    for axis in (None, 0, 1):
        check_gradient(lambda ts: op(ts[0], axis=axis), [x], directions=2)


@covers("sum")
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_sum_of_an_empty_array(axis):
    t = C.Tensor(np.zeros((0, 3)))
    tape = C.Tape()
    tape.watch(t)
    with tape:
        loss = C.sum(C.sum(t, axis=axis) * 2.0)
    (g,) = tape.gradient(loss, [t])
    assert np.asarray(g).shape == (0, 3)


@covers("sum", "mean", "sub", "pow", "transpose")
@given(x=arrays(shapes(min_dims=2, max_dims=2)))
def test_composition_centred_squares(x):
    # x is used twice: directly and through its row means.
    check_gradient(lambda ts: C.mean((ts[0].T - C.mean(ts[0], axis=1)) ** 2), [x])


@covers("sum", "mean", "reshape", "mul")
@given(x=arrays(shapes(min_dims=2, max_dims=2)))
def test_composition_outer_product_of_reductions(x):
    check_gradient(lambda ts: ts[0].sum(axis=0).reshape(1, -1) * ts[0].mean(axis=-1).reshape(-1, 1), [x])


# ---- several axes, keepdims, max/min/prod/logsumexp, var/std -----------------------------------

def _numpy_logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


REFERENCES = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
              "logsumexp": _numpy_logsumexp}


@st.composite
def dims_of(draw, ndim):
    """None, an int, or a tuple of distinct axes (either sign) of an ndim-dimensional array."""
    if ndim == 0:
        return draw(st.sampled_from([None, ()]))
    axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    axes = [a - ndim if draw(st.booleans()) else a for a in axes]
    return draw(st.sampled_from([None, tuple(axes), axes[0] if axes else None]))


@st.composite
def distinct_values(draw, shape):
    """Elements at least 0.3 apart, so that max and min have no tie within a finite-difference step."""
    n = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    return ((order - n / 2) * 0.3).reshape(shape)


@covers("sum", "mean", "prod", "logsumexp")
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "logsumexp"])
@given(x=arrays(shapes(max_dims=4)), data=st.data(), keepdims=st.booleans())
@example(x=np.array([[0.5, 0.0, -1.5], [0.0, 0.0, 2.0]]), data=None, keepdims=False)
def test_reduce_over_axes(name, x, data, keepdims):
    dims = data.draw(dims_of(x.ndim)) if data is not None else (1,)
    op = getattr(C, name)
    check_gradient(lambda ts: op(ts[0], dims, keepdims=keepdims), [x])
    axis = tuple(dims) if isinstance(dims, list) else dims
    np.testing.assert_allclose(op(x, dims, keepdims=keepdims), REFERENCES[name](x, axis=axis, keepdims=keepdims),
                               rtol=1e-12, atol=1e-14)


@covers("max", "min")
@pytest.mark.parametrize("name", ["max", "min"])
@given(shape=shapes(max_dims=4), data=st.data(), keepdims=st.booleans())
def test_max_min_over_axes(name, shape, data, keepdims):
    x = data.draw(distinct_values(shape))
    dims = data.draw(dims_of(x.ndim))
    op = getattr(C, name)
    check_gradient(lambda ts: op(ts[0], dims, keepdims=keepdims), [x])
    axis = tuple(dims) if isinstance(dims, list) else dims
    np.testing.assert_array_equal(op(x, dims, keepdims=keepdims), REFERENCES[name](x, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("name, sign", [("max", 1.0), ("min", -1.0)])
def test_max_min_ties_share_the_gradient_and_nan_propagates(name, sign):
    x = sign * np.array([[1.0, -3.0, 5.0, 5.0], [-3.0, -3.0, 0.0, 1.0]])
    (g,) = flux.gradient(lambda x: flux.sum(getattr(flux, name)(x, 1) * np.array([1.0, 2.0])), x)
    np.testing.assert_array_equal(g, [[0, 0, 0.5, 0.5], [0, 0, 0, 2]])
    (g,) = flux.gradient(lambda x: getattr(flux, name)(x), sign * np.array([2.0, 2.0, 2.0, 1.0]))
    np.testing.assert_array_equal(g, [1 / 3, 1 / 3, 1 / 3, 0])
    assert np.isnan(getattr(flux, name)(np.array([1.0, np.nan, 3.0])))


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    (g,) = flux.gradient(lambda x: flux.prod(x), np.array([0.0, 2.0, 3.0]))
    np.testing.assert_array_equal(g, [6.0, 0.0, 0.0])
    (g,) = flux.gradient(lambda x: flux.prod(x), np.array([0.0, 2.0, 0.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    assert flux.prod(np.zeros((0, 2)), 0).tolist() == [1.0, 1.0]


def test_logsumexp_is_stable_and_an_all_minus_inf_slice_gives_minus_inf():
    big = np.array([1000.0, 1000.0])
    assert flux.logsumexp(big) == pytest.approx(1000 + np.log(2))
    assert flux.logsumexp(-big) == pytest.approx(-1000 + np.log(2))
    x = np.array([[-np.inf, 0.0], [-np.inf, np.log(3.0)]])
    out = flux.logsumexp(x, 0)
    assert out[0] == -np.inf and out[1] == pytest.approx(np.log(4.0))
    (g,) = flux.gradient(lambda x: flux.sum(flux.logsumexp(x, 0)), x)
    np.testing.assert_allclose(g, [[0.0, 0.25], [0.0, 0.75]])
    assert flux.logsumexp(np.array([np.inf, 1.0])) == np.inf
    assert flux.logsumexp(np.zeros(0)) == -np.inf


@covers("sum", "mean", "sub", "square", "div", "sqrt")
@pytest.mark.parametrize("name", ["var", "std"])
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=2)), data=st.data(), corrected=st.booleans(),
       keepdims=st.booleans())
def test_var_std(name, x, data, corrected, keepdims):
    dims = data.draw(dims_of(x.ndim)) or None  # () would leave one element per result
    f = getattr(flux, name)
    axis = tuple(dims) if isinstance(dims, list) else dims
    expected = getattr(np, name)(x, axis=axis, ddof=int(corrected), keepdims=keepdims)
    np.testing.assert_allclose(f(x, dims, corrected=corrected, keepdims=keepdims), expected, rtol=1e-12, atol=1e-14)
    if name == "std" and np.min(np.var(x, axis=axis)) < 1e-3:
        return  # sqrt's derivative near 0 is too steep for finite differences
    check_gradient(lambda ts: f(ts[0], dims, corrected=corrected, keepdims=keepdims), [x])


def test_var_default_is_corrected_as_julias():
    x = np.array([1.0, 2.0, 4.0])
    assert flux.var(x) == pytest.approx(np.var(x, ddof=1))
    assert flux.std(x, corrected=False) == pytest.approx(np.std(x))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "logsumexp", "var", "std"])
def test_reduction_errors_name_the_op_and_the_shape(name):
    f = getattr(flux, name)
    x = np.ones((2, 3))
    with pytest.raises(IndexError, match=rf"{name}: dims 2 is out of bounds for shape \(2, 3\)"):
        f(x, 2)
    with pytest.raises(IndexError, match=rf"{name}: dims -3 is out of bounds for shape \(2, 3\)"):
        f(x, (0, -3))
    with pytest.raises(ValueError, match=rf"{name}: dims repeats axis 1"):
        f(x, (1, -1))
    if name not in ("var", "std"):
        with pytest.raises(TypeError, match="both dims and axis"):
            f(x, 0, axis=1)
        with pytest.raises(TypeError, match="keepdims must be a bool"):
            f(x, 0, keepdims="yes")


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_an_empty_axis_are_refused(name):
    with pytest.raises(ValueError, match=rf"{name}: cannot reduce an empty axis of an array of shape \(0, 3\)"):
        getattr(flux, name)(np.zeros((0, 3)), 0)
    assert getattr(flux, name)(np.zeros((0, 3)), 1).shape == (0,)


def test_old_calls_keep_working():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(flux.sum(x, 0), [3, 5, 7])
    np.testing.assert_array_equal(flux.mean(x, axis=1), [1, 4])
    (g,) = flux.gradient(lambda t: t.sum(axis=(0, 1), keepdims=True).sum() + t.mean(dims=0).sum(), x)
    np.testing.assert_allclose(g, np.full((2, 3), 1.5))
    p = flux.param(x)
    assert p.sum(axis=0, keepdims=True).shape == (1, 3)
    g = flux.gradient(lambda: flux.sum(p.sum(0, keepdims=True) * p.mean(axis=(0, 1), keepdims=True)), flux.params(p))
    np.testing.assert_allclose(g[p], np.full((2, 3), 2.5 + 15 / 6))


def test_numpy_reductions_on_traced_values_are_these_ops():
    x = np.array([[1.0, 4.0], [3.0, 2.0]])
    (g,) = flux.gradient(lambda x: np.sum(np.max(x, axis=1)) + np.mean(x, axis=(0, 1)) + np.prod(x, 0)[0]
                         + np.var(x) + np.std(x, axis=0, ddof=1, keepdims=True)[0, 0] + np.min(x), x)
    expected = flux.gradient(lambda x: flux.sum(flux.max(x, 1)) + flux.mean(x) + flux.prod(x, 0)[0]
                             + flux.var(x, corrected=False) + flux.std(x, 0)[0] + flux.min(x), x)[0]
    np.testing.assert_allclose(g, expected)
    with pytest.raises(TypeError, match="numpy.sum on a traced value takes no dtype"):
        flux.gradient(lambda x: np.sum(x, dtype=np.float32), x)
    (g,) = flux.gradient(lambda x: np.max(x, 0, None, True)[0, 1], x)  # numpy's positional order
    np.testing.assert_array_equal(g, [[0.0, 1.0], [0.0, 0.0]])
