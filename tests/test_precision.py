"""f32 and f64 (pyflux/precision.py)."""

import numpy as np

import pyflux as flux


def test_f64_converts_params_and_state():
    m = flux.Chain(flux.Dense(2, 3), flux.BatchNorm(3), flux.Embedding(4, 2))
    m64 = flux.f64(m)
    assert m64 is not m and type(m64) is flux.Chain
    for p in flux.trainables(m64):
        assert isinstance(p, flux.Param) and p.dtype == np.float64
    assert m64[1].μ.dtype == np.float64 and m64[1].σ2.dtype == np.float64
    assert all(p.dtype == np.float32 for p in flux.trainables(m))  # the original is unchanged
    np.testing.assert_array_equal(m64[0].weight, np.asarray(m[0].weight, np.float64))
    x = np.ones((2, 4))
    assert m64[0](x).dtype == np.float64
    back = flux.f32(m64)
    assert all(p.dtype == np.float32 for p in flux.trainables(back))
    assert flux.f32(m)[0].weight is m[0].weight  # already float32: shared, as Flux does


def test_conversion_keeps_names_and_ties():
    d = flux.Dense(2, 2)
    m = flux.Chain(a=d, b=d)
    m64 = flux.f64(m)
    assert m64.a is m64.b and m64.a.weight.dtype == np.float64
    assert flux.compact(m64) == "Chain(a = Dense(2 => 2), b = Dense(2 => 2))"
