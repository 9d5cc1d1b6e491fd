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


# --- the other initialisers ----------------------------------------------------------------------

def draw(init, *dims, **kw):
    w = init(*dims, rng=np.random.default_rng(0), **kw)
    assert w.shape == dims and w.dtype == np.float32
    return w


@pytest.mark.parametrize("gain", [1.0, 3.0])
def test_glorot_normal(gain):
    w = draw(flux.glorot_normal, 300, 500, gain=gain)
    assert w.std() == pytest.approx(gain * np.sqrt(2 / 800), rel=0.02)
    assert abs(w.mean()) < 0.01 * w.std()


def test_kaiming_uniform_and_normal():
    b = np.sqrt(2) * np.sqrt(3 / 500)
    w = draw(flux.kaiming_uniform, 300, 500)
    assert within(w, b) and np.abs(w).max() > 0.999 * b
    assert w.var() == pytest.approx(b**2 / 3, rel=0.02)
    n = draw(flux.kaiming_normal, 300, 500)
    assert n.std() == pytest.approx(np.sqrt(2) / np.sqrt(500), rel=0.02)
    assert draw(flux.kaiming_normal, 300, 500, gain=1.0).std() == pytest.approx(1 / np.sqrt(500), rel=0.02)


def test_truncated_normal():
    w = draw(flux.truncated_normal, 200, 300)
    assert w.min() >= -2 and w.max() <= 2 and w.max() > 1.9
    assert w.std() == pytest.approx(0.8796, rel=0.02)  # std of N(0, 1) truncated to [-2, 2]
    shifted = draw(flux.truncated_normal, 100, 100, mean=1.0, std=0.5, lo=0.0, hi=1.5)
    assert shifted.min() >= 0 and shifted.max() <= 1.5
    with pytest.warns(UserWarning, match="2 std"):
        flux.truncated_normal(3, mean=10.0)


@pytest.mark.parametrize("dims", [(5, 3), (3, 5), (4, 4), (2, 3, 4)])
def test_orthogonal(dims):
    w = draw(flux.orthogonal, *dims, gain=2.0)
    rows, cols = int(np.prod(dims[:-1])), dims[-1]
    mat = w.reshape(rows, cols, order="F").astype(np.float64)
    small = min(rows, cols)
    gram = mat.T @ mat if rows >= cols else mat @ mat.T
    np.testing.assert_allclose(gram, 4 * np.eye(small), atol=1e-5)
    with pytest.raises(ValueError):
        flux.orthogonal(3)


def test_constant_and_plain_random_initialisers():
    assert np.array_equal(flux.zeros32(2, 3), np.zeros((2, 3))) and flux.zeros32(2).dtype == np.float32
    assert np.array_equal(flux.ones32(4), np.ones(4)) and flux.ones32(4).dtype == np.float32
    u = draw(flux.rand32, 100, 100)
    assert u.min() >= 0 and u.max() < 1 and u.mean() == pytest.approx(0.5, abs=0.01)
    n = draw(flux.randn32, 100, 100)
    assert n.std() == pytest.approx(1, rel=0.02)
    np.testing.assert_array_equal(flux.randn32(rng=np.random.default_rng(0))(100, 100), n)


@pytest.mark.parametrize("init", [flux.glorot_normal, flux.kaiming_uniform, flux.kaiming_normal,
                                  flux.truncated_normal, flux.orthogonal])
def test_curried_form(init):
    a = init(rng=np.random.default_rng(3))(4, 5)
    np.testing.assert_array_equal(a, init(4, 5, rng=np.random.default_rng(3)))
    assert flux.Dense(5, 4, init=init()).weight.shape == (4, 5)
