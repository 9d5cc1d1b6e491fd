"""Subnormal numbers as zero while train runs its steps (csrc/kernels/subnormals.hpp): on by
default, off with set_zero_subnormals(False), and never the caller's mode outside train."""

import numpy as np
import pytest

import pyflux as flux

TINY = np.float32(1e-39)  # subnormal: float32's smallest normal number is 2**-126, about 1.18e-38
LARGE = 100_000  # elements enough for a kernel to split its work across threads
SCALE = np.float32(1e30)


@pytest.fixture(autouse=True)
def restore_setting():
    before = flux.get_zero_subnormals()
    yield
    flux.set_zero_subnormals(before)


def _after_one_step(n, capture):
    """w after one Descent(1) step from 0 on sum((w * x) * SCALE) with x subnormal: the gradient,
    SCALE * x, is a normal number, or 0 where the backward pass reads x as zero (on every thread
    that takes a share of the product's gradient)."""
    w = flux.param(np.zeros(n, np.float32))
    x = np.full(n, TINY, np.float32)
    flux.train(lambda x: flux.sum((w * x) * SCALE), flux.params(w), [x], flux.Descent(1.0), capture=capture)
    return np.array(w)


def _subnormal_arithmetic_works_here():
    return np.float32(1e-37) * np.float32(0.01) > 0  # numpy on this thread, in its own mode


@pytest.mark.parametrize("capture", [False, True])
@pytest.mark.parametrize("n", [8, LARGE])
def test_training_reads_subnormal_gradients_as_zero_by_default(n, capture):
    assert flux.get_zero_subnormals()
    w = _after_one_step(n, capture)
    np.testing.assert_array_equal(w, np.zeros(n, np.float32))  # every thread's share
    assert _subnormal_arithmetic_works_here()


@pytest.mark.parametrize("capture", [False, True])
@pytest.mark.parametrize("n", [8, LARGE])
def test_set_zero_subnormals_false_keeps_them(n, capture):
    flux.set_zero_subnormals(False)
    assert not flux.get_zero_subnormals()
    w = _after_one_step(n, capture)
    np.testing.assert_array_equal(w, np.full(n, -(SCALE * TINY), np.float32))
    assert np.all(w < 0)


def test_the_callers_mode_is_back_after_a_failed_step():
    w = flux.param(np.zeros(LARGE, np.float32))
    c = np.full(LARGE, TINY, np.float32)
    with pytest.raises(ValueError, match="Loss is nan"):
        flux.train(lambda x: flux.sum(w * x) * np.nan, flux.params(w), [c], flux.Descent(1.0))
    assert _subnormal_arithmetic_works_here()


def test_gradient_outside_train_keeps_subnormals():
    w = flux.param(np.zeros(LARGE, np.float32))
    c = np.full(LARGE, TINY, np.float32)
    grads = flux.gradient(lambda: flux.sum(w * c), flux.params(w))
    np.testing.assert_array_equal(np.asarray(grads[w]), c)


def test_an_update_keeps_subnormal_moments_when_set_off():
    # The other side of test_optimise_core's flushed moments: the same decay, kept.
    flux.set_zero_subnormals(False)
    tiny = np.finfo(np.float32).smallest_normal
    p = flux.param(np.ones(LARGE, np.float32))
    state = flux.RMSProp(0.01, 0.5, 1e-8).init(p)
    state["s"][...] = tiny
    state.apply(p, np.zeros(LARGE, np.float32))
    np.testing.assert_array_equal(state["s"], np.full(LARGE, tiny / np.float32(2)))


@pytest.mark.parametrize("capture", [False, True])
def test_a_product_large_enough_for_blas_threads_reads_them_as_zero(capture):
    # The weight gradient (SCALE ones) xᵀ is a BLAS product split across threads: each reads x as 0.
    n = 256
    W = flux.param(np.zeros((n, n), np.float32))
    x = np.full((n, n), TINY, np.float32)
    flux.train(lambda x: flux.sum((W @ x) * SCALE), flux.params(W), [x], flux.Descent(1.0), capture=capture)
    np.testing.assert_array_equal(np.array(W), np.zeros((n, n), np.float32))
    flux.set_zero_subnormals(False)
    flux.train(lambda x: flux.sum((W @ x) * SCALE), flux.params(W), [x], flux.Descent(1.0), capture=capture)
    assert np.all(np.array(W) < 0)
