"""Loss functions (pyflux/losses.py)."""

import numpy as np
import pytest

import pyflux as flux
from gradcheck import check_gradient


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


# --- every loss against a numpy reference written from its formula -------------------------------

def _xlogy(x, y):
    """x log y, and 0 where x == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def _logsigmoid(x):
    return -np.logaddexp(0.0, -x)


# name -> (kind of data, reference giving the array that agg reduces, from the default keyword arguments)
# kinds: "real" (ŷ, y real), "positive" (both > 0), "probability" (ŷ probabilities, y in [0, 1]),
# "distribution" (ŷ softmax columns, y one-hot), "logit-distribution" (ŷ logits, y one-hot),
# "logit" (ŷ real, y in [0, 1]), "sign" (y in {-1, 1})
REFERENCES = {
    "mse": ("real", lambda p, y, eps: (p - y) ** 2),
    "mae": ("real", lambda p, y, eps: np.abs(p - y)),
    "msle": ("positive", lambda p, y, eps: np.log((p + eps) / (y + eps)) ** 2),
    "huber_loss": ("real", lambda p, y, eps: np.where(np.abs(p - y) < 1, 0.5 * (p - y) ** 2, np.abs(p - y) - 0.5)),
    "poisson_loss": ("positive", lambda p, y, eps: p - _xlogy(y, p)),
    "crossentropy": ("distribution", lambda p, y, eps: -np.sum(_xlogy(y, p + eps), axis=0)),
    "logitcrossentropy": (
        "logit-distribution",
        lambda z, y, eps: -np.sum(y * (z - z.max(0) - np.log(np.exp(z - z.max(0)).sum(0))), axis=0),
    ),
    "binarycrossentropy": (
        "probability", lambda p, y, eps: -_xlogy(y, p + eps) - _xlogy(1 - y, 1 - p + eps),
    ),
    "logitbinarycrossentropy": ("logit", lambda z, y, eps: (1 - y) * z - _logsigmoid(z)),
    "kldivergence": (
        "distribution", lambda p, y, eps: np.sum(_xlogy(y, y), axis=0) - np.sum(_xlogy(y, p + eps), axis=0),
    ),
    "focal_loss": (
        "distribution", lambda p, y, eps: np.sum(-y * (1 - (p + eps)) ** 2 * np.log(p + eps), axis=0),
    ),
    "binary_focal_loss": (
        "probability",
        lambda p, y, eps: -(1 - (y * (p + eps) + (1 - y) * (1 - p - eps))) ** 2
        * np.log(y * (p + eps) + (1 - y) * (1 - p - eps)),
    ),
    "hinge_loss": ("sign", lambda p, y, eps: np.maximum(0, 1 - p * y)),
    "squared_hinge_loss": ("sign", lambda p, y, eps: np.maximum(0, 1 - p * y) ** 2),
}
LOSSES = sorted(REFERENCES)


def _data(kind, dtype=np.float64, shape=(4, 6), seed=3):
    """(ŷ, y) of the given kind; real values stay away from the kinks of |e|, max and min."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(0.2, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    if kind == "real":
        yhat, y = z, z + rng.uniform(0.2, 0.7, shape) * rng.choice([-1.0, 1.0], shape) * rng.choice([1, 3], shape)
    elif kind == "positive":
        yhat, y = rng.uniform(0.2, 3.0, shape), rng.uniform(0.2, 3.0, shape)
    elif kind == "probability":
        yhat, y = rng.uniform(0.05, 0.95, shape), rng.uniform(0.0, 1.0, shape)
    elif kind in ("distribution", "logit-distribution"):
        y = np.eye(shape[0])[:, rng.integers(0, shape[0], shape[1])]
        yhat = z if kind == "logit-distribution" else _softmax(z)
    elif kind == "logit":
        yhat, y = 3 * z, rng.uniform(0.0, 1.0, shape)
    elif kind == "sign":
        y = rng.choice([-1.0, 1.0], shape)
        yhat = y * (1 + rng.uniform(0.1, 0.6, shape) * rng.choice([-1.0, 1.0, -4.0], shape))
    return yhat.astype(dtype), y.astype(dtype)


def _loss(name):
    return getattr(flux, name)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("name", LOSSES)
