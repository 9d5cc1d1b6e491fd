"""Gradients of matmul and the fused dense op (csrc/autodiff/ops_matmul.cpp)."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from activation_references import PARAMETERISED, REFERENCES, kinks
from gradcheck import check_gradient, covers
from pyflux import _core as C
from strategies import arrays

LAYOUTS = ["c", "transposed", "strided", "reversed"]
dims = st.integers(1, 5)


def stored(a, layout):
    """What to watch for a traced operand `a` laid out as `layout`, and how to view it back as `a`.

    transposed: the transpose of a C-ordered array; strided: every other element of the last axis;
    reversed: the first axis read backwards (a negative stride).
    """
    if layout == "c":
        return a, lambda t: t
    if layout == "transposed":
        return np.ascontiguousarray(a.T), lambda t: t.T
    if layout == "strided":
        s = np.zeros(a.shape[:-1] + (2 * a.shape[-1],))
        s[..., ::2] = a
        return s, lambda t: t[..., ::2]
    return np.ascontiguousarray(a[::-1]), lambda t: t[::-1]


@covers("matmul")
@given(
    a_ndim=st.sampled_from([1, 2]), b_ndim=st.sampled_from([1, 2]), m=dims, k=dims, n=dims,
    a_layout=st.sampled_from(LAYOUTS), b_layout=st.sampled_from(LAYOUTS), data=st.data(),
)
def test_matmul(a_ndim, b_ndim, m, k, n, a_layout, b_layout, data):
    a = data.draw(arrays((m, k) if a_ndim == 2 else (k,)), label="a")
    b = data.draw(arrays((k, n) if b_ndim == 2 else (k,)), label="b")
    (sa, va), (sb, vb) = stored(a, a_layout), stored(b, b_layout)
    check_gradient(lambda ts: va(ts[0]) @ vb(ts[1]), [sa, sb])


@covers("matmul")
@pytest.mark.parametrize("a_ndim, b_ndim", [(1, 1), (1, 2), (2, 1), (2, 2)])
@pytest.mark.parametrize("traced", ["left", "right"])
@pytest.mark.parametrize("order", ["F", "T"])
def test_matmul_with_constant_operand_in_another_layout(a_ndim, b_ndim, traced, order):
    # The backward reuses the constant operand as it arrived: Fortran-ordered or a transposed view.
    rng = np.random.default_rng(a_ndim * 10 + b_ndim)
    a = rng.uniform(-1, 1, (3, 4) if a_ndim == 2 else (4,))
    b = rng.uniform(-1, 1, (4, 5) if b_ndim == 2 else (4,))

    def layout(x):
        return np.asfortranarray(x) if order == "F" else np.ascontiguousarray(x.T).T

    if traced == "left":
        const = layout(b)
        check_gradient(lambda ts: C.matmul(ts[0], const), [a])
    else:
        const = layout(a)
        check_gradient(lambda ts: C.matmul(const, ts[0]), [b])


@covers("matmul")
@pytest.mark.parametrize("a_layout", LAYOUTS)
@pytest.mark.parametrize("b_layout", ["c", "transposed"])
def test_matmul_large_enough_for_blas(a_layout, b_layout):
    rng = np.random.default_rng(3)
    (sa, va), (sb, vb) = stored(rng.uniform(-1, 1, (17, 19)), a_layout), stored(rng.uniform(-1, 1, (19, 23)), b_layout)
    check_gradient(lambda ts: va(ts[0]) @ vb(ts[1]), [sa, sb])


@covers("matmul")
@pytest.mark.parametrize("side", ["left", "right"])
def test_matmul_with_numpy_operand_via_operators(side):
    # ndarray @ Tensor goes through Tensor.__rmatmul__.
    rng = np.random.default_rng(4)
    A, x = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (4, 2))
    if side == "left":
        check_gradient(lambda ts: A @ ts[0], [x])
    else:
        check_gradient(lambda ts: ts[0] @ x, [A])


@st.composite
def dense_case(draw, activations=(0, 1, 2, 3)):
    out, inp = draw(dims), draw(dims)
    n = draw(st.none() | dims)
    act = draw(st.sampled_from(activations))
    W = draw(arrays((out, inp)), label="W")
    b = draw(st.none() | arrays((out,)), label="b")
    x = draw(arrays((inp,) if n is None else (inp, n)), label="x")
    if act == 1:  # keep every pre-activation clear of relu's kink
        z = W @ x + (0 if b is None else (b if n is None else b[:, None]))
        assume(np.all(np.abs(z) > 1e-3))
    return W, b, x, act


def x_layouts(x):
    """x as a strided constant and as (array to watch, view of the watched tensor): a 2-D x
    batch-first (Fortran-ordered, or the transpose of a C-ordered (N, in) array), a 1-D x as every
    other element of a longer vector."""
    if x.ndim == 2:
        return np.asfortranarray(x), np.ascontiguousarray(x.T), lambda t: t.T
    wide = np.zeros(2 * x.size)
    wide[::2] = x
    return wide[::2], wide, lambda t: t[::2]


@covers("dense")
@given(case=dense_case(), strided_x=st.booleans(), wrt=st.sets(st.sampled_from("Wbx"), min_size=1))
def test_dense(case, strided_x, wrt):
    W, b, x, act = case
    wrt = [name for name in "Wbx" if name in wrt and not (name == "b" and b is None)] or ["W"]
    constants = {"W": W, "b": b, "x": x}
    watched = dict(constants)
    x_view = None
    if strided_x:
        constants["x"], watched["x"], x_view = x_layouts(x)

    def f(ts):
        args = dict(constants)
        for name, t in zip(wrt, ts):
            args[name] = x_view(t) if name == "x" and x_view else t
        return C.dense(args["W"], args["b"], args["x"], act)

    check_gradient(f, [watched[name] for name in wrt])


@covers("dense")
@pytest.mark.parametrize("act", [0, 1, 2, 3])
@pytest.mark.parametrize("bias", [True, False])
def test_dense_large_enough_for_blas(act, bias):
    rng = np.random.default_rng(act)
    W, b, x = rng.uniform(-1, 1, (20, 16)), rng.uniform(-1, 1, 20), rng.uniform(-1, 1, (30, 16))
    assert np.all(np.abs(W @ x.T + b[:, None]) > 1e-4)  # clear of relu's kink
    if bias:
        check_gradient(lambda ts: C.dense(ts[0], ts[1], ts[2].T, act), [W, b, x])
    else:
        check_gradient(lambda ts: C.dense(ts[0], None, ts[1].T, act), [W, x])


@covers("dense", "transpose")
@given(n=dims, inp=dims, hidden=dims, out=dims, data=st.data())
def test_two_layer_dense_chain(n, inp, hidden, out, data):
    W1, b1 = data.draw(arrays((hidden, inp))), data.draw(arrays((hidden,)))
    W2, b2 = data.draw(arrays((out, hidden))), data.draw(arrays((out,)))
    x = data.draw(arrays((n, inp)))
    check_gradient(lambda ts: C.dense(ts[2], ts[3], C.dense(ts[0], ts[1], ts[4].T, 3), 2), [W1, b1, W2, b2, x])


@covers("matmul", "transpose", "mul", "add", "sum")
@given(m=dims, k=dims, data=st.data())
def test_matmul_with_operand_used_twice(m, k, data):
    A = data.draw(arrays((m, k)))
    v = data.draw(arrays((m,)))
    check_gradient(lambda ts: (ts[0] @ ts[0].T) @ ts[1] * ts[1] + C.sum(ts[1] @ ts[0]), [A, v])


@covers("dense", "index", "transpose")
@pytest.mark.parametrize("act", [0, 2, 3])
def test_dense_of_traced_views(act):
    rng = np.random.default_rng(6)
    Wt, b, x = rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, 6), rng.uniform(-1, 1, (4, 5))
    check_gradient(lambda ts: C.dense(ts[0].T, ts[1][::-2], ts[2][::-1, ::2], act), [Wt, b, x])
    # One tensor as both the weight and (transposed) the input.
    check_gradient(lambda ts: C.dense(ts[0], None, ts[0].T, act), [rng.uniform(-1, 1, (4, 4))])


def dense_case_clear_of_kinks(name, seed, n, p=None):
    """W, b, x (batch-first, (n, 3)) whose pre-activations keep 1e-3 from the activation's kinks."""
    rng = np.random.default_rng(seed)
    W, b, x = rng.uniform(-1.5, 1.5, (4, 3)), rng.uniform(-1, 1, 4), rng.uniform(-2, 2, (n, 3))
    z = np.concatenate([W @ x.T + b[:, None], W @ x[:1].T], axis=1)  # with the bias, and without
    for k in kinks(name, p):
        assert np.all(np.abs(z - k) > 1e-3), f"seed {seed} puts a pre-activation on {name}'s kink"
    return W, b, x


@covers("dense")
@pytest.mark.parametrize("name", list(REFERENCES))
@pytest.mark.parametrize("seed, n", [(11, 5), (12, 1)])
def test_dense_with_every_activation(name, seed, n):
    code = REFERENCES[name][0]
    W, b, x = dense_case_clear_of_kinks(name, seed, n)
    check_gradient(lambda ts: C.dense(ts[0], ts[1], ts[2].T, code), [W, b, x])
    check_gradient(lambda ts: C.dense(ts[0], None, ts[1][0], code), [W, x])  # one sample, 1-D


@covers("dense")
@pytest.mark.parametrize("name", PARAMETERISED)
def test_dense_with_a_parameter(name):
    code, _, default = REFERENCES[name]
    p = 2 * default
    W, b, x = dense_case_clear_of_kinks(name, 13, 6, p)
    check_gradient(lambda ts: C.dense(ts[0], ts[1], ts[2].T, code, p), [W, b, x])
