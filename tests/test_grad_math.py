"""Gradients of the elementwise math ops of the op table (csrc/kernels/elementwise_rules.hpp) against
finite differences, their values against numpy, and the top-level functions."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pyflux as flux
from gradcheck import check_gradient, covers
from pyflux import _core as C
from strategies import arrays, away_from_zero, positive, shapes

# op, its numpy counterpart, and where it is smooth and well conditioned.
ANYWHERE = [("sin", np.sin), ("cos", np.cos), ("square", np.square), ("exp2", np.exp2), ("expm1", np.expm1)]
AWAY_FROM_ZERO = [("abs", np.abs)]
POSITIVE = [("sqrt", np.sqrt), ("log2", np.log2), ("log1p", np.log1p)]


@covers(*(name for name, _ in ANYWHERE))
@pytest.mark.parametrize("name", [name for name, _ in ANYWHERE])
@given(x=arrays(shapes()))
@example(x=np.array([0.7, -0.4]))
def test_smooth_everywhere(name, x):
    op = getattr(C, name)
    check_gradient(lambda ts: op(ts[0]), [x])


@covers("abs")
@given(x=away_from_zero(shapes()))
@example(x=np.array([-0.3, 0.8]))
def test_abs(x):
    check_gradient(lambda ts: C.abs(ts[0]), [x])


@covers(*(name for name, _ in POSITIVE))
@pytest.mark.parametrize("name", [name for name, _ in POSITIVE])
@given(x=positive(shapes()))
@example(x=np.array([0.6, 1.9]))
def test_positive_domain(name, x):
    op = getattr(C, name)
    check_gradient(lambda ts: op(ts[0]), [x])


@covers("tan")
@given(x=arrays(shapes(), -1.2, 1.2))
@example(x=np.array([0.5, -1.0]))
def test_tan(x):
    check_gradient(lambda ts: C.tan(ts[0]), [x])


@covers("sign")
def test_sign_has_zero_gradient_and_numpys_values():
    x = np.array([-2.0, -0.0, 0.0, 0.5, np.nan])
    np.testing.assert_array_equal(C.sign(x), np.sign(x))
    (g,) = flux.gradient(lambda x: flux.sum(flux.sign(x) * x), np.array([-1.5, 2.0]))
    np.testing.assert_array_equal(g, [-1.0, 1.0])  # only the product rule's x' * sign(x) survives


def test_abs_gradient_at_zero_is_zero():
    (g,) = flux.gradient(lambda x: flux.sum(flux.abs(x)), np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("name, ref", ANYWHERE + AWAY_FROM_ZERO + POSITIVE + [("tan", np.tan)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_match_numpy_and_top_level_functions(name, ref, dtype):
    x = np.linspace(0.1, 1.2, 7, dtype=dtype)
    y = getattr(flux, name)(x)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, ref(x), rtol=2e-6 if dtype == np.float32 else 1e-14)
    assert getattr(flux, name)(0.5) == pytest.approx(float(ref(0.5)))


def test_numpy_ufuncs_on_traced_values_use_these_ops():
    x = np.array([0.3, 0.9])
    (g,) = flux.gradient(lambda x: flux.sum(np.log1p(x) + np.square(x) + np.cos(x)), x)
    np.testing.assert_allclose(g, 1 / (1 + x) + 2 * x - np.sin(x))


# ---- maximum, minimum, clamp: operands kept apart, where the gradient is defined -------------------

def _apart(a, b):
    """b moved away from a where the two come within 0.1 (no ties, no kink inside the difference step)."""
    return np.where(np.abs(a - b) < 0.1, b + 0.5, b)


@covers("maximum", "minimum")
@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(a=arrays(shapes()), data=st.data())
@example(a=np.array([0.3, -1.2]), data=None)
def test_maximum_minimum(name, a, data):
    b = np.flip(a) * 0.7 + 0.05 if data is None else data.draw(arrays(a.shape))
    b = _apart(a, b)
    op = getattr(C, name)
    check_gradient(lambda ts: op(ts[0], ts[1]), [a, b])
    np.testing.assert_array_equal(getattr(flux, name)(a, b), getattr(np, name)(a, b))


@covers("maximum", "minimum")
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_broadcast_and_split_ties(name):
    a, b = np.array([[1.0, 2.0, 3.0]]), np.array([[2.0], [0.5]])
    check_gradient(lambda ts: getattr(C, name)(ts[0], ts[1]), [a, b])
    g = flux.gradient(lambda x, y: flux.sum(getattr(flux, name)(x, y)), np.array([1.0, 2.0]), np.array([1.0, 3.0]))
    assert g[0][0] == 0.5 and g[1][0] == 0.5
    assert np.isnan(getattr(flux, name)(np.array([np.nan]), np.array([1.0]))[0])
    assert np.isnan(getattr(flux, name)(np.array([1.0]), np.array([np.nan]))[0])


@given(x=arrays(shapes()))
def test_clamp(x):
    x = _apart(np.full_like(x, -0.5), _apart(np.full_like(x, 0.5), x))
    check_gradient(lambda ts: flux.clamp(ts[0], -0.5, 0.5), [x])
    np.testing.assert_array_equal(flux.clamp(x, -0.5, 0.5), np.clip(x, -0.5, 0.5))


# ---- where, xlogy -----------------------------------------------------------------------------------

@covers("where")
@given(shapes3=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), data=st.data())
@example(shapes3=None, data=None)
def test_where(shapes3, data):
    if data is None:
        cond, a, b = np.array([[True], [False]]), np.array([0.5, -1.0, 2.0]), np.array(3.0)
    else:
        c_shape, a_shape, b_shape = shapes3.input_shapes
        cond = data.draw(hnp.arrays(np.bool_, c_shape))
        a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    check_gradient(lambda ts: C.where(cond, ts[0], ts[1]), [a, b])
    np.testing.assert_array_equal(flux.where(cond, a, b), np.where(cond, a, b))


def test_where_keeps_the_branch_not_taken_out_of_the_gradient():
    a, b = np.array([1.0, np.inf, 2.0]), np.array([np.nan, 0.5, 4.0])
    cond = np.array([1.0, 0.0, 2.0])  # numbers: nonzero is true
    ga, gb = flux.gradient(lambda a, b: flux.sum(flux.where(cond, a, b) * 3.0), a, b)
    np.testing.assert_array_equal(ga, [3.0, 0.0, 3.0])
    np.testing.assert_array_equal(gb, [0.0, 3.0, 0.0])
    (g,) = flux.gradient(lambda x: flux.sum(np.where(x.shape[0] * [True], x, 0.0)), a[[0, 2]])
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_where_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"where: shapes \(2,\) \(cond\), \(3,\) \(a\) and \(\) \(b\) cannot be"):
        flux.where(np.array([True, False]), np.ones(3), 0.0)
    with pytest.raises(TypeError, match="where"):
        flux.where(np.array(["x"]), np.ones(1), 0.0)


@covers("xlogy")
@given(x=arrays(shapes(), 0.0, 2.0), data=st.data())
@example(x=np.array([0.0, 1.5, 0.0]), data=None)
def test_xlogy(x, data):
    x = np.where(x < 0.3, 0.0, x)  # exact zeros, where the value and y's gradient are 0
    y = np.array([0.5, 1.0, 2.0]) if data is None else data.draw(positive(x.shape))
    check_gradient(lambda ts: C.xlogy(ts[0], ts[1]), [x, y])
    with np.errstate(divide="ignore"):
        expected = np.where(x == 0, 0.0, x * np.log(y))
    # numpy's log may be its own vectorised one (AVX-512), a unit in the last place from the C library's
    np.testing.assert_array_max_ulp(flux.xlogy(x, y), expected, maxulp=2)


def test_xlogy_is_exactly_zero_at_zero_whatever_y_is():
    y = np.array([0.0, np.inf, 2.0])
    np.testing.assert_array_equal(flux.xlogy(np.zeros(3), y), [0.0, 0.0, 0.0])
    gx, gy = flux.gradient(lambda x, y: flux.sum(flux.xlogy(x, y)), np.zeros(3), y)
    np.testing.assert_array_equal(gy, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gx, [-np.inf, np.inf, np.log(2.0)])


@covers("xlogx")
@given(x=positive(shapes(), 0.3))
@example(x=np.array([0.3, 0.7]))
def test_xlogx(x):
    check_gradient(lambda ts: C.xlogx(ts[0]), [x])
    x.flat[0] = 0.0
    np.testing.assert_array_equal(flux.xlogx(x), flux.xlogy(x, x))
    (g,) = flux.gradient(lambda x: flux.sum(flux.xlogx(x)), np.array([0.0, 1.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0])
