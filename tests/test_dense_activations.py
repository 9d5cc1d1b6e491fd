"""Every activation fused into Dense's forward (csrc/kernels/dense.cpp, pyflux/layers/basic.py) against
numpy's act(W @ x + b), written from the formulas in activation_references.py."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from activation_references import PARAMETERISED, REFERENCES, reference

import pyflux as flux
from pyflux import _core as C

# The products' rounding passes through activations whose slope reaches about 2 here (lisht), so
# the tolerance is a little above the product's.
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-13)}
ACTIVATION_OBJECTS = {"sigmoid": flux.σ, "hardsigmoid": flux.hardσ, "logsigmoid": flux.logσ}


def activation(name):
    return ACTIVATION_OBJECTS.get(name) or getattr(flux, name)


def case(dtype, seed=3):
    rng = np.random.default_rng(seed)
    W, b = rng.uniform(-1, 1, (5, 7)).astype(dtype), rng.uniform(-1, 1, 5).astype(dtype)
    X = rng.uniform(-2, 2, (9, 7)).astype(dtype)  # batch-first; X.T is (in, N) without a copy
    return W, b, X


def pre_activation(W, b, x):
    z = np.asarray(W, np.float64) @ np.asarray(x, np.float64)
    return z + (np.asarray(b, np.float64) if x.ndim == 1 else np.asarray(b, np.float64)[:, None])


@pytest.mark.parametrize("name", list(REFERENCES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_dense_matches_numpy(name, dtype):
    W, b, X = case(dtype)
    code, ref = REFERENCES[name][0], reference(name)
    layer = flux.Dense(W, b, activation(name))
    for x in (X.T, np.ascontiguousarray(X.T), X[4], X[::2].T):
        expected = ref(pre_activation(W, b, x))
        for got in (C.dense(W, b, x, code), layer(x)):
            assert got.dtype == dtype and got.shape == expected.shape
            np.testing.assert_allclose(got, expected, **TOL[dtype])


@pytest.mark.parametrize("name", list(REFERENCES))
def test_traced_forward_equals_untraced(name):
    # Traced, the activations that need their input keep W x + b in a buffer of their own.
    W, b, X = case(np.float64, seed=4)
    code = REFERENCES[name][0]
    untraced = C.dense(W, b, X.T, code)
    t = C.Tensor(W)
    tape = C.Tape()
    tape.watch(t)
    with tape:
        traced = C.dense(t, b, X.T, code)
    np.testing.assert_array_equal(np.asarray(traced), untraced)


@pytest.mark.parametrize("name", PARAMETERISED)
def test_dense_uses_flux_default_parameter(name):
    W, b, X = case(np.float64, seed=5)
    act = getattr(flux, name)
    code, _, default = REFERENCES[name]
    assert act.param == default
    np.testing.assert_array_equal(flux.Dense(W, b, act)(X.T), C.dense(W, b, X.T, code, default))
    np.testing.assert_array_equal(C.dense(W, b, X.T, code), C.dense(W, b, X.T, code, None))
    np.testing.assert_allclose(C.dense(W, b, X.T, code, 2 * default),
                               reference(name, 2 * default)(pre_activation(W, b, X.T)), **TOL[np.float64])


@pytest.mark.parametrize("name", list(REFERENCES))
def test_dense_layer_gradient_matches_unfused(name):
    # The fused backward against the tape through matmul, add and the standalone activation.
    W, b, X = case(np.float64, seed=6)
    act = activation(name)
    layer = flux.Dense(W.copy(), b.copy(), act)
    (g,) = flux.gradient(lambda m: flux.sum(m(X.T) * np.cos(np.arange(9))), layer)

    def unfused(W, b):
        return flux.sum(act(C.add(C.matmul(W, X.T), C.reshape(b, (5, 1)))) * np.cos(np.arange(9)))

    gW, gb = flux.gradient(unfused, W, b)
    np.testing.assert_allclose(np.asarray(g.weight), gW, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(np.asarray(g.bias), gb, rtol=1e-12, atol=1e-13)


# A small layer calls gemm's small loop directly (dense.cpp), a larger one gemm: the layer's answer
# and gradients for a sample must be those for the same sample inside a batch, for every way a
# single sample can be laid out, on both sides of the small-product size (4,096 weights).
_SINGLE_LAYOUTS = ["contiguous", "column of a matrix", "row of a batch-first matrix, transposed"]


def _single(x, layout):
    if layout == "column of a matrix":  # a strided 1-D view
        return np.stack([x, np.zeros_like(x), np.ones_like(x)], axis=1)[:, 0]
    if layout == "row of a batch-first matrix, transposed":  # (in, 1), Fortran-ordered
        return x[None, :].T
    return x


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 90), st.integers(1, 90), st.sampled_from(sorted(REFERENCES)),
       st.sampled_from([np.float32, np.float64]), st.booleans(), st.sampled_from(_SINGLE_LAYOUTS),
       st.integers(0, 2**32 - 1))
def test_one_sample_equals_its_column_of_a_batch(n_in, n_out, name, dtype, bias, layout, seed):
    rng = np.random.default_rng(seed)
    d = flux.Dense(rng.uniform(-1, 1, (n_out, n_in)).astype(dtype), bias and rng.uniform(-1, 1, n_out),
                   activation(name))
    x = rng.uniform(-2, 2, n_in).astype(dtype)
    X = np.stack([x, rng.uniform(-2, 2, n_in).astype(dtype)], axis=1)  # x as column 0 of a batch
    c = rng.uniform(-1, 1, n_out).astype(dtype)
    single = _single(x, layout)
    y = np.asarray(d(single)).reshape(n_out)
    np.testing.assert_allclose(y, np.asarray(d(X))[:, 0], **TOL[dtype])
    ps = flux.params(d)
    one = flux.gradient(lambda: flux.sum(d(single).reshape(n_out) * c), ps)
    batch = flux.gradient(lambda: flux.sum(d(X)[:, 0] * c), ps)
    for p in ps:
        np.testing.assert_allclose(one[p], batch[p], **TOL[dtype])
    (dx,) = flux.gradient(lambda v: flux.sum(d(v) * c), x)
    (dX,) = flux.gradient(lambda V: flux.sum(d(V)[:, 0] * c), X)
    np.testing.assert_allclose(dx, dX[:, 0], **TOL[dtype])
    np.testing.assert_array_equal(dX[:, 1], 0)
