"""Gradients of softmax and logsoftmax (csrc/autodiff/ops_softmax.cpp) against finite differences."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcheck import check_gradient, covers
from pyflux import _core as C
from strategies import arrays, shapes

NORMALISERS = [pytest.param(C.softmax, id="softmax"), pytest.param(C.logsoftmax, id="logsoftmax")]


@covers("softmax", "logsoftmax")
@pytest.mark.parametrize("op", NORMALISERS)
@given(data=st.data(), x=arrays(shapes(min_dims=1, max_dims=3), -3.0, 3.0))
def test_normaliser_along_each_axis(op, data, x):
    dims = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dims")
    check_gradient(lambda ts: op(ts[0], dims=dims), [x])


@covers("logsoftmax", "softmax", "mul", "sum", "mean", "neg")
@given(x=arrays(shapes(min_dims=2, max_dims=2), -3.0, 3.0))
def test_crossentropy_compositions(x):
    # The two ways the losses are built: from logsoftmax (logitcrossentropy) and from softmax.
    y = np.random.default_rng(x.size).dirichlet(np.ones(x.shape[0]), size=x.shape[1]).T
    check_gradient(lambda ts: C.mean(-C.sum(y * C.logsoftmax(ts[0]), 0)), [x])
    check_gradient(lambda ts: C.mean(-C.sum(y * C.log(C.softmax(ts[0])), 0)), [x])


@covers("softmax")
def test_softmax_of_a_large_batch():
    x = np.random.default_rng(0).uniform(-3, 3, (10, 5000))
    check_gradient(lambda ts: C.softmax(ts[0]), [x], directions=2)


def test_softmax_gives_an_infinite_entry_all_the_weight():
    # NNlib: softmax(Float32[1 2; 3 Inf]) == [0.119 0; 0.881 1] (dims=1 there is axis 0 here).
    x = np.array([[1, 2], [3, np.inf]], np.float32)
    np.testing.assert_allclose(C.softmax(x), [[0.11920292, 0.0], [0.8807971, 1.0]], rtol=1e-6)
    np.testing.assert_array_equal(C.softmax(np.array([np.inf, 0.0, np.inf])), [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(C.logsoftmax(np.array([3.0, np.inf])), [-np.inf, 0.0])


def test_logsoftmax_keeps_its_digits_at_large_logits():
    y = C.logsoftmax(np.array([1e4, 1e4, -1e4]))
    assert y[0] == y[1] == -math.log(2)


@pytest.mark.parametrize("op, ref", [(C.softmax, lambda e, s: e / s), (C.logsoftmax, lambda e, s: np.log(e / s))])
def test_normalising_over_all_elements_and_over_tuples_of_axes(op, ref):
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    for dims, axes in ((None, None), ((0, 2), (0, 2)), ((1, 2), (1, 2)), ((-1, 0), (0, 2)), (1, (1,))):
        e = np.exp(x - x.max(axis=axes, keepdims=True))
        np.testing.assert_allclose(op(x, dims=dims), ref(e, e.sum(axis=axes, keepdims=True)), rtol=1e-12, atol=1e-14)


@covers("softmax", "logsoftmax")
@pytest.mark.parametrize("op", NORMALISERS)
@given(x=arrays(shapes(min_dims=2, max_dims=3), -3.0, 3.0), data=st.data())
def test_gradient_over_several_axes(op, x, data):
    axes = data.draw(st.sets(st.integers(0, x.ndim - 1), min_size=1), label="axes")
    dims = data.draw(st.sampled_from([tuple(sorted(axes)), None]), label="dims")
    check_gradient(lambda ts: op(ts[0], dims=dims), [x])