def test_loss_matches_numpy_reference(name, dtype, rtol):
    kind, reference = REFERENCES[name]
    yhat, y = _data(kind, dtype)
    eps = float(np.finfo(dtype).eps)
    expected = reference(yhat.astype(np.float64), y.astype(np.float64), eps)
    loss = _loss(name)
    out = loss(yhat, y)
    assert np.asarray(out).dtype == dtype
    np.testing.assert_allclose(out, np.mean(expected), rtol=rtol)
    np.testing.assert_allclose(loss(yhat, y, agg=flux.sum), np.sum(expected), rtol=rtol)
    np.testing.assert_allclose(loss(yhat, y, agg=flux.identity), expected, rtol=rtol, atol=rtol * 1e-3)
    np.testing.assert_allclose(loss(yhat, y, agg=lambda e: flux.sum(e * e)), np.sum(expected**2), rtol=rtol)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradient_matches_finite_differences(name):
    kind, _ = REFERENCES[name]
    yhat, y = _data(kind, shape=(3, 4), seed=8)
    if "distribution" in kind:  # targets away from 0, where a derivative in y exists
        y = flux.label_smoothing(y, 0.3)
    loss = _loss(name)
    check_gradient(lambda t: loss(t[0], t[1], agg=flux.identity), [yhat, y])
    check_gradient(lambda t: loss(t[0], y), [yhat])


@pytest.mark.parametrize("name", LOSSES)
def test_loss_checks_sizes(name):
    yhat, y = _data(REFERENCES[name][0], shape=(4, 6))
    with pytest.raises(ValueError) as err:
        _loss(name)(yhat, y.T)
    assert "(4, 6)" in str(err.value) and "(6, 4)" in str(err.value) and name in str(err.value)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_is_in_flux_losses_with_a_docstring(name):
    assert getattr(flux.losses, name) is _loss(name)
    assert name in flux.losses.__all__ and name in flux.__all__
    doc = _loss(name).__doc__
    assert f"{name}(ŷ, y" in doc and "agg=mean" in doc


def test_flux_losses_exports_every_loss():
    assert sorted(flux.losses.__all__) == sorted(LOSSES + ["label_smoothing"])
    from pyflux.losses import crossentropy, logitcrossentropy, mse  # noqa: F401
    assert flux.label_smoothing is flux.losses.label_smoothing
    assert "label_smoothing(y, alpha" in flux.label_smoothing.__doc__


@pytest.mark.parametrize("dims", [0, 1])
@pytest.mark.parametrize("name", ["crossentropy", "logitcrossentropy", "kldivergence", "focal_loss"])
def test_per_sample_losses_sum_over_dims_and_average_over_the_rest(name, dims):
    kind, reference = REFERENCES[name]
    yhat, y = _data(kind, shape=(4, 6))
    if dims == 1:
        yhat, y = yhat.T.copy(), y.T.copy()
    expected = reference(np.moveaxis(yhat, dims, 0), np.moveaxis(y, dims, 0), np.finfo(np.float64).eps)
    assert expected.shape == (6,)
    np.testing.assert_allclose(_loss(name)(yhat, y, dims=dims), np.mean(expected), rtol=1e-12)
    np.testing.assert_allclose(_loss(name)(yhat, y, dims=dims, agg=flux.identity), expected, rtol=1e-12)


def test_default_eps_follows_the_prediction_dtype():
    p, y = np.array([0.0, 1.0]), np.array([1.0, 0.0])
    assert flux.binarycrossentropy(p, y) == pytest.approx(-np.log(np.finfo(np.float64).eps), rel=1e-12)
    p32, y32 = p.astype(np.float32), y.astype(np.float32)
    assert flux.binarycrossentropy(p32, y32) == pytest.approx(-np.log(np.finfo(np.float32).eps), rel=1e-6)
    assert flux.binarycrossentropy(p, y, eps=1e-3) == pytest.approx(-np.log(1e-3), rel=1e-12)
    assert flux.crossentropy(np.array([0, 1]), np.array([1, 0])) == pytest.approx(-np.log(np.finfo(float).eps))


# --- edge cases -----------------------------------------------------------------------------------

