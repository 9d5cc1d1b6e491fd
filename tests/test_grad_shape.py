"""Gradients of index, transpose, reshape and cat (csrc/autodiff/ops_shape.cpp) against finite differences."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pyflux as flux
from gradcheck import check_gradient, covers, evaluate
from pyflux import _core as C
from strategies import arrays, index_keys, reshape_targets, shapes


@st.composite
def array_and_key(draw, max_dims=4):
    x = draw(arrays(shapes(max_dims=max_dims)))
    return x, draw(index_keys(x.shape))


@covers("index")
@given(case=array_and_key())
@example(case=(np.arange(6.0).reshape(2, 3), (Ellipsis, slice(None, None, -2))))
@example(case=(np.arange(6.0).reshape(2, 3), (-1, slice(2, 0, -1))))
@example(case=(np.arange(24.0).reshape(2, 3, 4), (1, Ellipsis, -3)))
@example(case=(np.array([0.5]), 0))
def test_index(case):
    x, key = case
    np.testing.assert_array_equal(evaluate(lambda ts: ts[0][key], [x]), x[key])
    np.testing.assert_array_equal(C.index(x, key), x[key])
    check_gradient(lambda ts: ts[0][key], [x])


@covers("index")
@given(case=array_and_key(max_dims=3))
def test_index_function_with_numpy_integer_keys(case):
    x, key = case
    as_numpy = tuple(np.int64(k) if isinstance(k, int) else k for k in (key if isinstance(key, tuple) else (key,)))
    check_gradient(lambda ts: C.index(ts[0], as_numpy), [x])


@covers("index", "mul")
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=2)))
def test_rows_multiplied_together(x):
    check_gradient(lambda ts: ts[0][0] * ts[0][1] * ts[0][-1], [x])


@covers("index", "add")
@given(x=arrays(shapes(min_dims=1, max_dims=2, min_side=3)))
def test_overlapping_slices_accumulate(x):
    check_gradient(lambda ts: ts[0][1:] + ts[0][:-1] + ts[0][::-1][1:], [x])


@covers("transpose")
@given(x=arrays(shapes(max_dims=5)))
def test_transpose(x):
    np.testing.assert_array_equal(evaluate(lambda ts: C.transpose(ts[0]), [x]), x.T)
    check_gradient(lambda ts: C.transpose(ts[0]), [x])


@covers("transpose", "mul")
@given(x=arrays(shapes(min_dims=2, max_dims=2)))
def test_transpose_property_times_itself(x):
    check_gradient(lambda ts: ts[0].T[::-1] * ts[0].T, [x])


@st.composite
def array_and_target(draw, max_dims=4):
    x = draw(arrays(shapes(max_dims=max_dims)))
    return x, draw(reshape_targets(x.shape))


@covers("reshape")
@given(case=array_and_target())
@example(case=(np.arange(6.0), (-1,)))
@example(case=(np.arange(6.0), (3, -1)))
@example(case=(np.array(2.0), (1, 1)))
@example(case=(np.array([[2.0]]), ()))
def test_reshape(case):
    x, target = case
    np.testing.assert_array_equal(evaluate(lambda ts: C.reshape(ts[0], target), [x]), x.reshape(target))
    np.testing.assert_array_equal(C.reshape(x.T, target), x.T.reshape(target))
    check_gradient(lambda ts: C.reshape(ts[0], target), [x])


@covers("reshape")
@given(case=array_and_target(max_dims=3))
def test_reshape_method_with_separate_dimensions(case):
    x, target = case
    check_gradient(lambda ts: ts[0].reshape(*target) if target else ts[0].reshape(()), [x])


@covers("index", "transpose", "reshape")
@pytest.mark.parametrize(
    "view",
    [
        lambda t: t.T[1:, ::-2],                      # slice of a transpose
        lambda t: t[::-1].T.reshape(-1),              # reshape of a non-contiguous view (a copy)
        lambda t: t.reshape(4, 6)[::3].T[1],          # index of a transposed slice of a reshape
        lambda t: t[:, 1:][::2, ::-1].reshape(3, -1),  # views of views, then reshape
        lambda t: C.index(C.transpose(t[..., 2:]), (Ellipsis, 0)),
    ],
    ids=["slice-of-T", "reshape-of-reversed-T", "index-of-T-of-slice", "views-of-views", "functions"],
)
def test_views_of_views(view):
    x = np.random.default_rng(0).uniform(-1, 1, (6, 4))
    np.testing.assert_array_equal(evaluate(lambda ts: view(ts[0]), [x]), view(x))
    check_gradient(lambda ts: view(ts[0]) * np.linspace(1, 2, view(x).shape[-1]), [x])


@covers("index", "transpose", "reshape", "matmul", "sum")
@given(x=arrays((4, 6)))
def test_composition_of_views_in_arithmetic(x):
    check_gradient(lambda ts: C.sum(ts[0][:, ::2] @ ts[0].T[1::2]) * ts[0].reshape(2, 12)[1, 3:5], [x])


def test_shape_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape an array of shape \(2, 3\) .* into shape \(4,\)"):
        C.reshape(x, (4,))
    with pytest.raises(ValueError, match="one unknown dimension"):
        C.reshape(x, (-1, -1))
    with pytest.raises(ValueError, match="negative dimension"):
        C.reshape(x, (-2, -3))
    with pytest.raises(IndexError, match="index 2 is out of bounds for axis 0 with size 2"):
        C.index(x, (2, 0))
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 1 with size 3"):
        C.index(x, (0, -4))
    with pytest.raises(IndexError, match="single ellipsis"):
        C.index(x, (Ellipsis, Ellipsis))
    with pytest.raises(ValueError, match="step cannot be zero"):
        C.index(x, slice(None, None, 0))
    with pytest.raises(TypeError, match="NoneType .*use reshape for new axes"):
        C.index(x, (0, None))


# ---- cat, vcat, hcat, stack ---------------------------------------------------------------------------

@st.composite
def joinable(draw, max_parts=5):
    """Arrays of one shape but along a drawn axis, and that axis (either sign)."""
    shape = list(draw(shapes(min_dims=1, max_dims=3)))
    axis = draw(st.integers(0, len(shape) - 1))
    parts = []
    for _ in range(draw(st.integers(1, max_parts))):
        shape[axis] = draw(st.integers(1, 3))
        parts.append(draw(arrays(tuple(shape))))
    return parts, axis - len(shape) if draw(st.booleans()) else axis


@covers("cat")
@given(case=joinable())
def test_cat(case):
    parts, axis = case
    check_gradient(lambda ts: C.cat(ts, axis), parts)
    np.testing.assert_array_equal(C.cat(parts, axis), np.concatenate(parts, axis))


@covers("cat", "reshape")
@given(x=arrays(shapes(max_dims=3)), data=st.data())
def test_stack(x, data):
    count = data.draw(st.integers(1, 4))
    xs = [x * (k + 1) for k in range(count)]
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    check_gradient(lambda ts: flux.stack(ts, axis), xs)
    np.testing.assert_array_equal(flux.stack(xs, axis), np.stack(xs, axis))


@covers("cat", "reshape")
def test_vcat_hcat_treat_vectors_as_columns():
    a, b, M = np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(flux.vcat(a, b), [1, 2, 3, 4])
    np.testing.assert_array_equal(flux.hcat(a, b), [[1, 3], [2, 4]])
    np.testing.assert_array_equal(flux.hcat(a, M), [[1, 0, 1, 2], [2, 3, 4, 5]])
    np.testing.assert_array_equal(flux.vcat(M, M[:1]), np.vstack([M, M[:1]]))
    assert flux.vcat(np.ones((1, 1)), a).shape == (3, 1)
    assert flux.cat([a, b], 2).shape == (2, 1, 2)  # Julia's trailing axes
    check_gradient(lambda ts: flux.hcat(ts[0], ts[1], ts[0]), [a, M])
    check_gradient(lambda ts: flux.vcat(ts[0], ts[1]), [M, M[:1] + 1])


def test_numpy_joins_on_traced_values_are_cat():
    a, b = np.array([1.0, 2.0]), np.array([[3.0], [4.0]])
    ga, gb = flux.gradient(lambda a, b: flux.sum(np.concatenate([a, b], axis=None) * np.arange(4.0))
                           + flux.sum(np.stack([a, b[:, 0]], axis=1)[0]), a, b)
    np.testing.assert_array_equal(ga, [1.0, 1.0])
    np.testing.assert_array_equal(gb, [[3.0], [3.0]])


def test_cat_of_mixed_dtypes_and_plain_data():
    assert flux.cat([np.ones(2, np.float32), np.ones(1, np.float32)], 0).dtype == np.float32
    assert flux.cat([np.ones(2, np.float32), [1.0]], 0).dtype == np.float64
    g = flux.gradient(lambda x: flux.sum(flux.vcat(x, [5, 6], np.ones(2, np.float32))), flux.param(np.ones(2, np.float32)))
    assert g[0].dtype == np.float32


def test_cat_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"cat: shapes \(2, 3\), \(2, 4\) must match except along dims 0"):
        flux.cat([np.ones((2, 3)), np.ones((2, 4))], 0)
    with pytest.raises(IndexError, match=r"cat: dims -3 is out of bounds for shape \(2, 3\)"):
        flux.cat([np.ones((2, 3))], -3)
    with pytest.raises(IndexError, match=r"cat: dims 2147483648 is out of bounds \(arrays have at most 8 dim"):
        flux.cat([np.ones(2)], 2**31)
    with pytest.raises(ValueError, match="vcat: needs at least one array"):
        flux.vcat()
    with pytest.raises(TypeError, match="cat: xs must be a list or tuple of arrays"):
        C.cat(np.ones(3), 0)
    with pytest.raises(ValueError, match=r"stack: the arrays must have one shape, got \(2,\), \(3,\)"):
        flux.stack([np.ones(2), np.ones(3)])
    with pytest.raises(IndexError, match="stack: dims 2 is out of bounds"):
        flux.stack([np.ones(2)], 2)


# ---- integer-array indexing: gather, scatter-add backward ------------------------------------------

@st.composite
def gather_case(draw):
    """An array, an axis, and integer indices (repeats and negatives) of up to two dimensions."""
    x = draw(arrays(shapes(min_dims=1, max_dims=3)))
    axis = draw(st.integers(0, x.ndim - 1))
    n = x.shape[axis]
    index_shape = draw(shapes(max_dims=2, min_side=0, max_side=4))
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-n, n - 1)))
    return x, axis, index


@covers("gather")
@given(case=gather_case())
@example(case=(np.array([[0.5, -1.0, 2.0]]), 1, np.array([2, 0, 2, -1])))
def test_gather(case):
    x, axis, index = case
    check_gradient(lambda ts: C.gather(ts[0], index, axis), [x])
    np.testing.assert_array_equal(C.gather(x, index, axis), np.take(x, index, axis=axis))


@covers("index", "gather")
@given(case=gather_case(), data=st.data())
def test_integer_array_indexing_is_numpys(case, data):
    x, axis, index = case
    before = [data.draw(st.sampled_from([slice(None), slice(None, None, -1)])) for _ in range(axis)]
    keys = [tuple(before) + (index,), (Ellipsis, index) + (slice(None),) * (x.ndim - axis - 1)]
    if axis > 0:
        keys.append((0,) * axis + (index,))  # ints before the array drop their axes
    for key in keys:
        check_gradient(lambda ts: ts[0][key], [x])
        np.testing.assert_array_equal(evaluate(lambda ts: ts[0][key], [x]), x[key])


def test_repeated_indices_accumulate_their_gradients():
    x = np.arange(6.0).reshape(2, 3)
    (g,) = flux.gradient(lambda x: flux.sum(x[:, [0, 2, 0, 0]] * np.array([1.0, 2.0, 3.0, 4.0])), x)
    np.testing.assert_array_equal(g, [[8.0, 0.0, 2.0], [8.0, 0.0, 2.0]])
    (g,) = flux.gradient(lambda x: flux.sum(C.index(x, np.array([-1, 1]))), x)
    np.testing.assert_array_equal(g, [[0, 0, 0], [2, 2, 2]])


def test_integer_array_indexing_errors():
    x = C.Tensor(np.ones((2, 3)))
    with C.Tape([x]):
        with pytest.raises(IndexError, match="index 3 is out of bounds for axis 1 with size 3"):
            x[:, np.array([0, 3])]
        with pytest.raises(IndexError, match="index -3 is out of bounds for axis 0 with size 2"):
            x[[-3]]
        with pytest.raises(TypeError, match="boolean mask indexing cannot be traced; use flux.where"):
            x[np.array([True, False])]
        with pytest.raises(TypeError, match="index arrays must hold integers, got float64"):
            x[np.array([0.0])]
        with pytest.raises(TypeError, match="one integer-array index at a time"):
            x[[0], [1]]
    with pytest.raises(IndexError, match=r"gather: dims 2 is out of bounds for shape \(2, 3\)"):
        C.gather(np.ones((2, 3)), [0], 2)
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 2"):
        C.gather(np.ones((2, 3)), 5, 0)
