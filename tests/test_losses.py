"""mse (pyflux/losses.py)."""

import numpy as np
import pytest

import pyflux as flux


@pytest.fixture
def pair():
    rng = np.random.default_rng(5)
    return rng.standard_normal((3, 4)), rng.standard_normal((3, 4))


def test_small_case():
    assert flux.mse(np.array([1.0, 2.0]), np.array([1.0, 4.0])) == 2.0
    assert flux.mse(np.array([1.0, 2.0]), np.array([1.0, 4.0]), agg=flux.sum) == 4.0
    assert flux.mse(1.0, 3.0) == 4.0


def test_matches_numpy(pair):
    yhat, y = pair
    assert flux.mse(yhat, y) == pytest.approx(np.mean((yhat - y) ** 2), rel=1e-14)
    assert flux.mse(yhat, y, agg=flux.sum) == pytest.approx(np.sum((yhat - y) ** 2), rel=1e-14)
    np.testing.assert_allclose(flux.mse(yhat, y, agg=lambda e: flux.sum(e, axis=1)), np.sum((yhat - y) ** 2, axis=1))


def test_float32_stays_float32(pair):
    yhat, y = (a.astype(np.float32) for a in pair)
    assert np.asarray(flux.mse(yhat, y)).dtype == np.float32


@pytest.mark.parametrize("a, b", [((2,), (2, 1)), ((3, 4), (4, 3)), ((2,), (3,))])
def test_shape_mismatch_names_both_shapes(a, b):
    with pytest.raises(ValueError) as err:
        flux.mse(np.ones(a), np.ones(b))
    assert str(a) in str(err.value) and str(b) in str(err.value)


def test_a_scalar_target_skips_the_size_check():
    # As in Flux: the target broadcasts against every prediction.
    np.testing.assert_allclose(flux.mse(np.array([1.0, 3.0]), 2.0), 1.0)
    np.testing.assert_allclose(flux.mse(np.array([1.0, 3.0]), np.array(2.0)), 1.0)


def test_shape_mismatch_inside_gradient():
    with pytest.raises(ValueError, match=r"\(2,\).*\(2, 1\)"):
        flux.gradient(lambda yhat: flux.mse(yhat, np.ones((2, 1))), np.ones(2))


def test_gradient(pair):
    yhat, y = pair
    g_hat, g_y = flux.gradient(flux.mse, yhat, y)
    np.testing.assert_allclose(g_hat, 2 * (yhat - y) / y.size, rtol=1e-14)
    np.testing.assert_allclose(g_y, -2 * (yhat - y) / y.size, rtol=1e-14)
    (g_sum,) = flux.gradient(lambda a: flux.mse(a, y, agg=flux.sum), yhat)
    np.testing.assert_allclose(g_sum, 2 * (yhat - y), rtol=1e-14)


# --- crossentropy and logitcrossentropy -----------------------------------------------------------

def _classification(dtype=np.float64):
    rng = np.random.default_rng(11)
    logits = rng.standard_normal((5, 7)).astype(dtype)
    labels = np.eye(5, dtype=dtype)[:, rng.integers(0, 5, 7)]
    return logits, labels


def _softmax(z):
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)


def test_logitcrossentropy_matches_its_formula():
    logits, labels = _classification()
    logp = logits - logits.max(0) - np.log(np.exp(logits - logits.max(0)).sum(0))
    np.testing.assert_allclose(flux.logitcrossentropy(logits, labels), np.mean(-(labels * logp).sum(0)), rtol=1e-12)
    np.testing.assert_allclose(flux.logitcrossentropy(logits, labels, agg=flux.sum), -(labels * logp).sum(), rtol=1e-12)


def test_crossentropy_matches_its_formula_and_the_logit_version():
    logits, labels = _classification()
    p = _softmax(logits)
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(flux.crossentropy(p, labels), np.mean(-(labels * np.log(p + eps)).sum(0)), rtol=1e-12)
    np.testing.assert_allclose(flux.crossentropy(p, labels), flux.logitcrossentropy(logits, labels), rtol=1e-10)


def test_logitcrossentropy_is_stable_for_extreme_logits():
    logits = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    assert flux.logitcrossentropy(logits, np.eye(2)) == pytest.approx(0.0, abs=1e-12)
    assert np.isfinite(flux.logitcrossentropy(logits, np.eye(2)[::-1]))


def test_crossentropy_gradients_match_finite_differences():
    logits, labels = _classification()
    (g,) = flux.gradient(lambda z: flux.logitcrossentropy(z, labels), logits)
    np.testing.assert_allclose(g, (_softmax(logits) - labels) / logits.shape[1], rtol=1e-9, atol=1e-12)
    p = _softmax(logits)
    (gp,) = flux.gradient(lambda q: flux.crossentropy(q, labels), p)
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(gp, -labels / (p + eps) / p.shape[1], rtol=1e-9)


def test_classification_losses_check_sizes():
    with pytest.raises(ValueError, match=r"\(5, 7\).*\(7, 5\)"):
        flux.logitcrossentropy(np.ones((5, 7)), np.ones((7, 5)))
    with pytest.raises(ValueError, match=r"\(5, 7\).*\(7, 5\)"):
        flux.crossentropy(np.ones((5, 7)), np.ones((7, 5)))
