"""gradient, withgradient, params and Grads (pyflux/gradient.py), explicit and implicit style."""

import collections

import numpy as np
import pytest
from flux_helpers import float64_chain, layer_grads, numeric_gradient

import pyflux as flux

FD_TOL = dict(rtol=1e-6, atol=1e-8)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# --- explicit style: kinds of arguments ----------------------------------------------------------

def test_python_scalars_give_floats():
    grads = flux.gradient(lambda x: 2 * x**2 + 3, 3.0)
    assert grads == (12.0,) and type(grads[0]) is float
    gx, gy = flux.gradient(lambda x, y: x * y + x / y, 2, 4.0)  # an int is a number too
    assert (type(gx), type(gy)) == (float, float)
    assert gx == pytest.approx(4.25) and gy == pytest.approx(2 - 2 / 16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_numpy_arrays_give_numpy_arrays(dtype):
    x = np.array([[1, -2], [3, 4]], dtype)
    (g,) = flux.gradient(lambda x: flux.sum(x * x), x)
    assert type(g) is np.ndarray and g.shape == x.shape
    assert g.dtype == (np.float32 if dtype == np.float32 else np.float64)
    np.testing.assert_array_equal(g, 2 * x)


def test_params_give_numpy_arrays():
    W = flux.param(np.array([[1.0, 2.0], [3.0, 4.0]]))
    x = np.array([1.0, -1.0])
    (g,) = flux.gradient(lambda W: flux.sum(W @ x), W)
    assert type(g) is np.ndarray
    np.testing.assert_array_equal(g, [[1.0, -1.0], [1.0, -1.0]])


@pytest.mark.parametrize("other", ["text", None, True], ids=["str", "None", "bool"])
def test_non_differentiable_arguments_give_none(other):
    grads = flux.gradient(lambda x, o: flux.sum(x * 3.0), np.ones(2), other)
    np.testing.assert_array_equal(grads[0], [3.0, 3.0])
    assert grads[1] is None


def test_argument_not_used_gives_none():
    assert flux.gradient(lambda x, y: x * 2.0, 1.0, 5.0) == (2.0, None)
    assert flux.gradient(lambda x, y: flux.sum(x), np.ones(2), np.ones(3))[1] is None


def test_the_same_param_twice():
    W = flux.param(np.array([1.0, 2.0]))
    gW, gm = flux.gradient(lambda a, m: flux.sum(a * m["W"]), W, {"W": W})
    np.testing.assert_array_equal(gW, [2.0, 4.0])
    np.testing.assert_array_equal(gm["W"], [2.0, 4.0])


def test_dict_and_list_models_are_mirrored():
    W, b = flux.param(np.array([1.0, 2.0])), flux.param(np.array([3.0]))
    (g,) = flux.gradient(lambda m: flux.sum(m["W"] * m["b"][0] ** 2), {"W": W, "b": [b], "name": "x"})
    assert set(g) == {"W", "b", "name"} and g["name"] is None
    np.testing.assert_array_equal(g["W"], [9.0, 9.0])
    np.testing.assert_array_equal(g["b"][0], [2 * 3.0 * 3.0])


# --- traced values ------------------------------------------------------------------------------

def expression(x, W):
    """Uses every operation traced values support; evaluates on numpy arrays too."""
    c = np.array([0.5, -1.0, 2.0])
    y = (x + 1) * 2 - x / 3 + (-x) + x**2 + 1.5 * x - c * x + x * c + 2.0 / (x + 3) + (4 - x) ** 2 + 2.0 ** x + x**c
    z = W @ y.T + y[0].reshape(3, 1)[1:].T @ W[:, :2].T
    s = flux.sum(flux.exp(x[:, 1] * 0.1)) + flux.mean(flux.log(x + 3), axis=0).sum() + x.mean() + y.sum(axis=1).mean()
    assert (x.shape, x.ndim, W.shape) == ((2, 3), 2, (2, 3)) and x.dtype == np.float64
    return z.sum() + s + np.ones(2) @ z @ np.ones(2)


def test_traced_operations_match_finite_differences(rng):
    x = rng.uniform(0.5, 1.5, (2, 3))
    W = rng.standard_normal((2, 3))
    gx, gW = flux.gradient(expression, x, W)
    xs, Ws = x.copy(), W.copy()
    np.testing.assert_allclose(gx, numeric_gradient(lambda: expression(xs, Ws), xs), **FD_TOL)
    np.testing.assert_allclose(gW, numeric_gradient(lambda: expression(xs, Ws), Ws), **FD_TOL)


def test_flux_functions_on_numpy_and_numbers():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert flux.sum(a) == 10.0 and flux.mean(a) == 2.5
    np.testing.assert_array_equal(flux.sum(a, axis=0), [4.0, 6.0])
    np.testing.assert_array_equal(flux.mean(a, axis=1), [1.5, 3.5])
    np.testing.assert_allclose(flux.exp(a), np.exp(a), rtol=1e-15)
    np.testing.assert_allclose(flux.log(a), np.log(a), rtol=1e-15)
    assert flux.exp(1.0) == pytest.approx(np.e) and flux.log(np.e) == pytest.approx(1.0) and flux.sum(3.0) == 3.0


# --- models --------------------------------------------------------------------------------------

def test_model_gradient_structure():
    m = flux.Chain(flux.Dense(2, 3, flux.relu), flux.Dense(3, 1, bias=False))
    (g,) = flux.gradient(lambda m: flux.sum(m(np.ones(2, np.float32))), m)
    assert type(g).__name__ == "Chain" and g._fields == ("layers",)
    assert isinstance(g.layers, tuple) and len(g.layers) == 2
    first, second = g.layers
    assert type(first).__name__ == "Dense" and first._fields == ("weight", "bias", "σ")
    assert first.σ is None and second.σ is None and second.bias is None
    assert first.weight.shape == (3, 2) and first.bias.shape == (3,) and second.weight.shape == (1, 3)
    assert first.weight.dtype == np.float32


def test_model_gradients_match_finite_differences(rng):
    m = float64_chain(rng, (3, 4, 2, 1), (flux.tanh, flux.sigmoid, flux.identity))
    x, y = rng.standard_normal((3, 5)), rng.standard_normal((1, 5))

    def loss():
        return flux.mse(m(x), y)

    (g,) = flux.gradient(lambda model: flux.mse(model(x), y), m)
    gs = flux.gradient(loss, flux.params(m))
    for layer, (gW, gb) in zip(m, layer_grads(g)):
        for p, got in ((layer.weight, gW), (layer.bias, gb)):
            np.testing.assert_allclose(got, numeric_gradient(loss, p), **FD_TOL)
            np.testing.assert_array_equal(gs[p], got)


def test_gradient_with_respect_to_model_and_input(rng):
    m = float64_chain(rng)
    x = rng.standard_normal(3)
    gm, gx = flux.gradient(lambda m, x: flux.sum(m(x) ** 2), m, x)
    np.testing.assert_allclose(gx, numeric_gradient(lambda: flux.sum(m(x) ** 2), x), **FD_TOL)
    np.testing.assert_allclose(gm.layers[1].bias, numeric_gradient(lambda: flux.sum(m(x) ** 2), m[1].bias), **FD_TOL)


def test_hand_written_cost_on_one_column(rng):
    # Higham & Higham's cost for one training point: yy is the network's output on column i.
    m = float64_chain(rng, (2, 2, 3, 2), (flux.sigmoid,) * 3)
    x, y = rng.random((2, 10)), rng.random((2, 10))
    i = 3

    def cost(m):
        yy = m(x[:, i])
        return 0.5 * ((yy[0] - y[0, i]) ** 2 + (yy[1] - y[1, i]) ** 2)

    (g,) = flux.gradient(cost, m)
    gs = flux.gradient(lambda: cost(m), flux.params(m))
    for layer, (gW, gb) in zip(m, layer_grads(g)):
        np.testing.assert_allclose(gW, numeric_gradient(lambda: cost(m), layer.weight), **FD_TOL)
        np.testing.assert_allclose(gb, numeric_gradient(lambda: cost(m), layer.bias), **FD_TOL)
        np.testing.assert_array_equal(gs[layer.weight], gW)


# --- withgradient --------------------------------------------------------------------------------

def test_withgradient_value_and_grads():
    x = np.array([1.0, 2.0])
    value, grads = flux.withgradient(lambda x: flux.sum(x * x), x)
    assert value == 5.0 and type(value) is float
    np.testing.assert_array_equal(grads[0], [2.0, 4.0])
    assert flux.withgradient(lambda x: 3.0 * x, 2.0) == (6.0, (3.0,))


def test_withgradient_tuple_output_differentiates_the_first_element():
    x = np.array([1.0, 2.0])
    value, (g,) = flux.withgradient(lambda x: (flux.sum(x * x), x * 10, "aux"), x)
    assert len(value) == 3 and value[0] == 5.0 and type(value[0]) is float and value[2] == "aux"
    assert type(value[1]) is np.ndarray
    np.testing.assert_array_equal(value[1], [10.0, 20.0])
    np.testing.assert_array_equal(g, [2.0, 4.0])
    assert flux.gradient(lambda x: (flux.sum(x), flux.sum(x * x)), x)[0].tolist() == [1.0, 1.0]


def test_withgradient_implicit_with_aux():
    W = flux.param(np.array([1.0, -1.0]))
    value, gs = flux.withgradient(lambda: (flux.sum(W * W), W * 2), flux.params(W))
    assert value[0] == 2.0
    np.testing.assert_array_equal(value[1], [2.0, -2.0])
    np.testing.assert_array_equal(gs[W], [2.0, -2.0])


def test_withgradient_keeps_a_namedtuple_output():
    Out = collections.namedtuple("Out", "loss pred")
    value, _ = flux.withgradient(lambda x: Out(flux.sum(x * x), x * 2), np.array([1.0, 2.0]))
    assert type(value) is Out and value.loss == 5.0


def test_withgradient_converts_tensors_nested_in_aux_outputs():
    value, _ = flux.withgradient(lambda x: (flux.sum(x), {"pred": x * 2}, [x * 3]), np.array([1.0, 2.0]))
    assert type(value[1]["pred"]) is np.ndarray and type(value[2][0]) is np.ndarray


# --- errors --------------------------------------------------------------------------------------

def test_non_scalar_output_raises():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        flux.gradient(lambda x: x * 2, np.ones((2, 3)))
    W = flux.param(np.ones(4))
    with pytest.raises(ValueError, match=r"\(4,\)"):
        flux.gradient(lambda: W * 2, flux.params(W))


def test_nested_gradient_raises_and_the_next_gradient_works():
    W = flux.param(np.ones(2))

    def outer(x):
        return flux.gradient(lambda y: y * x, 2.0)[0]

    def outer_implicit():
        flux.gradient(lambda: flux.sum(W), flux.params(W))
        return flux.sum(W * W)

    with pytest.raises(RuntimeError, match="nested"):
        flux.gradient(outer, 1.0)
    with pytest.raises(RuntimeError, match="nested"):
        flux.gradient(outer_implicit, flux.params(W))
    assert flux.gradient(lambda x: x * x, 3.0) == (6.0,)


def test_nested_gradient_of_a_traced_argument_raises_runtime_error():
    with pytest.raises(RuntimeError, match="nested"):
        flux.gradient(lambda x: flux.gradient(lambda y: y * y, x)[0], 1.0)


# --- implicit style: params and Grads ------------------------------------------------------------

def test_params_collection():
    W, b, other = flux.param(np.ones((2, 2))), flux.param(np.zeros(2)), flux.param(np.ones(3))
    ps = flux.params(W, b, W)
    assert len(ps) == 2 and list(ps) == [W, b] and ps[0] is W and ps[-1] is b
    assert W in ps and b in ps and other not in ps
    assert flux.param(np.ones((2, 2))) not in ps  # by identity, not by value
    assert len(flux.params()) == 0


def test_params_of_a_model_in_order():
    m = flux.Chain(flux.Dense(2, 3), flux.Dense(3, 4, bias=False), flux.relu, flux.Dense(4, 1))
    expected = [m[0].weight, m[0].bias, m[1].weight, m[3].weight, m[3].bias]
    assert [id(p) for p in flux.params(m)] == [id(p) for p in expected]
    shared = flux.Dense(2, 2)
    assert len(flux.params(flux.Chain(shared, shared))) == 2


def test_grads_lookup():
    W, b, other = flux.param(np.array([1.0, 2.0])), flux.param(np.array([5.0])), flux.param(np.ones(3))
    ps = flux.params(W, b)
    gs = flux.gradient(lambda: flux.sum(W * W), ps)
    assert isinstance(gs, flux.Grads) and len(gs) == 2
    np.testing.assert_array_equal(gs[W], [2.0, 4.0])
    assert type(gs[W]) is np.ndarray and gs[b] is None
    assert W in gs and other not in gs
    with pytest.raises(KeyError):
        gs[other]
    assert [p is q for p, q in zip(gs.keys(), [W, b])] == [True, True]
    assert gs.items()[1] == (b, None)


def test_implicit_gradient_sees_params_inside_closures():
    m = flux.Chain(flux.Dense(2, 2, flux.tanh))
    x = np.array([0.5, -0.5], np.float32)
    gs = flux.gradient(lambda: flux.sum(m(x)), flux.params(m))
    (g,) = flux.gradient(lambda m: flux.sum(m(x)), m)
    np.testing.assert_array_equal(gs[m[0].weight], g.layers[0].weight)
    np.testing.assert_array_equal(gs[m[0].bias], g.layers[0].bias)
