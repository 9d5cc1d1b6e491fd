"""Elementwise kernels (csrc/kernels/elementwise.cpp, strided.hpp) against numpy, outside any tape."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyflux import _core as C
from strategies import (arrays, assert_forward_close, away_from_zero, broadcastable_pairs, float_dtypes, positive,
                        shapes)

BINARY = [
    pytest.param(C.add, np.add, arrays, arrays, id="add"),
    pytest.param(C.sub, np.subtract, arrays, arrays, id="sub"),
    pytest.param(C.mul, np.multiply, arrays, arrays, id="mul"),
    pytest.param(C.div, np.divide, arrays, away_from_zero, id="div"),
    pytest.param(C.pow, np.power, positive, arrays, id="pow"),
]
UNARY = [
    pytest.param(C.neg, np.negative, arrays, id="neg"),
    pytest.param(C.exp, np.exp, arrays, id="exp"),
    pytest.param(C.log, np.log, positive, id="log"),
]


def as64(x):
    return np.asarray(x, dtype=np.float64)


@pytest.mark.parametrize("op, ref, a_values, b_values", BINARY)
@given(pair=broadcastable_pairs(max_dims=4, min_side=0), dtype=float_dtypes, data=st.data())
def test_binary_matches_numpy(op, ref, a_values, b_values, pair, dtype, data):
    a = data.draw(a_values(pair[0], dtype=dtype), label="a")
    b = data.draw(b_values(pair[1], dtype=dtype), label="b")
    assert_forward_close(op(a, b), ref(as64(a), as64(b)), dtype)


@pytest.mark.parametrize("op, ref, values", UNARY)
@given(shape=shapes(max_dims=4, min_side=0), dtype=float_dtypes, data=st.data())
def test_unary_matches_numpy(op, ref, values, shape, dtype, data):
    x = data.draw(values(shape, dtype=dtype), label="x")
    assert_forward_close(op(x), ref(as64(x)), dtype)


@pytest.mark.parametrize("size", [1, 7, 33, 1001])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_odd_sizes(size, dtype):
    rng = np.random.default_rng(size)
    a, b = rng.uniform(0.5, 2, size).astype(dtype), rng.uniform(0.5, 2, size).astype(dtype)
    for op, ref in [(C.add, np.add), (C.mul, np.multiply), (C.div, np.divide), (C.pow, np.power)]:
        assert_forward_close(op(a, b), ref(as64(a), as64(b)), dtype)
        assert_forward_close(op(a, b[:1]), ref(as64(a), as64(b[:1])), dtype)
    for op, ref in [(C.exp, np.exp), (C.log, np.log), (C.neg, np.negative)]:
        assert_forward_close(op(a), ref(as64(a)), dtype)


def layouts(x):
    """x and numpy views of it with other memory layouts."""
    base = np.ascontiguousarray(x)
    wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
    wide[..., ::2] = x
    return {
        "c": base,
        "fortran": np.asfortranarray(x),
        "strided": wide[..., ::2],
        "reversed": np.ascontiguousarray(x[::-1])[::-1],
        "broadcast-row": np.broadcast_to(x[:1], x.shape),
    }


@pytest.mark.parametrize("layout", ["c", "fortran", "strided", "reversed", "broadcast-row"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_operands_in_any_memory_layout(layout, dtype):
    rng = np.random.default_rng(0)
    a = layouts(rng.uniform(0.5, 2, (5, 3, 4)).astype(dtype))[layout]
    b = layouts(rng.uniform(0.5, 2, (3, 4)).astype(dtype))[layout]
    for op, ref in [(C.add, np.add), (C.sub, np.subtract), (C.mul, np.multiply), (C.div, np.divide),
                    (C.pow, np.power)]:
        assert_forward_close(op(a, b), ref(as64(a), as64(b)), dtype)
        assert_forward_close(op(b, a), ref(as64(b), as64(a)), dtype)
    for op, ref in [(C.exp, np.exp), (C.log, np.log), (C.neg, np.negative)]:
        assert_forward_close(op(a), ref(as64(a)), dtype)


def test_operators_on_tensors_outside_a_tape_return_numpy():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0.5, 2, (2, 3)), rng.uniform(0.5, 2, 3)
    t = C.Tensor(x)
    cases = [
        (t + y, x + y), (y + t, y + x), (t - 1.5, x - 1.5), (1.5 - t, 1.5 - x), (t * t, x * x),
        (2 * t, 2 * x), (t / y, x / y), (y / t, y / x), (t ** 2, x ** 2), (2.0 ** t, 2.0 ** x),
        (y ** t, y ** x), (-t, -x),
    ]
    for got, expected in cases:
        assert_forward_close(got, expected, np.float64)


def test_numeric_results_of_hand_checked_cases():
    assert C.add(1.0, 2.0) == 3.0
    np.testing.assert_array_equal(C.sub(np.array([[1.0], [2.0]]), np.array([1.0, 2.0, 3.0])),
                                  [[0.0, -1.0, -2.0], [1.0, 0.0, -1.0]])
    np.testing.assert_array_equal(C.pow(np.array([-3.0, 2.0, 4.0]), 2.0), [9.0, 4.0, 16.0])
    np.testing.assert_array_equal(C.div(np.array([1.0, -1.0, 0.0]), 0.0), [np.inf, -np.inf, np.nan])


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (np.float32, np.float64, np.float64),  # numpy arrays promote
        (np.float32, "number", np.float32),  # a Python number takes the array's dtype
        ("number", np.float64, np.float64),
        (np.int64, np.float32, np.float64),  # integer arrays convert to float64
    ],
)
def test_dtype_of_plain_operands(a, b, expected):
    def operand(kind):
        return 2.0 if kind == "number" else np.arange(1, 4).astype(kind)

    assert np.asarray(C.mul(operand(a), operand(b))).dtype == expected


@pytest.mark.parametrize("other", [np.ones(3), np.ones(3, np.float32), 2.0, 2])
def test_a_tensor_dtype_wins_over_numpy_and_numbers(other):
    for dtype in (np.float32, np.float64):
        t = C.Tensor(np.ones(3), dtype=dtype)
        assert (t * other).dtype == dtype and (other * t).dtype == dtype
        assert C.sub(t, other).dtype == dtype and C.sub(other, t).dtype == dtype


def test_tensors_of_different_dtypes_meet_in_float64():
    a32, b64 = C.Tensor(np.full(3, 0.1, np.float32)), C.Tensor(np.full(3, 0.2))
    out = a32 + b64
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.float64(np.float32(0.1)) + 0.2)


@pytest.mark.parametrize("source, target", [(np.float64, np.float32), (np.float32, np.float64)])
def test_cast_matches_numpy_astype(source, target):
    x = np.random.default_rng(2).uniform(-1e3, 1e3, 1001).astype(source)
    got = C.cast(x, target)
    assert got.dtype == target
    np.testing.assert_array_equal(got, x.astype(target))
    assert C.cast(x[::-3], target).shape == (334,)
    np.testing.assert_array_equal(C.cast(x[::-3], target), x[::-3].astype(target))


def test_cast_rejects_non_float_dtypes():
    with pytest.raises(TypeError, match="int32"):
        C.cast(np.ones(2), np.int32)


@pytest.mark.parametrize(
    "shape", [(100_001,), (1000, 101)], ids=["flat", "rows"]
)
def test_threads_agree(shape, restore_num_threads):
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0.5, 2, shape), rng.uniform(0.5, 2, shape[-1])
    results = []
    for n in (1, 2):
        C.set_num_threads(n)
        assert C.get_num_threads() == n
        results.append([C.add(a, b), C.mul(a, a), C.pow(a, b), C.div(b, a), C.exp(a), C.log(a), C.neg(a),
                        C.cast(a, np.float32)])
    expected = [a + b, a * a, a ** b, b / a, np.exp(a), np.log(a), -a, a.astype(np.float32)]
    for serial, parallel, ref in zip(*results, expected):
        np.testing.assert_allclose(parallel, serial, rtol=4 * np.finfo(serial.dtype).eps, atol=0)
        np.testing.assert_allclose(serial, ref, **({"rtol": 1e-6} if ref.dtype == np.float32 else {"rtol": 1e-12}))


@pytest.mark.parametrize("op", [C.add, C.sub, C.mul, C.div, C.pow], ids=lambda f: f.__name__)
@pytest.mark.parametrize("a, b", [((2, 3), (4,)), ((3, 1, 2), (4, 3)), ((5,), (2, 4))])
def test_broadcast_mismatch_names_op_and_both_shapes(op, a, b):
    message = rf"{op.__name__}: shapes {re.escape(str(a))} and {re.escape(str(b))}"
    with pytest.raises(ValueError, match=message):
        op(np.ones(a), np.ones(b))
    t = C.Tensor(np.ones(a))
    tape = C.Tape()
    tape.watch(t)
    with tape, pytest.raises(ValueError, match=message):
        op(t, np.ones(b))


def test_operand_errors():
    with pytest.raises(TypeError, match="exp: expected a real numeric array, got dtype complex128"):
        C.exp(np.ones(3, complex))
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        C.add(np.ones((1,) * 9), 1.0)
    with pytest.raises(TypeError, match="add"):
        C.add(object(), 1.0)
