"""GEMM and the fused dense kernel (csrc/kernels/blas.cpp, dense.cpp) against numpy, outside any tape."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyflux import _core as C
from strategies import ACTIVATION_REFERENCES, FORWARD_TOL, arrays, float_dtypes


def assert_product_close(got, a, b, dtype, result=None):
    """got equals a @ b (or `result`, computed from it) to the rounding a dot product of
    len K allows: |error| <= rtol * (|a| @ |b|)."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    expected = a64 @ b64 if result is None else result
    assert isinstance(got, (np.ndarray, np.generic)) and np.asarray(got).dtype == dtype
    got = np.asarray(got)
    assert got.shape == expected.shape
    bound = FORWARD_TOL[np.dtype(dtype)]["rtol"] * (np.abs(a64) @ np.abs(b64)) + FORWARD_TOL[np.dtype(dtype)]["atol"]
    assert np.all(np.abs(got - expected) <= bound), f"max error {np.max(np.abs(got - expected), initial=0)}"


def views(x):
    """x in numpy layouts that GEMM reads in place (C, Fortran, a strided vector, rows further
    apart than their length) and that need a copy (strided columns, negative strides)."""
    wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
    wide[..., ::2] = x
    out = {
        "c": np.ascontiguousarray(x),
        "fortran": np.asfortranarray(x),
        "strided": wide[..., ::2],
        "reversed": np.ascontiguousarray(x[::-1])[::-1],
    }
    if x.ndim == 2:
        wide_rows = np.zeros((2 * x.shape[0], x.shape[1]), x.dtype)
        wide_rows[::2] = x
        out["row-strided"] = wide_rows[::2]
    return out


