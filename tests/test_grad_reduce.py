"""Gradients of sum and mean (csrc/autodiff/ops_reduce.cpp) against finite differences."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gradcheck import check_gradient, covers
from pyflux import _core as C
from strategies import arrays, shapes

REDUCTIONS = [pytest.param(C.sum, id="sum"), pytest.param(C.mean, id="mean")]


@st.composite
def array_and_axis(draw, max_dims=4):
    x = draw(arrays(shapes(max_dims=max_dims)))
    axis = draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    return x, axis


@covers("sum", "mean")
@pytest.mark.parametrize("op", REDUCTIONS)
@given(case=array_and_axis())
@example(case=(np.array(0.25), None))
@example(case=(np.array([0.25]), 0))
@example(case=(np.array([[0.25, 0.5, -1.0]]), -2))
def test_reduce(op, case):
    x, axis = case
    check_gradient(lambda ts: op(ts[0], axis=axis), [x])


@covers("sum", "mean")
@pytest.mark.parametrize("method", ["sum", "mean"])
@given(case=array_and_axis(max_dims=3))
def test_reduce_method_of_a_transposed_view(method, case):
    x, axis = case
    check_gradient(lambda ts: getattr(ts[0].T, method)(axis), [x])


@covers("sum", "mean")
@pytest.mark.parametrize("op", REDUCTIONS)
def test_reduce_of_a_large_array(op):
    x = np.random.default_rng(0).uniform(-1, 1, (300, 400))
    for axis in (None, 0, 1):
        check_gradient(lambda ts: op(ts[0], axis=axis), [x], directions=2)


@covers("sum")
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_sum_of_an_empty_array(axis):
    t = C.Tensor(np.zeros((0, 3)))
    tape = C.Tape()
    tape.watch(t)
    with tape:
        loss = C.sum(C.sum(t, axis=axis) * 2.0)
    (g,) = tape.gradient(loss, [t])
    assert np.asarray(g).shape == (0, 3)


@covers("sum", "mean", "sub", "pow", "transpose")
@given(x=arrays(shapes(min_dims=2, max_dims=2)))
def test_composition_centred_squares(x):
    # x is used twice: directly and through its row means.
    check_gradient(lambda ts: C.mean((ts[0].T - C.mean(ts[0], axis=1)) ** 2), [x])


@covers("sum", "mean", "reshape", "mul")
@given(x=arrays(shapes(min_dims=2, max_dims=2)))
def test_composition_outer_product_of_reductions(x):
    check_gradient(lambda ts: ts[0].sum(axis=0).reshape(1, -1) * ts[0].mean(axis=-1).reshape(-1, 1), [x])
