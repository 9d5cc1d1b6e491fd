"""Dropout, BatchNorm and LayerNorm (pyflux/layers/normalise.py)."""

import numpy as np
import pytest
from flux_helpers import numeric_gradient
from gradcheck import check_gradient

import pyflux as flux


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def batchnorm_reference(x, gamma, beta, eps=1e-5, mean=None, var=None):
    """numpy batch normalisation of x (..., C, N) over every axis but the second-to-last."""
    axes = tuple(i for i in range(x.ndim) if i != x.ndim - 2)
    shape = [1] * x.ndim
    shape[-2] = x.shape[-2]
    mu = x.mean(axis=axes) if mean is None else mean
    s2 = x.var(axis=axes) if var is None else var
    xhat = (x - mu.reshape(shape)) / np.sqrt(s2.reshape(shape) + eps)
    return gamma.reshape(shape) * xhat + beta.reshape(shape)


# --- Dropout -------------------------------------------------------------------------------------

def test_dropout_inactive_outside_gradient_is_identity(rng):
    x = rng.standard_normal((4, 5))
    d = flux.Dropout(0.5)
    assert d(x) is x


def test_dropout_active_inside_gradient_scales_kept_entries(rng):
    x = rng.standard_normal((50, 40)) + 3
    d = flux.Dropout(0.25, rng=np.random.default_rng(0))
    (g,) = flux.gradient(lambda v: flux.sum(d(v)), x)
    kept = g != 0
    np.testing.assert_allclose(g[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.03


def test_dropout_mask_matches_rng_draw(rng):
    x = rng.standard_normal((3, 4))
    y = flux.Dropout(0.4, rng=np.random.default_rng(5), active=True)(x)
    keep = np.random.default_rng(5).random((3, 4)) > 0.4
    np.testing.assert_allclose(y, x * keep / 0.6)


def test_dropout_dims_drops_whole_slices(rng):
    x = np.ones((2, 3, 6, 5))
    y = flux.Dropout(0.5, dims=2, active=True, rng=np.random.default_rng(1))(x)
    per_channel = y.transpose(2, 0, 1, 3).reshape(6, -1)
    for row in per_channel:
        assert np.all(row == row[0]) and row[0] in (0.0, 2.0)
    y2 = flux.Dropout(0.5, dims=(2, 3), active=True, rng=np.random.default_rng(1))(x)
    assert np.all(y2 == y2[:1, :1])


def test_dropout_p_edges_and_argument_check():
    x = np.arange(4.0)
    assert np.array_equal(flux.Dropout(0, active=True)(x), x)
    assert not flux.Dropout(1, active=True)(x).any()
    assert flux.Dropout(0.5, active=True)(np.arange(4)).dtype == np.float32
    with pytest.raises(ValueError, match="0 ≤ p ≤ 1, got p = 1.5"):
        flux.Dropout(1.5)


def test_dropout_gradient_finite_differences(rng):
    def f(ts):
        return flux.Dropout(0.3, rng=np.random.default_rng(2), active=True)(ts[0])
    check_gradient(f, [rng.standard_normal((3, 4))])


def test_dropout_print_and_no_parameters():
    assert flux.compact(flux.Dropout(0.4)) == "Dropout(0.4)"
    assert flux.compact(flux.Dropout(0.4, dims=2)) == "Dropout(0.4, dims=2)"
    assert flux.compact(flux.Dropout(0.4, active=True)) == "Dropout(0.4, active=true)"
    assert str(flux.Dropout(0.4)) == "Dropout(0.4)"
    assert flux.trainables(flux.Dropout(0.4)) == [] and flux.state(flux.Dropout(0.4)) == {}


# --- BatchNorm -----------------------------------------------------------------------------------

def test_batchnorm_construction():
    bn = flux.BatchNorm(3)
    assert np.array_equal(bn.β, np.zeros(3)) and np.array_equal(bn.γ, np.ones(3))
    assert isinstance(bn.β, flux.Param) and bn.β.dtype == np.float32
    assert type(bn.μ) is np.ndarray and np.array_equal(bn.μ, np.zeros(3)) and np.array_equal(bn.σ2, np.ones(3))
    assert (bn.ε, bn.momentum, bn.affine, bn.track_stats, bn.active) == (1e-5, 0.1, True, True, None)
    assert len(flux.trainables(bn)) == 2
    plain = flux.BatchNorm(3, affine=False)
    assert plain.β is None and plain.γ is None and flux.trainables(plain) == []


@pytest.mark.parametrize("shape", [(3, 5), (2, 4, 3, 2), (4, 3, 6)])
def test_batchnorm_training_forward_and_running_stats(rng, shape):
    c = shape[-2]
    x = rng.standard_normal(shape) * 2 + 1
    bn = flux.f64(flux.BatchNorm(c, flux.relu, momentum=0.3))
    bn.γ[...] = rng.standard_normal(c)
    bn.β[...] = rng.standard_normal(c)
    y = flux.trainmode(bn)(x)
    expected = np.maximum(batchnorm_reference(x, np.asarray(bn.γ), np.asarray(bn.β)), 0)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)
    axes = tuple(i for i in range(x.ndim) if i != x.ndim - 2)
    m = x.size // c
    np.testing.assert_allclose(bn.μ, 0.3 * x.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(bn.σ2, 0.7 + 0.3 * x.var(axis=axes) * m / (m - 1), rtol=1e-12)


def test_batchnorm_modes(rng):
    x = rng.standard_normal((3, 8)).astype(np.float32) + 2
    bn = flux.BatchNorm(3)
    bn.μ[...] = [1.0, 2.0, 3.0]
    bn.σ2[...] = [4.0, 1.0, 0.25]
    expected = batchnorm_reference(x, np.ones(3), np.zeros(3), mean=bn.μ, var=bn.σ2)
    np.testing.assert_allclose(bn(x), expected, rtol=1e-5)  # automatic mode, no gradient: test
    assert np.array_equal(bn.μ, [1.0, 2.0, 3.0])
    flux.gradient(lambda m: flux.sum(m(x)), bn)  # automatic mode inside gradient: training
    assert not np.array_equal(bn.μ, [1.0, 2.0, 3.0])
    before = bn.μ.copy()
    flux.testmode(bn)
    flux.gradient(lambda m: flux.sum(m(x)), bn)
    assert np.array_equal(bn.μ, before)
    flux.testmode(bn, "auto")
    assert bn.active is None
    untracked = flux.BatchNorm(3, track_stats=False)
    np.testing.assert_allclose(untracked(x), batchnorm_reference(x, np.ones(3), np.zeros(3)), rtol=1e-4, atol=1e-5)


def test_batchnorm_one_value_per_channel_in_training():
    bn = flux.BatchNorm(1, active=True)
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        bn(np.ones((1, 1), np.float32))
    assert flux.BatchNorm(1)(np.ones((1, 1), np.float32)).shape == (1, 1)  # inference is fine


def test_batchnorm_wrong_channels():
    with pytest.raises(ValueError, match=r"BatchNorm\(3\).*\(4, 2\)"):
        flux.BatchNorm(3)(np.ones((4, 2), np.float32))


def test_batchnorm_gradient_finite_differences(rng):
    def f(ts):
        bn = flux.BatchNorm(3, flux.tanh, active=True)
        bn.γ, bn.β = ts[1], ts[2]
        return bn(ts[0])
    check_gradient(f, [rng.standard_normal((2, 3, 4)), rng.standard_normal(3), rng.standard_normal(3)])

    def g(ts):
        return flux.BatchNorm(3, affine=False, active=False, track_stats=False)(ts[0])
    check_gradient(g, [rng.standard_normal((3, 5))])


def test_batchnorm_in_a_model_gradient(rng):
    m = flux.f64(flux.Chain(flux.Dense(2, 3, flux.tanh), flux.BatchNorm(3), flux.Dense(3, 1)))
    x = rng.standard_normal((2, 6))
    flux.trainmode(m)
    (g,) = flux.gradient(lambda mm: flux.sum(mm(x) ** 2), m)
    for p, gp in [(m[1].γ, g.layers[1].γ), (m[1].β, g.layers[1].β), (m[0].weight, g.layers[0].weight)]:
        np.testing.assert_allclose(gp, numeric_gradient(lambda: flux.sum(m(x) ** 2), p), rtol=1e-6, atol=1e-8)


def test_batchnorm_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 7)).astype(np.float32)
    bn = flux.BatchNorm(4, active=True)
    tbn = torch.nn.BatchNorm1d(4)
    for _ in range(3):
        y = bn(x)
        ty = tbn(torch.from_numpy(x.T.copy())).detach().numpy().T
        np.testing.assert_allclose(y, ty, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bn.μ, tbn.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.σ2, tbn.running_var.numpy(), rtol=1e-5, atol=1e-6)


