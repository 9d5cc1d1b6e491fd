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
