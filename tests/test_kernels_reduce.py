"""Sum and mean kernels (csrc/kernels/reduce.cpp) against numpy, outside any tape."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyflux import _core as C
from strategies import arrays, assert_forward_close, float_dtypes, shapes

REDUCTIONS = [pytest.param(C.sum, np.sum, id="sum"), pytest.param(C.mean, np.mean, id="mean")]


def reference(ref, x, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's mean of an empty slice
        return ref(np.asarray(x, np.float64), axis=axis)


@st.composite
def array_and_axis(draw, min_side=0):
    x = draw(arrays(shapes(max_dims=4, min_side=min_side), dtype=draw(float_dtypes)))
    axis = draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    return x, axis


@pytest.mark.parametrize("op, ref", REDUCTIONS)
@given(case=array_and_axis())
def test_matches_numpy(op, ref, case):
    x, axis = case
    got = op(x, axis=axis)
    assert_forward_close(got, reference(ref, x, axis), x.dtype)
    if axis is None:
        assert isinstance(got, np.generic)  # a numpy scalar, as numpy's own reductions give


@pytest.mark.parametrize("op, ref", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1,), (7,), (1, 1, 1), (3, 1, 5), (2, 0, 3), (0,), (13, 17)], ids=str)
def test_odd_one_element_and_empty_shapes(op, ref, dtype, shape):
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(dtype)
    for axis in [None, *range(-len(shape), len(shape))]:
        assert_forward_close(op(x, axis=axis), reference(ref, x, axis), dtype)


def test_empty_reductions_follow_numpy():
    assert C.sum(np.zeros(0)) == 0.0
    assert np.isnan(C.mean(np.zeros(0)))
    np.testing.assert_array_equal(C.sum(np.zeros((0, 3)), axis=0), np.zeros(3))
    assert np.all(np.isnan(C.mean(np.zeros((2, 0)), axis=1)))
    assert C.sum(np.zeros((2, 0)), axis=0).shape == (0,)


def test_methods_and_numpy_integer_axis():
    x = np.arange(24.0).reshape(2, 3, 4)
    t = C.Tensor(x)
    np.testing.assert_array_equal(t.sum(axis=1), x.sum(axis=1))
    np.testing.assert_array_equal(t.mean(-1), x.mean(-1))
    assert t.sum() == 276.0 and t.mean() == 11.5
    np.testing.assert_array_equal(C.sum(x, axis=np.int64(2)), x.sum(axis=2))


@pytest.mark.parametrize("op, ref", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_input(op, ref, dtype):
    x = np.random.default_rng(1).uniform(-1, 1, (5, 6, 7)).astype(dtype)
    for view in (x.T, x[::-1, :, ::2], np.asfortranarray(x), np.broadcast_to(x[:, :1], x.shape)):
        for axis in (None, 0, 1, -1):
            assert_forward_close(op(view, axis=axis), reference(ref, view, axis), dtype)


@pytest.mark.parametrize("op, ref", REDUCTIONS)
@pytest.mark.parametrize("shape, axis", [((100_003,), None), ((400, 300), None), ((400, 300), 0), ((300, 400), 1),
                                         ((50, 1000, 3), 1)])
def test_threads_agree(op, ref, shape, axis, restore_num_threads):
    x = np.random.default_rng(2).uniform(-1, 1, shape)
    results = []
    for n in (1, 2):
        C.set_num_threads(n)
        results.append(op(x, axis=axis))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-12)
    assert_forward_close(results[1], ref(x, axis=axis), np.float64)


def test_float32_whole_array_sum_is_accurate():
    # A million float32 values: the whole-array sum does not drift like naive float32 accumulation.
    x = np.full(1_000_000, 0.1, np.float32)
    np.testing.assert_allclose(C.sum(x), 1e6 * np.float64(np.float32(0.1)), rtol=1e-6)
    np.testing.assert_allclose(C.mean(x), np.float32(0.1), rtol=1e-6)


@pytest.mark.parametrize("op", [C.sum, C.mean], ids=["sum", "mean"])
def test_axis_errors(op):
    with pytest.raises(IndexError, match=r"dims 2 is out of bounds for shape \(2, 3\)"):
        op(np.ones((2, 3)), axis=2)
    with pytest.raises(IndexError, match=r"dims -3 is out of bounds"):
        op(np.ones((2, 3)), axis=-3)
    with pytest.raises(IndexError, match="out of bounds"):
        op(np.float64(1.0), axis=0)
    with pytest.raises(TypeError, match="axis"):
        op(np.ones(3), axis=0.5)
