"""The Tensor class (csrc/autodiff/tensor.cpp and its Python type in csrc/bindings): construction,
properties and conversion to Python and numpy."""

import numpy as np
import pytest

from pyflux import _core as C


@pytest.mark.parametrize(
    "data, dtype, expected",
    [
        (np.ones(2, np.float32), None, np.float32),
        (np.ones(2, np.float64), None, np.float64),
        (np.arange(2), None, np.float32),  # anything else becomes float32
        ([1, 2], None, np.float32),
        (1.5, None, np.float32),
        ([0.5, 2.0], None, np.float32),
        (np.ones(2, np.float16), None, np.float32),
        (np.ones(2, np.float32), np.float64, np.float64),
        ([1, 2], "float64", np.float64),
        (np.ones(2, np.float64), np.float32, np.float32),
    ],
)
def test_dtype(data, dtype, expected):
    t = C.Tensor(data, dtype=dtype)
    assert t.dtype == expected
    np.testing.assert_array_equal(np.asarray(t), np.asarray(data, dtype=expected))


def test_rejects_other_dtypes():
    with pytest.raises(TypeError, match="float32 or float64"):
        C.Tensor([1, 2], dtype=np.int64)


def test_owned_contiguous_copy():
    x = np.arange(12.0).reshape(3, 4)
    t = C.Tensor(x.T[::-1])
    x[:] = -1.0
    np.testing.assert_array_equal(np.asarray(t), np.arange(12.0).reshape(3, 4).T[::-1])
    assert np.asarray(t).flags.c_contiguous
    u = C.Tensor(t)  # a copy of a Tensor is independent too
    np.asarray(t)[0, 0] = 100.0
    assert np.asarray(u)[0, 0] == np.arange(12.0).reshape(3, 4).T[::-1][0, 0]


def test_properties():
    t = C.Tensor(np.zeros((2, 3, 4)))
    assert (t.shape, t.ndim, t.size, len(t), t.traced) == ((2, 3, 4), 3, 24, 2, False)
    s = C.Tensor(np.float64(2.5))
    assert (s.shape, s.ndim, s.size) == ((), 0, 1)
    assert C.Tensor(np.zeros((0, 3))).size == 0
    with pytest.raises(TypeError):
        len(s)


def test_scalar_conversion():
    assert float(C.Tensor(2.5)) == 2.5
    assert C.Tensor([[1.25]]).item() == 1.25
    with pytest.raises(TypeError, match=r"\(2,\)"):
        float(C.Tensor([1.0, 2.0]))


def test_numpy_view_shares_memory():
    t = C.Tensor(np.zeros(3))
    np.asarray(t)[1] = 5.0
    np.testing.assert_array_equal(t.numpy(), [0.0, 5.0, 0.0])
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_traced_scalar_still_converts_to_float():
    t = C.Tensor(np.array([1.5, 2.0]))
    tape = C.Tape()
    tape.watch(t)
    with tape:
        s = C.sum(t)
        assert s.traced and float(s) == 3.5 and s.item() == 3.5
        assert "traced" in repr(s)


# Small tensors keep their bytes in their own block (no storage of their own): whatever views them
# must keep that block alive, and gradients that share one buffer must still come back apart.
SIZES = [3, 12, 13, 200]  # elements of float32: inside the tensor's block up to 12, separate beyond


def _churn():
    """Allocates and frees many tensors of every size, reusing any block freed too early."""
    for n in SIZES * 50:
        C.mul(C.Tensor(np.full(n, -9.0, np.float32)), C.Tensor(np.float32(2.0)))


@pytest.mark.parametrize("n", SIZES)
def test_numpy_result_outlives_its_tensor(n):
    values = np.arange(n, dtype=np.float32)
    result = C.mul(C.Tensor(values), C.Tensor(np.float32(1.0)))  # numpy over a tensor nothing else holds
    assert isinstance(result, np.ndarray)
    _churn()
    np.testing.assert_array_equal(result, values)


@pytest.mark.parametrize("n", SIZES)
def test_view_outlives_its_tensor(n):
    values = np.arange(n, dtype=np.float32)
    t = C.Tensor(values)
    v = C.reshape(t, (n, 1))  # numpy over a view of t
    del t
    _churn()
    np.testing.assert_array_equal(np.asarray(v)[:, 0], values)


@pytest.mark.parametrize("n", SIZES)
def test_gradients_sharing_a_buffer_come_back_apart(n):
    a, b = C.Tensor(np.ones(n, np.float32)), C.Tensor(np.ones(n, np.float32))
    tape = C.Tape([a, b])
    with tape:
        loss = C.sum(C.add(a, b))  # d(a + b) hands one gradient to both
    ga, gb = (np.asarray(g) for g in tape.gradient(loss, [a, b]))
    ga[0] = 5.0
    np.testing.assert_array_equal(gb, np.ones(n, np.float32))
