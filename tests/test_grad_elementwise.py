"""Gradients of the elementwise ops (csrc/autodiff/ops_elementwise.cpp) against finite differences."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gradcheck import check_gradient, covers, random_cotangent
from pyflux import _core as C
from strategies import arrays, away_from_zero, broadcastable_pairs, positive, shapes

BINARY_OPS = [
    pytest.param(C.add, arrays, arrays, id="add"),
    pytest.param(C.sub, arrays, arrays, id="sub"),
    pytest.param(C.mul, arrays, arrays, id="mul"),
    pytest.param(C.div, arrays, away_from_zero, id="div"),
    pytest.param(C.pow, positive, arrays, id="pow"),
]


@covers("add", "sub", "mul", "div", "pow")
@pytest.mark.parametrize("op, a_values, b_values", BINARY_OPS)
@given(pair=broadcastable_pairs(), data=st.data())
def test_binary_op(op, a_values, b_values, pair, data):
    a = data.draw(a_values(pair[0]), label="a")
    b = data.draw(b_values(pair[1]), label="b")
    check_gradient(lambda ts: op(ts[0], ts[1]), [a, b])


@covers("add", "sub", "mul", "div", "pow")
@pytest.mark.parametrize("op", [p.values[0] for p in BINARY_OPS], ids=[p.id for p in BINARY_OPS])
@pytest.mark.parametrize(
    "pair",
    [((), (3,)), ((2, 3), ()), ((2, 1), (1, 3)), ((1,), (2, 3)), ((4, 1, 2), (3, 1)), ((1,), ()), ((1, 1), (1,))],
    ids=str,
)
def test_binary_op_broadcast_cases(op, pair):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 2.0, pair[0]), rng.uniform(0.5, 2.0, pair[1])
    check_gradient(lambda ts: op(ts[0], ts[1]), [a, b])


@covers("add", "sub", "mul", "div", "pow")
@given(x=arrays(shapes()))
def test_operators_with_numbers_and_arrays_on_either_side(x):
    k = np.linspace(0.5, 1.5, x.shape[-1]) if x.ndim else np.float64(0.75)
    check_gradient(lambda ts: (2.0 - ts[0]) * k + k / (ts[0] ** 2 + 1.0) - ts[0] * 3 + (k - ts[0]) / 4.0, [x])


@covers("pow")
@given(x=away_from_zero(shapes()), exponent=st.sampled_from([2, 3, -1, 0.5]))
def test_pow_with_constant_exponent(x, exponent):
    # Integer exponents allow negative bases (2 takes a special path); 0.5 needs positive ones.
    base = np.abs(x) if exponent == 0.5 else x
    check_gradient(lambda ts: ts[0] ** exponent, [base])


@covers("pow")
@given(y=arrays(shapes()))
def test_pow_with_constant_base(y):
    check_gradient(lambda ts: 3.0 ** ts[0], [y])


@covers("neg", "exp")
@pytest.mark.parametrize("op", [C.neg, C.exp], ids=["neg", "exp"])
@given(x=arrays(shapes()))
@example(x=np.array(-0.3))
@example(x=np.array([0.7]))
def test_neg_exp(op, x):
    check_gradient(lambda ts: op(ts[0]), [x])


@covers("log")
@given(x=positive(shapes()))
@example(x=np.array([0.7]))
def test_log(x):
    check_gradient(lambda ts: C.log(ts[0]), [x])


@covers("neg")
@given(x=arrays(shapes()))
def test_unary_minus_operator(x):
    check_gradient(lambda ts: -ts[0], [x])


@covers("cast")
@given(x=arrays(shapes(), dtype=np.float32))
def test_cast_float32_to_float64(x):
    # The gradient comes back in the input's dtype, equal to the float64 gradient rounded.
    t = C.Tensor(x)
    c = random_cotangent(np.random.default_rng(0), x.shape)
    tape = C.Tape()
    tape.watch(t)
    with tape:
        y = C.cast(t, np.float64)
        assert y.dtype == np.float64
        loss = C.sum(C.exp(y) * c)
    (g,) = tape.gradient(loss, [t])
    g = np.asarray(g)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.exp(x.astype(np.float64)) * c, rtol=1e-6)


@covers("cast")
@given(x=arrays(shapes()))
def test_cast_float64_to_float32(x):
    t = C.Tensor(x)
    c = random_cotangent(np.random.default_rng(1), x.shape).astype(np.float32)
    tape = C.Tape()
    tape.watch(t)
    with tape:
        y = C.cast(t, np.float32)
        assert y.dtype == np.float32
        loss = C.sum(y * c)
    (g,) = tape.gradient(loss, [t])
    g = np.asarray(g)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, c.astype(np.float64))


def _sum_to(g, shape):
    """Sums g down to `shape`, undoing broadcasting."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    return g.sum(axis=tuple(d for d, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape)


@covers("cast", "mul", "add")
@given(pair=broadcastable_pairs(), data=st.data())
def test_mixed_dtype_operands_meet_in_float64(pair, data):
    a = data.draw(arrays(pair[0], dtype=np.float32), label="a")
    b = data.draw(arrays(pair[1]), label="b")
    ta, tb = C.Tensor(a), C.Tensor(b)
    tape = C.Tape()
    tape.watch(ta)
    tape.watch(tb)
    with tape:
        out = ta * tb + ta
        assert out.dtype == np.float64
        loss = C.sum(out)
    ga, gb = (np.asarray(g) for g in tape.gradient(loss, [ta, tb]))
    assert ga.dtype == np.float32 and gb.dtype == np.float64
    shape = np.broadcast_shapes(a.shape, b.shape)
    np.testing.assert_allclose(ga, _sum_to(np.broadcast_to(b + 1.0, shape), a.shape), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gb, _sum_to(np.broadcast_to(a.astype(np.float64), shape), b.shape), rtol=1e-12)


@covers("add", "mul", "div", "pow", "exp", "sum")
@given(pair=broadcastable_pairs(), data=st.data())
def test_composition_with_reuse(pair, data):
    a, b = data.draw(arrays(pair[0], -1, 1)), data.draw(arrays(pair[1], -1, 1))
    check_gradient(lambda ts: C.sum(C.exp(ts[0] * ts[1]) / (1.0 + ts[0] ** 2)), [a, b])


@covers("sub", "neg", "log", "mul", "exp")
@given(pair=broadcastable_pairs(), data=st.data())
def test_composition_of_unary_and_binary(pair, data):
    x, y = data.draw(positive(pair[0])), data.draw(arrays(pair[1]))
    check_gradient(lambda ts: C.log(ts[0] * ts[0]) - C.neg(C.exp(-ts[0])) * ts[0] + ts[1], [x, y])
