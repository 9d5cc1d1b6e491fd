"""Gradients of the elementwise math ops of the op table (csrc/kernels/elementwise_rules.hpp) against
finite differences, their values against numpy, and the top-level functions."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

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
