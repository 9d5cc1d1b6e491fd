"""softmax and logsoftmax kernels (csrc/kernels/softmax.cpp) against numpy."""

import numpy as np
import pytest

from pyflux import _core as C


def softmax_reference(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def logsoftmax_reference(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape, dims", [((10,), 0), ((10, 7), 0), ((10, 7), 1), ((3, 4, 5), 1), ((3, 4, 5), -1),
                                         ((1, 1), 0)])
def test_forward_matches_numpy(dtype, rtol, shape, dims):
    x = np.random.default_rng(1).uniform(-5, 5, shape).astype(dtype)
    for op, ref in ((C.softmax, softmax_reference), (C.logsoftmax, logsoftmax_reference)):
        got = op(x, dims=dims)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, ref(x.astype(np.float64), dims), rtol=rtol, atol=rtol)


def test_default_is_the_feature_axis():
    x = np.random.default_rng(2).uniform(-1, 1, (4, 6))
    np.testing.assert_allclose(C.softmax(x).sum(axis=0), np.ones(6))


def test_extreme_logits_stay_finite():
    x = np.array([[1000.0, -1000.0], [0.0, 1000.0]])
    assert np.isfinite(C.softmax(x)).all()
    assert np.isfinite(C.logsoftmax(x)).all()
    np.testing.assert_allclose(C.softmax(x), [[1.0, 0.0], [0.0, 1.0]])


def test_threads_agree(restore_num_threads):
    x = np.random.default_rng(3).uniform(-3, 3, (10, 30_000))
    C.set_num_threads(1)
    one = C.softmax(x)
    C.set_num_threads(2)
    np.testing.assert_allclose(C.softmax(x), one, rtol=1e-14)


def test_errors():
    with pytest.raises(TypeError, match="number"):
        C.softmax(1.0)
    with pytest.raises(IndexError, match="out of bounds"):
        C.softmax(np.ones((2, 3)), dims=2)