@given(
    a_ndim=st.sampled_from([1, 2]), b_ndim=st.sampled_from([1, 2]),
    m=st.integers(0, 6), k=st.integers(0, 6), n=st.integers(0, 6), dtype=float_dtypes, data=st.data(),
)
def test_matmul_matches_numpy(a_ndim, b_ndim, m, k, n, dtype, data):
    a = data.draw(arrays((m, k) if a_ndim == 2 else (k,), dtype=dtype), label="a")
    b = data.draw(arrays((k, n) if b_ndim == 2 else (k,), dtype=dtype), label="b")
    assert_product_close(C.matmul(a, b), a, b, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", ["tiny", "blas"])
@pytest.mark.parametrize("a_ndim, b_ndim", [(2, 2), (2, 1), (1, 2), (1, 1)])
def test_matmul_operands_in_every_layout(a_ndim, b_ndim, size, dtype):
    m, k, n = (3, 4, 5) if size == "tiny" else (40, 5000, 30)  # above the small-GEMM cutoff even for 1-D
    rng = np.random.default_rng(m + a_ndim + 2 * b_ndim)
    a = rng.uniform(-1, 1, (m, k) if a_ndim == 2 else (k,)).astype(dtype)
    b = rng.uniform(-1, 1, (k, n) if b_ndim == 2 else (k,)).astype(dtype)
    for a_layout, av in views(a).items():
        for b_layout, bv in views(b).items():
            assert_product_close(C.matmul(av, bv), a, b, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mkn", [(300, 200, 250), (2, 3, 4)], ids=["blas", "tiny"])
@pytest.mark.parametrize("trans_a", [False, True], ids=["A", "At"])
@pytest.mark.parametrize("trans_b", [False, True], ids=["B", "Bt"])
def test_transpose_combinations(trans_a, trans_b, mkn, dtype):
    m, k, n = mkn
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.uniform(-1, 1, (n, k) if trans_b else (k, n)).astype(dtype)
    ea, eb = (a.T if trans_a else a), (b.T if trans_b else b)
    ta, tb = C.Tensor(a), C.Tensor(b)
    # .T of an untraced Tensor, C.transpose and numpy's .T all give strided views that matmul
    # reads without a copy.
    va, vb = (ta.T if trans_a else ta), (C.transpose(b) if trans_b else tb)
    assert_product_close(va @ vb, ea, eb, dtype)
    assert_product_close(C.matmul(ea, eb), ea, eb, dtype)
    assert_product_close(C.matmul(np.asfortranarray(ea), np.asfortranarray(eb)), ea, eb, dtype)


def test_matmul_with_empty_inner_dimension_is_zero():
    out = C.matmul(np.ones((3, 0)), np.ones((0, 4)))
    np.testing.assert_array_equal(out, np.zeros((3, 4)))
    assert C.matmul(np.ones(0), np.ones(0)) == 0.0
    assert C.matmul(np.ones((0, 3)), np.ones((3, 2))).shape == (0, 2)


def test_matmul_of_vectors_is_a_numpy_scalar():
    out = C.matmul(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert isinstance(out, np.float64) and out == 11.0


@st.composite
def dense_case(draw, max_side=6):
    side = st.integers(0, max_side)
    out, inp, n = draw(side), draw(side), draw(st.none() | side)
    dtype = draw(float_dtypes)
    W = draw(arrays((out, inp), dtype=dtype), label="W")
    b = draw(st.none() | arrays((out,), dtype=dtype), label="b")
    x = draw(arrays((inp,) if n is None else (inp, n), dtype=dtype), label="x")
    return W, b, x, dtype


def dense_reference(W, b, x, act):
    z = np.asarray(W, np.float64) @ np.asarray(x, np.float64)
    if b is not None:
        z = z + (b if x.ndim == 1 else b[:, None])
    return ACTIVATION_REFERENCES[act](z)


@pytest.mark.parametrize("act", [0, 1, 2, 3])
@given(case=dense_case(), fortran=st.booleans())
def test_dense_matches_numpy(act, case, fortran):
    W, b, x, dtype = case
    x = np.asfortranarray(x) if fortran else x
    # Activations are 1-Lipschitz: the error bound of the product carries over.
    assert_product_close(C.dense(W, b, x, act), W, x, dtype, result=dense_reference(W, b, x, act))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", [0, 1, 2, 3])
def test_dense_large_with_batch_first_input(act, dtype):
    rng = np.random.default_rng(act)
    W, b = rng.uniform(-1, 1, (64, 200)).astype(dtype), rng.uniform(-1, 1, 64).astype(dtype)
    batch = rng.uniform(-1, 1, (300, 200)).astype(dtype)  # (N, in), viewed as (in, N) without a copy
    column = np.ascontiguousarray(batch.T)[:, 3]  # a strided 1-D input
    for bias, x in [(b, batch.T), (None, batch.T), (b, batch[::2].T), (b, batch[7]), (b, column)]:
        assert_product_close(C.dense(W, bias, x, act), W, x, dtype, result=dense_reference(W, bias, x, act))


def test_dense_input_dtype_follows_the_weight():
    W = np.eye(2, dtype=np.float32)
    out = C.dense(W, None, np.array([1.0, 2.0]), 0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [1.0, 2.0])


def test_threads_agree(restore_num_threads):
    rng = np.random.default_rng(2)
    a, b = rng.uniform(-1, 1, (256, 256)), rng.uniform(-1, 1, (256, 256))
    W, bias, x = rng.uniform(-1, 1, (256, 400)), rng.uniform(-1, 1, 256), rng.uniform(-1, 1, (400, 300))
    results = []
    for n in (1, 2):
        C.set_num_threads(n)
        results.append([C.matmul(a, b), C.matmul(a.T, b), C.dense(W, bias, x, 2), C.dense(W, bias, x, 1)])
    for serial, parallel in zip(*results):
        np.testing.assert_allclose(parallel, serial, rtol=1e-13, atol=1e-13)
    assert_product_close(results[1][0], a, b, np.float64)


@pytest.mark.parametrize(
    "a, b", [((2, 3), (4,)), ((2, 3), (2, 3)), ((5,), (4, 5)), ((3,), (4,))]
)
def test_matmul_misalignment_names_both_shapes(a, b):
    with pytest.raises(ValueError, match=rf"matmul: shapes {re.escape(str(a))} and {re.escape(str(b))}"):
        C.matmul(np.ones(a), np.ones(b))


def test_matmul_rejects_operands_of_other_ranks():
    for a, b in [((2, 2, 2), (2, 2)), ((), (2,)), ((2,), (2, 2, 1))]:
        with pytest.raises(ValueError, match="1-D or 2-D"):
            C.matmul(np.ones(a), np.ones(b))


def test_dense_shape_errors():
    W = np.ones((2, 3))
    with pytest.raises(ValueError, match=re.escape("bias must have shape (2,), got (3,)")):
        C.dense(W, np.ones(3), np.ones(3), 0)
    with pytest.raises(ValueError, match=re.escape("bias must have shape (2,), got (2, 1)")):
        C.dense(W, np.ones((2, 1)), np.ones(3), 0)
    with pytest.raises(ValueError, match=re.escape("weight of shape (2, 3) expects input")):
        C.dense(W, None, np.ones(4), 0)
    with pytest.raises(ValueError, match="weight must be 2-D"):
        C.dense(np.ones(3), None, np.ones(3), 0)
    for code in (-1, sum(e["family"] == "unary" for e in C.op_table())):
        with pytest.raises(ValueError, match="unknown activation code"):
            C.dense(W, None, np.ones(3), code)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-4), (np.float64, 1e-11)])