def test_zero_targets_contribute_nothing_where_flux_uses_xlogy():
    # xlogy(0, 0) = 0: poisson_loss and kldivergence stay finite for zero targets and predictions.
    assert flux.poisson_loss(np.array([0.0, 2.0]), np.array([0.0, 2.0])) == pytest.approx((2 - 2 * np.log(2)) / 2)
    p = np.array([[0.0, 0.5], [1.0, 0.5]])
    assert flux.kldivergence(p, np.array([[0.0, 0.5], [1.0, 0.5]])) == pytest.approx(0.0, abs=1e-12)
    assert flux.kldivergence(p, np.array([[1.0, 1.0], [0.0, 0.0]])) == pytest.approx(
        (-np.log(np.finfo(float).eps) + np.log(2)) / 2, rel=1e-12)
    # With ε added, the plain products are already 0 there.
    assert flux.crossentropy(np.array([[0.0], [1.0]]), np.array([[0.0], [1.0]])) == pytest.approx(0.0, abs=1e-12)
    assert flux.binarycrossentropy(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == pytest.approx(0.0, abs=1e-12)


def test_zero_targets_have_finite_gradients():
    p = np.array([[0.0, 0.5], [1.0, 0.5]])  # zero predictions too
    y = np.array([[0.0, 0.5], [1.0, 0.5]])
    for loss, expected in [(flux.kldivergence, 0.0), (flux.crossentropy, 0.0), (flux.focal_loss, 0.0),
                           (flux.poisson_loss, 1 / p.size)]:
        g = flux.gradient(lambda a: loss(a, y), p)[0]
        assert np.all(np.isfinite(g)) and g[0, 0] == expected, loss
    # Traced targets too: the gradient of xlogx(y) is log(y) + 1 away from 0 and stays finite at 0.
    g_yhat, g_y = flux.gradient(flux.kldivergence, p, y)
    assert np.all(np.isfinite(g_y)) and np.all(np.isfinite(g_yhat))
    np.testing.assert_allclose(g_y[:, 1], (np.log(0.5) + 1 - np.log(0.5 + np.finfo(float).eps)) / 2, rtol=1e-12)
    assert flux.kldivergence(p, y) == pytest.approx(flux.withgradient(flux.kldivergence, p, y)[0], rel=1e-15)


def test_logit_losses_are_finite_for_extreme_logits():
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    losses = flux.logitbinarycrossentropy(z, y, agg=flux.identity)
    np.testing.assert_allclose(losses, [0.0, 0.0, 1000.0, 1000.0, np.log(2)], atol=1e-12)
    (g,) = flux.gradient(lambda a: flux.logitbinarycrossentropy(a, y, agg=flux.sum), z)
    np.testing.assert_allclose(g, [0.0, 0.0, 1.0, -1.0, -0.5], atol=1e-12)  # σ(ŷ) - y, also at ŷ = 0
    z32 = z.astype(np.float32)
    assert np.isfinite(flux.logitbinarycrossentropy(z32, y.astype(np.float32)))
    logits = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    (g,) = flux.gradient(lambda a: flux.logitcrossentropy(a, np.eye(2)[::-1]), logits)
    np.testing.assert_allclose(g, [[0.5, -0.5], [-0.5, 0.5]])


def test_logitbinarycrossentropy_equals_binarycrossentropy_of_sigmoid():
    z, y = _data("logit")
    np.testing.assert_allclose(flux.logitbinarycrossentropy(z, y),
                               flux.binarycrossentropy(flux.sigmoid(z), y), rtol=1e-10)


def test_derivative_of_absolute_error_at_zero_is_zero():
    (g,) = flux.gradient(lambda a: flux.mae(a, np.array([1.0, 2.0]), agg=flux.sum), np.array([1.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0])


def test_huber_loss_switches_at_delta():
    yhat, y = np.array([0.0, 0.0, 0.0, 0.0]), np.array([0.5, -2.0, 3.0, 2.0])
    np.testing.assert_allclose(flux.huber_loss(yhat, y, agg=flux.identity), [0.125, 1.5, 2.5, 1.5])
    np.testing.assert_allclose(flux.huber_loss(yhat, y, delta=2.0, agg=flux.identity), [0.125, 2.0, 4.0, 2.0])
    (g,) = flux.gradient(lambda a: flux.huber_loss(a, y, delta=2.0, agg=flux.sum), yhat)
    np.testing.assert_allclose(g, [-0.5, 2.0, -2.0, -2.0])  # at e == delta the linear branch, as in Flux
    check_gradient(lambda t: flux.huber_loss(t[0], t[1], delta=0.3, agg=flux.identity), _data("real", shape=(3, 3)))


def test_focal_losses_reduce_to_crossentropy_for_gamma_zero():
    p, y = _data("distribution")
    np.testing.assert_allclose(flux.focal_loss(p, y, gamma=0), flux.crossentropy(p, y), rtol=1e-14)
    np.testing.assert_allclose(flux.focal_loss(p, y, gamma=0.5),
                               np.mean(np.sum(-y * (1 - p - 2e-16) ** 0.5 * np.log(p + 2.220446049250313e-16), 0)))
    q, t = _data("probability")
    t = np.round(t)
    np.testing.assert_allclose(flux.binary_focal_loss(q, t, gamma=0), flux.binarycrossentropy(q, t), rtol=1e-12)
    # Well-classified samples are down-weighted.
    assert flux.binary_focal_loss(np.array([0.9]), np.array([1.0])) < 0.02 * flux.binarycrossentropy(
        np.array([0.9]), np.array([1.0]))


def test_hinge_losses_vanish_beyond_the_margin():
    yhat, y = np.array([2.0, -1.5, 0.5, -0.5]), np.array([1.0, -1.0, 1.0, 1.0])
    np.testing.assert_allclose(flux.hinge_loss(yhat, y, agg=flux.identity), [0.0, 0.0, 0.5, 1.5])
    np.testing.assert_allclose(flux.squared_hinge_loss(yhat, y, agg=flux.sum), 0.25 + 2.25)


def test_msle_poisson_and_hinge_small_cases():
    assert flux.msle(np.array([np.e - 1e-300]), np.array([1.0]), eps=0.0) == pytest.approx(1.0)
    assert flux.poisson_loss(np.array([1.0]), np.array([3.0])) == pytest.approx(1.0)
    assert flux.mae(np.array([1.0, -2.0]), np.array([0.0, 0.0])) == 1.5
    assert flux.mae(np.array([1.0, -2.0]), 0.0, agg=flux.sum) == 3.0


# --- label_smoothing ------------------------------------------------------------------------------

def test_label_smoothing_one_hot_columns():
    y = np.eye(4)[:, [0, 2, 3]]
    np.testing.assert_allclose(flux.label_smoothing(y, 0.2), y * 0.8 + 0.05)
    np.testing.assert_allclose(flux.label_smoothing(y, 0.2).sum(0), 1.0)
    np.testing.assert_allclose(flux.label_smoothing(y.T, 0.2, dims=1), y.T * 0.8 + 0.05)
    assert flux.label_smoothing(y.astype(np.float32), 0.1).dtype == np.float32


def test_label_smoothing_binary_labels():
    np.testing.assert_allclose(flux.label_smoothing(np.array([0.0, 1.0, 1.0]), 0.2, dims=None), [0.1, 0.9, 0.9])
    assert flux.label_smoothing(1.0, 0.5, dims=None) == 0.75


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5])
def test_label_smoothing_needs_alpha_between_0_and_1(alpha):
    with pytest.raises(ValueError, match="between 0 and 1"):
        flux.label_smoothing(np.eye(2), alpha)


