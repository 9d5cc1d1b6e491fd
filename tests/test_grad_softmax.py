"""Gradients of softmax and logsoftmax (csrc/autodiff/ops_softmax.cpp) against finite differences."""

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
