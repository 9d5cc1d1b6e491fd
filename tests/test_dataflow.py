"""SkipConnection and Parallel (pyflux/layers/dataflow.py)."""

import operator

import numpy as np
import pytest
from gradcheck import check_gradient

import pyflux as flux


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def dense64(rng, n_in, n_out, act=flux.identity):
    return flux.Dense(rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out), act)


def affine(W, b, x):
    return W @ x + b[:, None]


# --- SkipConnection ------------------------------------------------------------------------------

def test_skip_connection_forward(rng):
    d = dense64(rng, 3, 3, flux.tanh)
    x = rng.standard_normal((3, 4))
    W, b = np.asarray(d.weight), np.asarray(d.bias)
    np.testing.assert_allclose(flux.SkipConnection(d, operator.add)(x), np.tanh(affine(W, b, x)) + x, rtol=1e-12)
    cat = flux.SkipConnection(d, lambda y, v: y * v)
    np.testing.assert_allclose(cat(x), np.tanh(affine(W, b, x)) * x, rtol=1e-12)


def test_skip_connection_gradient(rng):
    def f(ts):
        d = flux.Dense(3, 3, flux.sigmoid)
        d.weight, d.bias = ts[1], ts[2]
        return flux.SkipConnection(d, operator.add)(ts[0])
    check_gradient(f, [rng.standard_normal((3, 2)), rng.standard_normal((3, 3)), rng.standard_normal(3)])


def test_skip_connection_print():
    s = flux.SkipConnection(flux.Dense(20, 20, flux.relu), operator.add)
    assert flux.compact(s) == "SkipConnection(Dense(20 => 20, relu), +)"
    assert str(s) == "\n".join([
        "SkipConnection(",
        "  Dense(20 => 20, relu),                # 420 parameters",
        "  +,",
        ")",
    ])
    assert len(flux.trainables(s)) == 2 and set(flux.state(s)) == {"layers"}


# --- Parallel ------------------------------------------------------------------------------------

def test_parallel_one_input_goes_to_every_layer(rng):
    a, b = dense64(rng, 3, 2), dense64(rng, 3, 2, flux.tanh)
    x = rng.standard_normal((3, 5))
    expected = a(x) + b(x)
    np.testing.assert_allclose(flux.Parallel(operator.add, a, b)(x), expected, rtol=1e-12)
    three = flux.Parallel(operator.add, a, b, a)(x)
    np.testing.assert_allclose(three, expected + a(x), rtol=1e-12)
    np.testing.assert_allclose(flux.Parallel(lambda *ys: ys[1], a, b)(x), b(x))


def test_parallel_several_inputs(rng):
    a, b = dense64(rng, 3, 2), dense64(rng, 4, 2)
    x1, x2 = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    p = flux.Parallel(operator.mul, a, b)
    np.testing.assert_allclose(p(x1, x2), a(x1) * b(x2), rtol=1e-12)
    np.testing.assert_allclose(p((x1, x2)), a(x1) * b(x2), rtol=1e-12)
    single = flux.Parallel(lambda *ys: ys, a)
    y1, y2, y3 = single(x1, x1 + 1, x1 * 2)
    np.testing.assert_allclose(y3, a(x1 * 2))
    with pytest.raises(ValueError, match="Parallel with 2 > 1 sub-layers can take one input or 2 inputs, but got 3"):
        p(x1, x2, x2)


def test_parallel_named_layers_and_indexing(rng):
    p = flux.Parallel(operator.add, α=flux.Dense(10, 2, flux.tanh), β=flux.Dense(5, 2))
    assert p["α"] is p.α and p[1] is p.β and len(p) == 2 and p.keys() == ["α", "β"]
    with pytest.raises(ValueError, match="connection"):
        flux.Parallel(operator.add, connection=flux.Dense(1, 1))
    with pytest.raises(ValueError, match="layers"):
        flux.Parallel(operator.add, layers=flux.Dense(1, 1))
    with pytest.raises(ValueError, match="at least one layer"):
        flux.Parallel(operator.add)
    assert sorted(flux.state(p)["layers"]) == ["α", "β"]


def test_parallel_gradient(rng):
    def f(ts):
        a = flux.Dense(3, 2, flux.tanh)
        a.weight, a.bias = ts[2], ts[3]
        return flux.Parallel(operator.mul, a, lambda v: v * v)(ts[0], ts[1])
    check_gradient(f, [rng.standard_normal((3, 2)), rng.standard_normal((2, 2)), rng.standard_normal((2, 3)),
                       rng.standard_normal(2)])


def test_parallel_model_gradient_mirrors_names(rng):
    p = flux.Parallel(operator.add, a=dense64(rng, 3, 2), b=dense64(rng, 3, 2))
    x = rng.standard_normal((3, 4))
    (g,) = flux.gradient(lambda m: flux.sum(m(x)), p)
    np.testing.assert_allclose(g.layers["a"].weight, np.ones((2, 4)) @ x.T, rtol=1e-12)
    assert g.connection is None


def test_parallel_print_as_flux_docstring():
    p = flux.Parallel(operator.add, α=flux.Dense(10, 2, flux.tanh), β=flux.Dense(5, 2))
    assert flux.compact(p) == "Parallel(+, α = Dense(10 => 2, tanh), β = Dense(5 => 2))"
    assert str(p) == "\n".join([
        "Parallel(",
        "  +,",
        "  α = Dense(10 => 2, tanh),             # 22 parameters",
        "  β = Dense(5 => 2),                    # 12 parameters",
        ")                   # Total: 4 arrays, 34 parameters, 344 bytes.",
    ])
    assert flux.compact(flux.Parallel(operator.add, flux.Dense(10, 2, flux.tanh), flux.Dense(5, 2))) == (
        "Parallel(+, Dense(10 => 2, tanh), Dense(5 => 2))")


def test_dataflow_save_and_load(tmp_path, rng):
    def build():
        return flux.Chain(flux.SkipConnection(flux.Dense(2, 2), operator.add),
                          flux.Parallel(operator.add, a=flux.Dense(2, 1), b=flux.BatchNorm(2)))
    m = build()
    flux.trainmode(m)
    m[1].b(rng.standard_normal((2, 4)).astype(np.float32))
    flux.save(tmp_path / "m.npz", m)
    fresh = flux.load(tmp_path / "m.npz", build())
    np.testing.assert_array_equal(fresh[0].layers.weight, m[0].layers.weight)
    np.testing.assert_array_equal(fresh[1].a.weight, m[1].a.weight)
    np.testing.assert_array_equal(fresh[1].b.σ2, m[1].b.σ2)