def test_matrix_vector_products_through_blas(dtype, rtol):
    # Large enough for BLAS, with one side a single row or column: the gemv paths, every layout.
    rng = np.random.default_rng(7)
    W = rng.uniform(-1, 1, (300, 200)).astype(dtype)
    x, v = rng.uniform(-1, 1, 200).astype(dtype), rng.uniform(-1, 1, 300).astype(dtype)
    cases = [(W, x), (W, x[:, None]), (v, W), (v[None, :], W), (np.asfortranarray(W), x), (W.T, v), (x, W.T),
             (W, rng.uniform(-1, 1, 400).astype(dtype)[::2]), (W[::-1], x)]
    for a, b in cases:
        np.testing.assert_allclose(C.matmul(a, b), a @ b, rtol=rtol, atol=rtol)
    for a, b in [(W, x[:, None]), (v[None, :], W)]:
        ga, gb = _gradients_of_matmul(a, b)
        ones = np.ones((a @ b).shape, dtype)
        np.testing.assert_allclose(ga, ones @ b.T, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(gb, a.T @ ones, rtol=rtol, atol=rtol)


def _gradients_of_matmul(a, b):
    ta, tb = C.Tensor(a), C.Tensor(b)
    tape = C.Tape([ta, tb])
    with tape:
        loss = C.sum(C.matmul(ta, tb))
    return [np.asarray(g) for g in tape.gradient(loss)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, cols", [(1001, 131), (515, 784), (9, 8000)])
def test_large_matrix_vector_products_split_across_threads(rows, cols, dtype, restore_num_threads):
    """Matrix-vector products over 65,536 elements share their rows (or, for x^T A, their columns)
    between threads (kernels/gemv_split.cpp): the same values as one thread's BLAS gemv to rounding,
    for sizes that are not multiples of the 8-row blocks."""
    rng = np.random.default_rng(rows)
    a = rng.uniform(-1, 1, (rows, cols)).astype(dtype)
    v, u = rng.uniform(-1, 1, cols).astype(dtype), rng.uniform(-1, 1, rows).astype(dtype)
    results = {}
    for threads in (1, 2):
        C.set_num_threads(threads)
        results[threads] = (C.matmul(a, v), C.matmul(u, a), C.dense(a, None, v.reshape(-1, 1), 0))
    for got in results.values():
        assert_product_close(got[0], a, v, dtype)
        assert_product_close(got[1], u, a, dtype)
        assert_product_close(got[2], a, v.reshape(-1, 1), dtype)