def test_batchnorm_print():
    assert flux.compact(flux.BatchNorm(3)) == "BatchNorm(3)"
    assert flux.compact(flux.BatchNorm(64, flux.relu)) == "BatchNorm(64, relu)"
    assert flux.compact(flux.BatchNorm(3, affine=False)) == "BatchNorm(3, affine=false)"
    assert flux.compact(flux.BatchNorm(3, active=True)) == "BatchNorm(3, active=true)"
    assert str(flux.BatchNorm(3)) == "BatchNorm(3)        # 6 parameters, plus 6 non-trainable"
    assert str(flux.BatchNorm(32, flux.relu)) == "BatchNorm(32, relu)  # 64 parameters, plus 64 non-trainable"


def test_quickstart_model_prints_as_flux():
    m = flux.Chain(flux.Dense(2, 3, flux.tanh), flux.BatchNorm(3), flux.Dense(3, 2))
    assert str(m) == "\n".join([
        "Chain(",
        "  Dense(2 => 3, tanh),                  # 9 parameters",
        "  BatchNorm(3),                         # 6 parameters, plus 6",
        "  Dense(3 => 2),                        # 8 parameters",
        ")         # Total: 6 trainable arrays, 23 parameters,",
        "          # plus 2 non-trainable, 6 parameters, summarysize 548 bytes.",
    ])


