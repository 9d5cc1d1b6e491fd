"""Scale and Embedding (pyflux/layers/basic.py)."""

import numpy as np
import pytest
from gradcheck import check_gradient

import pyflux as flux


@pytest.fixture
def rng():
    return np.random.default_rng(11)


# --- Scale ---------------------------------------------------------------------------------------

def test_scale_construction():
    s = flux.Scale(2, 3)
    assert s.scale.shape == (2, 3) and np.array_equal(s.scale, np.ones((2, 3))) and s.scale.dtype == np.float32
    assert np.array_equal(s.bias, np.zeros((2, 3))) and s.σ is flux.identity
    assert flux.Scale(3, flux.relu).σ is flux.relu
    assert flux.Scale(3, bias=False).bias is False
    assert np.array_equal(flux.Scale(2, init=flux.zeros32).scale, [0, 0])
    w = flux.Scale(np.array([1.0, 2.0]), np.array([3.0, 4.0]), flux.tanh)
    assert w.scale.dtype == np.float64 and w.σ is flux.tanh


@pytest.mark.parametrize("size, shape", [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (2, 3, 4)), ((3,), (3, 2, 2))])
def test_scale_forward(rng, size, shape):
    s = flux.Scale(rng.standard_normal(size), rng.standard_normal(size), flux.tanh)
    x = rng.standard_normal(shape)
    extra = (1,) * (len(shape) - len(size))
    expected = np.tanh(np.asarray(s.scale).reshape(size + extra) * x + np.asarray(s.bias).reshape(size + extra))
    np.testing.assert_allclose(s(x), expected, rtol=1e-12)


def test_scale_without_bias_and_wrong_shape(rng):
    s = flux.Scale(3, bias=False)
    assert np.array_equal(s(np.arange(3.0, dtype=np.float32)), np.arange(3.0))
    with pytest.raises(ValueError, match=r"Scale\(3; bias=false\).*\(4, 2\)"):
        s(np.ones((4, 2), np.float32))


def test_scale_gradient(rng):
    def f(ts):
        s = flux.Scale(3, flux.sigmoid)
        s.scale, s.bias = ts[1], ts[2]
        return s(ts[0])
    check_gradient(f, [rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal(3)])


def test_scale_print_and_state(tmp_path):
    assert flux.compact(flux.Scale(2)) == "Scale(2)"
    assert flux.compact(flux.Scale(2, 3, flux.relu, bias=False)) == "Scale(2, 3, relu; bias=false)"
    assert str(flux.Scale(2)) == "Scale(2)            # 4 parameters"
    s = flux.Scale(2)
    s.scale[...] = [5.0, 6.0]
    flux.save(tmp_path / "s.npz", s)
    np.testing.assert_array_equal(flux.load(tmp_path / "s.npz", flux.Scale(2)).scale, [5.0, 6.0])


# --- Embedding -----------------------------------------------------------------------------------

def test_embedding_construction():
    e = flux.Embedding(26, 4)
    assert e.weight.shape == (4, 26) and e.weight.dtype == np.float32
    assert flux.Embedding((26, 4)).weight.shape == (4, 26)
    big = np.asarray(flux.Embedding(1000, 100).weight)
    assert abs(big.std() - 1) < 0.02  # standard normal, not Glorot
    assert flux.Embedding(np.ones((2, 3))).weight.shape == (2, 3)


def test_embedding_lookup(rng):
    e = flux.Embedding(rng.standard_normal((3, 5)))
    W = np.asarray(e.weight)
    np.testing.assert_array_equal(e(2), W[:, 2])
    np.testing.assert_array_equal(e([4, 0, 4]), W[:, [4, 0, 4]])
    idx = np.array([[1, 2], [3, 0]])
    y = e(idx)
    assert y.shape == (3, 2, 2)
    np.testing.assert_array_equal(y[:, 1, 0], W[:, 3])
    onehot = flux.onehotbatch([1, 4], range(5))
    np.testing.assert_allclose(e(onehot), W[:, [1, 4]])
    np.testing.assert_allclose(e(onehot.astype(bool)), W[:, [1, 4]])
    with pytest.raises(IndexError, match=r"Embedding\(5 => 3\).*0\.\.4"):
        e([5])
    with pytest.raises(IndexError):
        e(-1)


def test_embedding_gradient_counts_uses(rng):
    e = flux.Embedding(rng.standard_normal((2, 4)))
    (g,) = flux.gradient(lambda m: flux.sum(m([1, 1, 3])), e)
    np.testing.assert_array_equal(g.weight, [[0, 2, 0, 1], [0, 2, 0, 1]])

    def f(ts):
        e = flux.Embedding(4, 3)
        e.weight = ts[0]
        return e(np.array([[0, 2], [2, 1]]))
    check_gradient(f, [rng.standard_normal((3, 4))])


def test_embedding_print_and_state(tmp_path):
    assert flux.compact(flux.Embedding(26, 4)) == "Embedding(26 => 4)"
    assert str(flux.Embedding(26, 4)) == "Embedding(26 => 4)  # 104 parameters"
    e = flux.Embedding(3, 2)
    flux.save(tmp_path / "e.npz", e)
    np.testing.assert_array_equal(flux.load(tmp_path / "e.npz", flux.Embedding(3, 2)).weight, e.weight)


def test_embedding_is_a_gather_whose_gradient_scatters(rng):
    e = flux.Embedding(rng.standard_normal((3, 1000)))
    idx = np.array([[999, 0], [999, 5]])
    np.testing.assert_array_equal(e(idx), np.asarray(e.weight)[:, idx])
    c = rng.standard_normal((3, 2, 2))
    (g,) = flux.gradient(lambda m: flux.sum(m(idx) * c), e)
    expected = np.zeros((3, 1000))
    np.add.at(expected.T, idx.ravel(), c.reshape(3, -1).T)
    np.testing.assert_allclose(g.weight, expected)
    assert e(np.array(7, dtype=np.uint8)).shape == (3,)
    assert e(np.zeros((0, 2), dtype=int)).shape == (3, 0, 2)