def test_label_smoothing_is_traced():
    (g,) = flux.gradient(lambda y: flux.sum(flux.label_smoothing(y, 0.25) * np.arange(4.0).reshape(2, 2)), np.eye(2))
    np.testing.assert_allclose(g, 0.75 * np.arange(4.0).reshape(2, 2))


def test_equal_prediction_and_target_give_exactly_zero_with_eps_0():
    y = flux.onehotbatch([2, 0, 1, 2], [0, 1, 2])
    for dtype in (np.float32, np.float64):
        yhat = y.astype(dtype)
        assert flux.crossentropy(yhat, yhat, eps=0) == 0.0
        assert flux.crossentropy(yhat, y, eps=0, agg=flux.sum) == 0.0
        p = np.array([[0.0, 0.25], [0.7, 0.0], [0.3, 0.75]], dtype)
        assert flux.kldivergence(p, p, eps=0) == 0.0
        assert flux.binarycrossentropy(yhat, yhat, eps=0) == 0.0
    g = flux.gradient(lambda a: flux.crossentropy(a, y, eps=0), y.astype(np.float64))[0]
    np.testing.assert_array_equal(g, -y / 4)


def test_hinge_losses_and_huber_take_the_kink_as_maximum_and_minimum_do():
    # At the kink the gradient splits, as ChainRules' max and min split ties.
    yhat, y = np.array([1.0, 0.5, 2.0]), np.array([1.0, 1.0, 1.0])
    g = flux.gradient(lambda a: flux.hinge_loss(a, y, agg=flux.sum), yhat)[0]
    np.testing.assert_array_equal(g, [-0.5, -1.0, 0.0])
    g = flux.gradient(lambda a: flux.huber_loss(a, np.zeros(3), agg=flux.sum), np.array([1.0, -3.0, 0.5]))[0]
    np.testing.assert_array_equal(g, [1.0, -1.0, 0.5])