def test_modules_docstring_model_prints_as_flux():
    m = flux.Chain(flux.Chain(flux.Dense(784, 64), flux.BatchNorm(64, flux.relu)), flux.Dense(64, 10))
    assert str(m).splitlines()[-2:] == [
        ")         # Total: 6 trainable arrays, 51_018 parameters,",
        "          # plus 2 non-trainable, 128 parameters, summarysize 200.211 KiB.",
    ]
    assert "    BatchNorm(64, relu),                # 128 parameters, plus 128" in str(m).splitlines()


def test_batchnorm_state_round_trip(tmp_path, rng):
    bn = flux.BatchNorm(3, active=True)
    bn(rng.standard_normal((3, 6)).astype(np.float32))
    bn.γ[...] = [1.0, 2.0, 3.0]
    st = flux.state(bn)
    assert sorted(st) == ["β", "γ", "μ", "σ2"]
    path = tmp_path / "bn.npz"
    flux.save(path, flux.Chain(bn))
    fresh = flux.Chain(flux.BatchNorm(3))
    flux.load(path, fresh)
    for name in ("β", "γ", "μ", "σ2"):
        np.testing.assert_array_equal(getattr(fresh[0], name), getattr(bn, name))
    assert type(fresh[0].μ) is np.ndarray


# --- LayerNorm -----------------------------------------------------------------------------------

def layernorm_reference(x, k, eps=1e-5):
    axes = tuple(range(k))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


@pytest.mark.parametrize("size, shape", [((4,), (4,)), ((4,), (4, 3)), ((2, 3), (2, 3, 5)), ((3,), (3, 2, 2))])
def test_layernorm_forward(rng, size, shape):
    ln = flux.f64(flux.LayerNorm(*size, flux.tanh))
    ln.diag.scale[...] = rng.standard_normal(size)
    ln.diag.bias[...] = rng.standard_normal(size)
    x = rng.standard_normal(shape) * 3 + 1
    extra = (1,) * (len(shape) - len(size))
    scale = np.asarray(ln.diag.scale).reshape(size + extra)
    bias = np.asarray(ln.diag.bias).reshape(size + extra)
    expected = np.tanh(scale * layernorm_reference(x, len(size)) + bias)
    np.testing.assert_allclose(ln(x), expected, rtol=1e-10, atol=1e-12)


def test_layernorm_eps_inside_sqrt():
    x = np.array([[1.0], [-1.0]])
    y = flux.LayerNorm(2, affine=False, eps=0.5)(x)
    np.testing.assert_allclose(y, x / np.sqrt(1.5))
    assert flux.LayerNorm(2, affine=False).diag is None


def test_layernorm_gradient_finite_differences(rng):
    def f(ts):
        ln = flux.LayerNorm(3, flux.sigmoid)
        ln.diag.scale, ln.diag.bias = ts[1], ts[2]
        return ln(ts[0])
    check_gradient(f, [rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal(3)])


def test_layernorm_print_and_state(tmp_path):
    assert flux.compact(flux.LayerNorm(3)) == "LayerNorm(3)"
    assert flux.compact(flux.LayerNorm(3, flux.relu)) == "LayerNorm(3, relu)"
    assert flux.compact(flux.LayerNorm(3, affine=False)) == "LayerNorm(3, affine=false)"
    assert flux.compact(flux.LayerNorm(2, 3)) == "LayerNorm(2, 3)"
    assert str(flux.LayerNorm(3)) == "LayerNorm(3)        # 6 parameters"
    assert str(flux.Chain(flux.LayerNorm(3), flux.Dense(3, 2))).splitlines()[1] == (
        "  LayerNorm(3),                         # 6 parameters")
    ln = flux.LayerNorm(3)
    ln.diag.scale[...] = [1.0, 2.0, 3.0]
    flux.save(tmp_path / "ln.npz", ln)
    fresh = flux.load(tmp_path / "ln.npz", flux.LayerNorm(3))
    np.testing.assert_array_equal(fresh.diag.scale, [1.0, 2.0, 3.0])


def test_layernorm_wrong_shape():
    with pytest.raises(ValueError, match=r"LayerNorm\(3\).*\(4, 2\)"):
        flux.LayerNorm(3)(np.ones((4, 2), np.float32))
