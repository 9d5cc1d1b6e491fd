"""glorot_uniform (pyflux/initialise.py)."""

import numpy as np
import pytest

import pyflux as flux


def bound(fan_in, fan_out, gain=1.0):
    return gain * np.sqrt(6.0 / (fan_in + fan_out))


def within(w, a):
    """|w| <= a, up to float32 rounding of the scale."""
    return np.abs(w).max() <= a * (1 + 1e-6)


@pytest.mark.parametrize("gain", [1.0, 2.0, 0.5])
def test_distribution_of_a_large_draw(gain):
    w = flux.glorot_uniform(400, 600, gain=gain, rng=np.random.default_rng(0))
    a = bound(600, 400, gain)
    assert w.shape == (400, 600) and w.dtype == np.float32
    assert within(w, a)
    assert np.abs(w).max() > 0.999 * a  # reaches (nearly) the ends of the interval
    assert abs(w.mean()) < 0.01 * a
    assert w.var() == pytest.approx(a**2 / 3, rel=0.02)
    assert (w > 0).mean() == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("dims, fans", [((5,), (1, 5)), ((3, 7), (7, 3)), ((3, 4, 5), (12, 15))])
def test_fans_by_shape(dims, fans):
    w = flux.glorot_uniform(*dims, rng=np.random.default_rng(1))
    assert w.shape == dims and w.dtype == np.float32
    assert within(w, bound(*fans))


def test_rng_makes_it_reproducible():
    a = flux.glorot_uniform(3, 4, rng=np.random.default_rng(9))
    b = flux.glorot_uniform(3, 4, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(flux.glorot_uniform(3, 4), flux.glorot_uniform(3, 4))


def test_without_dims_returns_an_initialiser():
    init = flux.glorot_uniform()
    assert callable(init)
    assert init(2, 3).shape == (2, 3)
    doubled = flux.glorot_uniform(gain=2, rng=np.random.default_rng(4))
    w = doubled(300, 300)
    assert w.dtype == np.float32
    assert np.abs(w).max() > bound(300, 300) and within(w, bound(300, 300, 2))
    seeded = flux.glorot_uniform(rng=np.random.default_rng(4))(300, 300)
    np.testing.assert_allclose(w, 2 * seeded, rtol=1e-6)


def test_dense_uses_glorot_uniform_by_default():
    w = np.asarray(flux.Dense(200, 100).weight)
    assert within(w, bound(200, 100))
    assert w.var() == pytest.approx(bound(200, 100) ** 2 / 3, rel=0.05)
