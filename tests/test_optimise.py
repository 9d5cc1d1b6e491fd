"""Descent, setup and update (pyflux/optimise.py), implicit and explicit style."""

import numpy as np
import pytest
from flux_helpers import linear_layer, linear_mse_grads, snapshot

import pyflux as flux

ETA = 0.05
STEPS = 5


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    return linear_layer(rng), rng.standard_normal((3, 6)), rng.standard_normal((2, 6))


def numpy_descent(W, b, x, y, eta=ETA, steps=STEPS):
    """The trajectory of p - eta * g for mean squared error of W x + b, in numpy."""
    W, b = W.copy(), b.copy()
    for _ in range(steps):
        gW, gb = linear_mse_grads(W, b, x, y)
        W, b = W - eta * gW, b - eta * gb
    return W, b


# --- Descent -------------------------------------------------------------------------------------

def test_descent_rule():
    assert flux.Descent().eta == 0.1
    assert flux.Descent(0.5).eta == 0.5 and flux.Descent(0).eta == 0
    assert repr(flux.Descent(0.5)) == "Descent(eta=0.5)"
    with pytest.raises(ValueError, match="-0.1"):
        flux.Descent(-0.1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_step_is_p_minus_eta_g(dtype):
    W = flux.param(np.array([[1.0, -2.0], [0.5, 3.0]], dtype))
    before = np.array(W)
    gs = flux.gradient(lambda: flux.sum(W * W * W), flux.params(W))
    flux.update(flux.Descent(0.1), flux.params(W), gs)
    assert W.dtype == dtype
    np.testing.assert_allclose(np.asarray(W), before - dtype(0.1) * gs[W], rtol=1e-6 if dtype == np.float32 else 1e-15)


# --- implicit style ------------------------------------------------------------------------------

def test_implicit_descent_follows_numpy(problem):
    layer, x, y = problem
    expected = numpy_descent(np.array(layer.weight), np.array(layer.bias), x, y)
    ps, opt = flux.params(layer), flux.Descent(ETA)
    for _ in range(STEPS):
        gs = flux.gradient(lambda: flux.mse(layer(x), y), ps)
        flux.update(opt, ps, gs)
    for got, want in zip(snapshot(ps), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_implicit_update_skips_params_without_gradient():
    W, unused = flux.param(np.ones(2)), flux.param(np.ones(3))
    ps = flux.params(W, unused)
    gs = flux.gradient(lambda: flux.sum(W), ps)
    flux.update(flux.Descent(0.5), ps, gs)
    np.testing.assert_array_equal(np.asarray(W), [0.5, 0.5])
    np.testing.assert_array_equal(np.asarray(unused), np.ones(3))


def test_implicit_update_argument_errors():
    W = flux.param(np.ones(2))
    ps = flux.params(W)
    gs = flux.gradient(lambda: flux.sum(W), ps)
    with pytest.raises(TypeError):
        flux.update(0.1, ps, gs)
    with pytest.raises(TypeError):
        flux.update(flux.Descent(), ps, {W: np.ones(2)})
    np.testing.assert_array_equal(np.asarray(W), [1.0, 1.0])


# --- explicit style ------------------------------------------------------------------------------

def test_setup_mirrors_the_model():
    rule = flux.Descent(0.1)
    m = flux.Chain(flux.Dense(2, 3, flux.relu), flux.relu, flux.Dense(3, 1, bias=False))
    state = flux.setup(rule, m)
    assert type(state).__name__ == "Chain" and len(state.layers) == 3
    first, middle, last = state.layers
    assert type(first).__name__ == "Dense"
    assert isinstance(first.weight, flux.Leaf) and isinstance(first.bias, flux.Leaf) and first.σ == ()
    assert first.weight.rule is rule and first.weight is not first.bias
    assert middle == () and last.bias == () and isinstance(last.weight, flux.Leaf)
    assert repr(first.weight) == "Leaf(Descent(eta=0.1), <Descent state for a (3, 2) float32 parameter>)"


def test_setup_on_other_structures():
    W = flux.param(np.ones(2))
    assert isinstance(flux.setup(flux.Descent(), W), flux.Leaf)
    tree = flux.setup(flux.Descent(), {"W": W, "name": "x"})
    assert isinstance(tree["W"], flux.Leaf) and tree["name"] == ()


def test_setup_errors_and_warnings():
    with pytest.raises(TypeError):
        flux.setup(0.1, flux.Dense(2, 2))
    with pytest.warns(UserWarning, match="no trainable parameters"):
        flux.setup(flux.Descent(), flux.Chain(flux.relu, flux.tanh))


def test_explicit_descent_follows_numpy(problem):
    layer, x, y = problem
    expected = numpy_descent(np.array(layer.weight), np.array(layer.bias), x, y)
    model = flux.Chain(layer)
    state = flux.setup(flux.Descent(ETA), model)
    for _ in range(STEPS):
        (g,) = flux.gradient(lambda m: flux.mse(m(x), y), model)
        result = flux.update(state, model, g)
        assert result[0] is state and result[1] is model
    np.testing.assert_allclose(np.asarray(layer.weight), expected[0], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(layer.bias), expected[1], rtol=1e-12)


def test_explicit_update_on_a_single_param():
    W = flux.param(np.array([1.0, -2.0]))
    state = flux.setup(flux.Descent(0.25), W)
    (g,) = flux.gradient(lambda W: flux.sum(W * W), W)
    flux.update(state, W, g)
    np.testing.assert_array_equal(np.asarray(W), [0.5, -1.0])


def test_explicit_update_skips_none_gradients():
    m = flux.Dense(np.ones((1, 2)), np.array([3.0]))
    state = flux.setup(flux.Descent(1.0), m)
    (g,) = flux.gradient(lambda m: flux.sum(m.weight), m)
    assert g.bias is None
    flux.update(state, m, g)
    np.testing.assert_array_equal(np.asarray(m.weight), [[0.0, 0.0]])
    np.testing.assert_array_equal(np.asarray(m.bias), [3.0])


def test_whole_gradient_tuple_warns_and_uses_the_first(problem):
    layer, x, y = problem
    twin = flux.Dense(np.array(layer.weight), np.array(layer.bias))
    before = np.array(layer.weight)
    grads = flux.gradient(lambda m: flux.mse(m(x), y), layer)
    flux.update(flux.setup(flux.Descent(ETA), twin), twin, grads[0])
    with pytest.warns(UserWarning, match=r"grads\[0\]"):
        flux.update(flux.setup(flux.Descent(ETA), layer), layer, grads)
    np.testing.assert_array_equal(np.asarray(layer.weight), np.asarray(twin.weight))
    np.testing.assert_array_equal(np.asarray(layer.bias), np.asarray(twin.bias))
    assert not np.array_equal(np.asarray(layer.weight), before)


def test_rule_instead_of_state_raises(problem):
    layer, x, y = problem
    before = snapshot(flux.params(layer))
    (g,) = flux.gradient(lambda m: flux.mse(m(x), y), layer)
    with pytest.raises(TypeError, match="setup"):
        flux.update(flux.Descent(ETA), layer, g)
    for p, b in zip(flux.params(layer), before):
        np.testing.assert_array_equal(np.asarray(p), b)


@pytest.mark.parametrize("style", ["update", "train"])
def test_state_for_a_different_model_raises_value_error(style):
    no_bias, with_bias = flux.Dense(2, 2, bias=False), flux.Dense(2, 2)
    state = flux.setup(flux.Descent(), no_bias)

    def loss(m):
        return flux.sum(m(np.ones(2, np.float32)))

    with pytest.raises(ValueError, match="setup"):
        if style == "update":
            flux.update(state, with_bias, flux.gradient(loss, with_bias)[0])
        else:
            flux.train(loss, with_bias, [()], state)


def test_shared_param_is_updated_once():
    W = flux.param(np.eye(2))
    layer = flux.Dense(W, False)
    model = flux.Chain(layer, layer)
    x = np.array([1.0, 2.0])
    (g,) = flux.gradient(lambda m: flux.sum(m(x)), model)
    expected = np.eye(2) - 0.1 * flux.gradient(lambda: flux.sum(model(x)), flux.params(model))[W]
    flux.update(flux.setup(flux.Descent(0.1), model), model, g)
    np.testing.assert_allclose(np.asarray(W), expected, rtol=1e-15)


def test_a_shared_parameter_gets_one_leaf_and_freezes_everywhere():
    d = flux.Dense(np.eye(2), np.zeros(2))
    model = flux.Chain(d, flux.relu, d)
    state = flux.setup(flux.Momentum(0.1), model)
    assert state.layers[0].weight is state.layers[2].weight and state.layers[0].bias is state.layers[2].bias
    x = np.array([[1.0], [2.0]])
    flux.freeze(state.layers[0])
    flux.train(lambda m, x: flux.sum(m(x)), model, [(x,)] * 2, state)
    np.testing.assert_array_equal(np.asarray(d.weight), np.eye(2))
    flux.thaw(state.layers[2])
    flux.train(lambda m, x: flux.sum(m(x)), model, [(x,)], state)
    assert not np.array_equal(np.asarray(d.weight), np.eye(2))


def test_gradients_given_at_several_places_of_a_shared_parameter_are_summed():
    W = flux.param(np.zeros(2))
    model = (W, W)
    flux.update(flux.setup(flux.Descent(1.0), model), model, (np.array([1.0, 2.0]), np.array([10.0, 20.0])))
    np.testing.assert_array_equal(np.asarray(W), [-11.0, -22.0])
    g = np.array([1.0, 2.0])
    flux.update(flux.setup(flux.Descent(1.0), model), model, (g, g))  # one gradient shown at both places
    np.testing.assert_array_equal(np.asarray(W), [-12.0, -24.0])
    flux.update(flux.setup(flux.Descent(1.0), model), model, (None, g))
    np.testing.assert_array_equal(np.asarray(W), [-13.0, -26.0])


BAD_ARGUMENTS = [
    (lambda: flux.Descent(-0.1), ValueError, "Descent: the learning rate eta cannot be negative"),
    (lambda: flux.Descent("0.1"), TypeError, "Descent: eta must be a real number"),
    (lambda: flux.Descent(True), TypeError, "eta must be a real number"),
    (lambda: flux.Adam(float("nan")), TypeError, "Adam: eta must be a real number"),
    (lambda: flux.Adam(beta=(0.9, 1.0)), ValueError, r"Adam: each of beta must lie in \[0, 1\)"),
    (lambda: flux.Adam(beta=(-0.1, 0.9)), ValueError, "each of beta"),
    (lambda: flux.Adam(beta=0.9), TypeError, "Adam: beta must be a pair"),
    (lambda: flux.Lion(beta=(0.9, 0.9, 0.9)), ValueError, "Lion: beta must be a pair"),
    (lambda: flux.AdamW(epsilon=-1e-8), ValueError, "AdamW: epsilon cannot be negative"),
    (lambda: flux.AdamW(lambd=None), TypeError, "AdamW: lambd must be a real number"),
    (lambda: flux.Momentum(rho=1.5), ValueError, r"Momentum: rho must lie in \[0, 1\]"),
    (lambda: flux.AdaDelta(rho=-0.5), ValueError, "AdaDelta: rho"),
    (lambda: flux.ClipGrad(-1.0), ValueError, "ClipGrad: delta cannot be negative"),
    (lambda: flux.ClipNorm(-1.0), ValueError, "ClipNorm: omega cannot be negative"),
    (lambda: flux.ClipNorm(1.0, "two"), TypeError, "ClipNorm: p must be a real number"),
    (lambda: flux.WeightDecay([0.1]), TypeError, "WeightDecay: lambd must be a real number"),
]


@pytest.mark.parametrize("make, error, message", BAD_ARGUMENTS)
def test_rule_arguments_are_checked(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_adjust_checks_the_new_values_and_reaches_implicit_states():
    p = flux.param(np.ones(2))
    opt = flux.Descent(0.5)
    flux.update(opt, flux.params(p), flux.gradient(lambda: flux.sum(p), flux.params(p)))
    with pytest.raises(ValueError, match="negative"):
        flux.adjust(opt, -1.0)
    flux.adjust(opt, 0.25)
    flux.update(opt, flux.params(p), flux.gradient(lambda: flux.sum(p), flux.params(p)))
    np.testing.assert_array_equal(np.asarray(p), [0.25, 0.25])
    state = flux.setup(flux.Adam(), p)
    with pytest.raises(ValueError, match="beta"):
        flux.adjust(state, beta=(1.0, 0.5))
