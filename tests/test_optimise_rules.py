"""Every optimisation rule (pyflux/rules.py, csrc/kernels/optimisers.cpp) against its formula in numpy
over several steps in both training styles; chains, clipping, adjust, freeze/thaw and errors."""

import math

import numpy as np
import pytest
from flux_helpers import linear_layer, linear_mse_grads

import pyflux as flux

STEPS = 6


# --- numpy references: init(p) -> state (a dict), step(state, p, g, t) -> Δ, t counting from 1 ---

def ref_descent(eta=0.1):
    return lambda p: {}, lambda s, p, g, t: eta * g


def ref_momentum(eta=0.01, rho=0.9):
    def step(s, p, g, t):
        s["v"] = rho * s["v"] + eta * g
        return s["v"]
    return lambda p: {"v": np.zeros_like(p)}, step


def ref_nesterov(eta=0.001, rho=0.9):
    def step(s, p, g, t):
        delta = -rho**2 * s["v"] + (1 + rho) * eta * g
        s["v"] = rho * s["v"] - eta * g
        return delta
    return lambda p: {"v": np.zeros_like(p)}, step


def ref_rmsprop(eta=0.001, rho=0.9, eps=1e-8, centred=False):
    def step(s, p, g, t):
        s["s"] = rho * s["s"] + (1 - rho) * g**2
        if centred:
            s["a"] = rho * s["a"] + (1 - rho) * g
        return eta * g / (np.sqrt(s["s"] - s["a"] ** 2) + eps)
    return lambda p: {"s": np.zeros_like(p), "a": np.zeros_like(p)}, step


def _moments(s, g, b1, b2):
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g**2


def _mv(p):
    return {"m": np.zeros_like(p), "v": np.zeros_like(p)}


def ref_adam(eta=0.001, beta=(0.9, 0.999), eps=1e-8):
    b1, b2 = beta

    def step(s, p, g, t):
        _moments(s, g, b1, b2)
        return eta * (s["m"] / (1 - b1**t)) / (np.sqrt(s["v"] / (1 - b2**t)) + eps)
    return _mv, step


def ref_adamw(eta=0.001, beta=(0.9, 0.999), lambd=0.0, eps=1e-8, couple=True):
    b1, b2 = beta

    def step(s, p, g, t):
        _moments(s, g, b1, b2)
        u = (s["m"] / (1 - b1**t)) / (np.sqrt(s["v"] / (1 - b2**t)) + eps)
        return eta * (u + lambd * p) if couple else eta * u + lambd * p
    return _mv, step


def ref_radam(eta=0.001, beta=(0.9, 0.999), eps=1e-8):
    b1, b2 = beta
    rho_inf = 2 / (1 - b2) - 1

    def step(s, p, g, t):
        _moments(s, g, b1, b2)
        mhat, vhat = s["m"] / (1 - b1**t), s["v"] / (1 - b2**t)
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho > 4:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            return eta * r * mhat / (np.sqrt(vhat) + eps)
        return eta * mhat
    return _mv, step


def ref_adamax(eta=0.001, beta=(0.9, 0.999), eps=1e-8):
    b1, b2 = beta

    def step(s, p, g, t):
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["u"] = np.maximum(b2 * s["u"], np.abs(g))
        return eta / (1 - b1**t) * s["m"] / (s["u"] + eps)
    return lambda p: {"m": np.zeros_like(p), "u": np.zeros_like(p)}, step


def ref_adagrad(eta=0.1, eps=1e-8):
    def step(s, p, g, t):
        s["acc"] = s["acc"] + g**2
        return eta * g / (np.sqrt(s["acc"]) + eps)
    return lambda p: {"acc": np.full_like(p, eps)}, step


def ref_adadelta(rho=0.9, eps=1e-8):
    def step(s, p, g, t):
        s["acc"] = rho * s["acc"] + (1 - rho) * g**2
        delta = g * np.sqrt(s["dacc"] + eps) / np.sqrt(s["acc"] + eps)
        s["dacc"] = rho * s["dacc"] + (1 - rho) * delta**2
        return delta
    return lambda p: {"acc": np.zeros_like(p), "dacc": np.zeros_like(p)}, step


def ref_amsgrad(eta=0.001, beta=(0.9, 0.999), eps=1e-8):
    b1, b2 = beta

    def step(s, p, g, t):
        _moments(s, g, b1, b2)
        s["vmax"] = np.maximum(s["vmax"], s["v"])
        return eta * s["m"] / (np.sqrt(s["vmax"]) + eps)
    return lambda p: {k: np.full_like(p, eps) for k in ("m", "v", "vmax")}, step


def ref_nadam(eta=0.001, beta=(0.9, 0.999), eps=1e-8):
    b1, b2 = beta

    def step(s, p, g, t):
        _moments(s, g, b1, b2)
        num = b1 * s["m"] / (1 - b1 * b1**t) + (1 - b1) * g / (1 - b1**t)
        return eta * num / (np.sqrt(b2 * s["v"] / (1 - b2**t)) + eps)
    return _mv, step


def ref_oadam(eta=0.001, beta=(0.5, 0.9), eps=1e-8):
    b1, b2 = beta

    def step(s, p, g, t):
        _moments(s, g, b1, b2)
        previous = s["term"]
        s["term"] = eta * (s["m"] / (1 - b1**t)) / (np.sqrt(s["v"] / (1 - b2**t)) + eps)
        return 2 * s["term"] - previous
    return lambda p: {**_mv(p), "term": np.zeros_like(p)}, step


def ref_lion(eta=0.001, beta=(0.9, 0.999)):
    b1, b2 = beta

    def step(s, p, g, t):
        s["m"] = b2 * g + (1 - b2) * s["m"]
        return eta * np.sign((b2 - b1) * g + b1 * s["m"])
    return lambda p: {"m": np.zeros_like(p)}, step


def ref_clipgrad(delta=10.0):
    return lambda p: {}, lambda s, p, g, t: np.clip(g, -delta, delta)


def ref_clipnorm(omega=10.0, order=2):
    def step(s, p, g, t):
        return g * min(omega / np.linalg.norm(g.ravel(), order), 1.0)
    return lambda p: {}, step


def ref_weightdecay(lambd=5e-4):
    return lambda p: {}, lambda s, p, g, t: g + lambd * p


def ref_signdecay(lambd=1e-3):
    return lambda p: {}, lambda s, p, g, t: g + lambd * np.sign(p)


def ref_chain(*refs):
    def init(p):
        return [init_k(p) for init_k, _ in refs]

    def step(s, p, g, t):
        for state, (_, step_k) in zip(s, refs):
            g = step_k(state, p, g, t)
        return g
    return init, step


RULES = [
    pytest.param(lambda: flux.Descent(0.05), ref_descent(0.05), id="Descent"),
    pytest.param(lambda: flux.Momentum(0.05), ref_momentum(0.05), id="Momentum"),
    pytest.param(lambda: flux.Momentum(0.02, 0.5), ref_momentum(0.02, 0.5), id="Momentum-rho"),
    pytest.param(lambda: flux.Nesterov(0.05), ref_nesterov(0.05), id="Nesterov"),
    pytest.param(lambda: flux.Nesterov(0.02, 0.7), ref_nesterov(0.02, 0.7), id="Nesterov-rho"),
    pytest.param(lambda: flux.RMSProp(0.01), ref_rmsprop(0.01), id="RMSProp"),
    pytest.param(lambda: flux.RMSProp(0.01, 0.8, 1e-6, centred=True), ref_rmsprop(0.01, 0.8, 1e-6, True),
                 id="RMSProp-centred"),
    pytest.param(lambda: flux.Adam(0.02), ref_adam(0.02), id="Adam"),
    pytest.param(lambda: flux.AdamW(0.02, (0.9, 0.99), 0.1), ref_adamw(0.02, (0.9, 0.99), 0.1), id="AdamW"),
    pytest.param(lambda: flux.AdamW(0.02, (0.9, 0.99), 0.1, couple=False),
                 ref_adamw(0.02, (0.9, 0.99), 0.1, couple=False), id="AdamW-decoupled"),
    pytest.param(lambda: flux.RAdam(0.02), ref_radam(0.02), id="RAdam"),
    # With β2 = 0.9, ρt passes 4 at step 5: both branches are taken within STEPS.
    pytest.param(lambda: flux.RAdam(0.02, (0.8, 0.9)), ref_radam(0.02, (0.8, 0.9)), id="RAdam-rectified"),
    pytest.param(lambda: flux.AdaMax(0.02), ref_adamax(0.02), id="AdaMax"),
    pytest.param(lambda: flux.AdaGrad(0.05), ref_adagrad(0.05), id="AdaGrad"),
    pytest.param(lambda: flux.AdaGrad(0.05, 0.5), ref_adagrad(0.05, 0.5), id="AdaGrad-eps"),
    pytest.param(lambda: flux.AdaDelta(), ref_adadelta(), id="AdaDelta"),
    pytest.param(lambda: flux.AdaDelta(0.5, 1e-3), ref_adadelta(0.5, 1e-3), id="AdaDelta-custom"),
    pytest.param(lambda: flux.AMSGrad(0.02), ref_amsgrad(0.02), id="AMSGrad"),
    pytest.param(lambda: flux.AMSGrad(0.02, (0.8, 0.9), 1e-3), ref_amsgrad(0.02, (0.8, 0.9), 1e-3), id="AMSGrad-eps"),
    pytest.param(lambda: flux.NAdam(0.02), ref_nadam(0.02), id="NAdam"),
    pytest.param(lambda: flux.OAdam(0.02), ref_oadam(0.02), id="OAdam"),
    pytest.param(lambda: flux.Lion(0.02), ref_lion(0.02), id="Lion"),
    pytest.param(lambda: flux.Lion(0.02, (0.5, 0.6)), ref_lion(0.02, (0.5, 0.6)), id="Lion-beta"),
    pytest.param(lambda: flux.ClipGrad(0.3), ref_clipgrad(0.3), id="ClipGrad"),
    pytest.param(lambda: flux.ClipNorm(0.5), ref_clipnorm(0.5), id="ClipNorm"),
    pytest.param(lambda: flux.ClipNorm(0.5, 1), ref_clipnorm(0.5, 1), id="ClipNorm-1"),
    pytest.param(lambda: flux.ClipNorm(0.2, math.inf), ref_clipnorm(0.2, math.inf), id="ClipNorm-inf"),
    pytest.param(lambda: flux.WeightDecay(0.1), ref_weightdecay(0.1), id="WeightDecay"),
    pytest.param(lambda: flux.SignDecay(0.1), ref_signdecay(0.1), id="SignDecay"),
    pytest.param(lambda: flux.OptimiserChain(), ref_descent(1.0), id="Chain-empty"),
    pytest.param(lambda: flux.OptimiserChain(flux.ClipGrad(0.2), flux.Descent(0.1)),
                 ref_chain(ref_clipgrad(0.2), ref_descent(0.1)), id="Chain-clip-descent"),
    pytest.param(lambda: flux.OptimiserChain(flux.WeightDecay(0.01), flux.ClipNorm(0.5), flux.Adam(0.02)),
                 ref_chain(ref_weightdecay(0.01), ref_clipnorm(0.5), ref_adam(0.02)), id="Chain-decay-clip-adam"),
    pytest.param(lambda: flux.OptimiserChain(flux.Momentum(0.05), flux.ClipGrad(0.01)),
                 ref_chain(ref_momentum(0.05), ref_clipgrad(0.01)), id="Chain-momentum-then-clip"),
    pytest.param(lambda: flux.OptimiserChain(flux.SignDecay(0.01), flux.OptimiserChain(flux.Nesterov(0.05))),
                 ref_chain(ref_signdecay(0.01), ref_chain(ref_nesterov(0.05))), id="Chain-nested"),
]


@pytest.fixture
def problem():
    rng = np.random.default_rng(11)
    return linear_layer(rng), rng.standard_normal((3, 6)), rng.standard_normal((2, 6))


def expected(problem, reference, steps=STEPS):
    layer, x, y = problem
    init, step = reference
    params = [np.array(layer.weight), np.array(layer.bias)]
    states = [init(p) for p in params]
    for t in range(1, steps + 1):
        grads = linear_mse_grads(*params, x, y)
        params = [p - step(s, p, g, t) for p, s, g in zip(params, states, grads)]
    return params


def assert_layer(layer, want, rtol=1e-10):
    np.testing.assert_allclose(np.asarray(layer.weight), want[0], rtol=rtol, atol=1e-14)
    np.testing.assert_allclose(np.asarray(layer.bias), want[1], rtol=rtol, atol=1e-14)


def loss(m, x, y):
    return flux.mse(m(x), y)


@pytest.mark.parametrize("make_rule, reference", RULES)
def test_implicit_update_follows_the_formula(problem, make_rule, reference):
    layer, x, y = problem
    want = expected(problem, reference)
    ps, rule = flux.params(layer), make_rule()
    for _ in range(STEPS):
        flux.update(rule, ps, flux.gradient(lambda: loss(layer, x, y), ps))
    assert_layer(layer, want)


@pytest.mark.parametrize("make_rule, reference", RULES)
def test_implicit_train_follows_the_formula(problem, make_rule, reference):
    layer, x, y = problem
    want = expected(problem, reference)
    flux.train(lambda x, y: loss(layer, x, y), flux.params(layer), [(x, y)] * STEPS, make_rule())
    assert_layer(layer, want)


@pytest.mark.parametrize("make_rule, reference", RULES)
def test_explicit_update_follows_the_formula(problem, make_rule, reference):
    layer, x, y = problem
    want = expected(problem, reference)
    state = flux.setup(make_rule(), layer)
    for _ in range(STEPS):
        grads = flux.gradient(lambda m: loss(m, x, y), layer)
        flux.update(state, layer, grads[0])
    assert_layer(layer, want)


@pytest.mark.parametrize("make_rule, reference", RULES)
def test_explicit_train_follows_the_formula(problem, make_rule, reference):
    layer, x, y = problem
    want = expected(problem, reference)
    flux.train(loss, layer, [(x, y)] * STEPS, flux.setup(make_rule(), layer))
    assert_layer(layer, want)


@pytest.mark.parametrize("make_rule, reference", RULES)
def test_float32_stays_float32_and_matches(problem, make_rule, reference):
    layer64, x, y = problem
    want = expected(problem, reference, steps=3)
    layer = flux.Dense(np.float32(layer64.weight), np.float32(layer64.bias))
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    flux.train(loss, layer, [(x32, y32)] * 3, flux.setup(make_rule(), layer))
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_allclose(np.asarray(layer.weight), want[0], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(np.asarray(layer.bias), want[1], rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("make_rule, reference", RULES)
def test_the_gradient_is_never_written(make_rule, reference):
    p = flux.param(np.array([[0.5, -2.0], [3.0, 0.0]]))
    g = np.array([[1.0, -4.0], [0.25, 2.0]])
    before = g.copy()
    rule = make_rule()
    state = rule.init(p)
    for _ in range(2):
        state = rule.apply(state, p, g)
    state, delta = rule.transform(state, p, g)
    np.testing.assert_array_equal(g, before)
    assert delta.shape == g.shape and delta.dtype == g.dtype


# --- defaults, positional order, printing ---------------------------------------------------------

DEFAULTS = [
    (flux.Descent(), "Descent(eta=0.1)"),
    (flux.Momentum(), "Momentum(eta=0.01, rho=0.9)"),
    (flux.Nesterov(), "Nesterov(eta=0.001, rho=0.9)"),
    (flux.RMSProp(), "RMSProp(eta=0.001, rho=0.9, epsilon=1e-08, centred=False)"),
    (flux.Adam(), "Adam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-08)"),
    (flux.AdamW(), "AdamW(eta=0.001, beta=(0.9, 0.999), lambd=0.0, epsilon=1e-08, couple=True)"),
    (flux.RAdam(), "RAdam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-08)"),
    (flux.AdaMax(), "AdaMax(eta=0.001, beta=(0.9, 0.999), epsilon=1e-08)"),
    (flux.AdaGrad(), "AdaGrad(eta=0.1, epsilon=1e-08)"),
    (flux.AdaDelta(), "AdaDelta(rho=0.9, epsilon=1e-08)"),
    (flux.AMSGrad(), "AMSGrad(eta=0.001, beta=(0.9, 0.999), epsilon=1e-08)"),
    (flux.NAdam(), "NAdam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-08)"),
    (flux.OAdam(), "OAdam(eta=0.001, beta=(0.5, 0.9), epsilon=1e-08)"),
    (flux.Lion(), "Lion(eta=0.001, beta=(0.9, 0.999))"),
    (flux.ClipGrad(), "ClipGrad(delta=10.0)"),
    (flux.ClipNorm(), "ClipNorm(omega=10.0, p=2, throw=True)"),
    (flux.WeightDecay(), "WeightDecay(lambd=0.0005)"),
    (flux.SignDecay(), "SignDecay(lambd=0.001)"),
    (flux.OptimiserChain(flux.ClipGrad(1.0), flux.Descent(0.1)), "OptimiserChain(ClipGrad(delta=1.0), Descent(eta=0.1))"),
]


@pytest.mark.parametrize("rule, text", DEFAULTS, ids=[text.split("(")[0] for _, text in DEFAULTS])
def test_defaults_and_printing(rule, text):
    assert repr(rule) == text
    assert repr(eval(text, vars(flux))) == text


def test_positional_order():
    assert repr(flux.Momentum(0.1, 0.5)) == "Momentum(eta=0.1, rho=0.5)"
    assert repr(flux.AdamW(0.1, (0.8, 0.9), 0.01, 1e-6)) == \
        "AdamW(eta=0.1, beta=(0.8, 0.9), lambd=0.01, epsilon=1e-06, couple=True)"
    assert repr(flux.AdaDelta(0.5, 1e-4)) == "AdaDelta(rho=0.5, epsilon=0.0001)"
    assert repr(flux.ClipNorm(1.0, 1, throw=False)) == "ClipNorm(omega=1.0, p=1, throw=False)"
    assert flux.RMSProp(centered=True).centred and flux.Lion(beta=[0.1, 0.2]).beta == (0.1, 0.2)


@pytest.mark.parametrize("make", [flux.Descent, flux.Momentum, flux.Nesterov, flux.RMSProp, flux.Adam, flux.AdamW,
                                  flux.RAdam, flux.AdaMax, flux.AdaGrad, flux.AMSGrad, flux.NAdam, flux.OAdam,
                                  flux.Lion])
def test_negative_learning_rate_is_refused(make):
    with pytest.raises(ValueError, match="negative"):
        make(-0.1)
    with pytest.raises(ValueError, match="negative"):
        make(eta=-1e-3)


# --- clipping --------------------------------------------------------------------------------------

def test_clipnorm_is_per_array_and_leaves_small_gradients():
    p = flux.param(np.zeros(2))
    state, d = flux.ClipNorm(5.0).transform(None, p, np.array([3.0, 4.0]))
    np.testing.assert_allclose(d, [3.0, 4.0])
    _, d = flux.ClipNorm(1.0).transform(None, p, np.array([3.0, 4.0]))
    np.testing.assert_allclose(d, [0.6, 0.8])
    _, d = flux.ClipNorm(1.0).transform(None, p, np.zeros(2))
    np.testing.assert_array_equal(d, [0.0, 0.0])


def test_clipnorm_non_finite_norm():
    p = flux.param(np.ones(3))
    with pytest.raises(ValueError, match="norm"):
        flux.update(flux.ClipNorm(), flux.params(p), flux.gradient(lambda: flux.sum(p * np.inf), flux.params(p)))
    np.testing.assert_array_equal(np.asarray(p), np.ones(3))
    _, d = flux.ClipNorm(1.0, throw=False).transform(None, p, np.array([np.inf, 1.0, 0.0]))
    assert np.isnan(d[0]) and not d[1:].any()  # min(omega / Inf, 1) = 0, as in Flux


def test_clipgrad_in_a_chain_limits_the_step():
    p = flux.param(np.zeros(3))
    rule = flux.OptimiserChain(flux.ClipGrad(0.5), flux.Descent(1.0))
    rule.apply(rule.init(p), p, np.array([-3.0, 0.25, 7.0]))
    np.testing.assert_allclose(np.asarray(p), [0.5, -0.25, -0.5])


# --- adjust ----------------------------------------------------------------------------------------

def test_adjust_eta_in_a_state_tree_keeps_momenta(problem):
    layer, x, y = problem
    state = flux.setup(flux.Momentum(0.05), layer)
    flux.train(loss, layer, [(x, y)] * 2, state)
    velocity = state.weight.state["v"].copy()
    assert flux.adjust(state, 0.01) is None
    assert state.weight.rule.eta == 0.01 and state.bias.rule.eta == 0.01
    np.testing.assert_array_equal(state.weight.state["v"], velocity)
    W, b = np.array(layer.weight), np.array(layer.bias)
    flux.update(state, layer, flux.gradient(lambda m: loss(m, x, y), layer)[0])
    gW = linear_mse_grads(W, b, x, y)[0]
    np.testing.assert_allclose(state.weight.state["v"], 0.9 * velocity + 0.01 * gW, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(layer.weight), W - state.weight.state["v"], rtol=1e-10)


def test_adjust_keywords_and_unknown_names():
    layer = flux.Dense(np.ones((2, 3)), np.zeros(2))
    state = flux.setup(flux.Adam(), layer)
    flux.adjust(state, beta=(0.8, 0.99), rho=0.5, nonsense=3)
    assert repr(state.weight.rule) == "Adam(eta=0.001, beta=(0.8, 0.99), epsilon=1e-08)"
    flux.adjust(state, eta=0.1, epsilon=1e-6)
    assert repr(state.bias.rule) == "Adam(eta=0.1, beta=(0.8, 0.99), epsilon=1e-06)"
    with pytest.raises(ValueError, match="negative"):
        flux.adjust(state, -1.0)


def test_adjust_a_subtree_changes_only_that_part():
    model = flux.Chain(flux.Dense(3, 4), flux.Dense(4, 2))
    state = flux.setup(flux.Descent(0.1), model)
    flux.adjust(state.layers[1], 0.03)
    assert state.layers[0].weight.rule.eta == 0.1 and state.layers[1].weight.rule.eta == 0.03
    assert state.layers[1].bias.rule.eta == 0.03


def test_adjust_special_cases():
    layer = flux.Dense(np.ones((2, 3)), np.zeros(2))
    state = flux.setup(flux.OptimiserChain(flux.ClipGrad(1.0), flux.AdaDelta(), flux.RMSProp(centred=True)), layer)
    flux.adjust(state, 0.5, rho=0.7, delta=2.0, centred=False)
    clip, adadelta, rmsprop = state.weight.rule.rules
    assert clip.delta == 2.0 and adadelta.rho == 0.7 and not hasattr(adadelta, "eta")
    assert rmsprop.eta == 0.5 and rmsprop.rho == 0.7 and rmsprop.centred
    state = flux.setup(flux.AdamW(), layer)
    flux.adjust(state, lambd=0.1, couple=False)
    assert repr(state.weight.rule) == "AdamW(eta=0.001, beta=(0.9, 0.999), lambd=0.1, epsilon=1e-08, couple=False)"


def test_adjust_an_implicit_rule_in_place(problem):
    layer, x, y = problem
    want = expected(problem, ref_descent(0.05), steps=2)
    ps, opt = flux.params(layer), flux.Descent(1.0)
    flux.adjust(opt, 0.05)
    assert opt.eta == 0.05
    flux.train(lambda x, y: loss(layer, x, y), ps, [(x, y)] * 2, opt)
    assert_layer(layer, want)
    chain = flux.OptimiserChain(flux.WeightDecay(), flux.Adam())
    flux.adjust(chain, 0.2, lambd=0.1)
    assert repr(chain) == "OptimiserChain(WeightDecay(lambd=0.1), Adam(eta=0.2, beta=(0.9, 0.999), epsilon=1e-08))"


# --- freeze / thaw ---------------------------------------------------------------------------------

def test_freeze_skips_leaves_until_thawed():
    rng = np.random.default_rng(2)
    model = flux.Chain(flux.Dense(rng.standard_normal((4, 3)), rng.standard_normal(4), flux.tanh),
                       flux.Dense(rng.standard_normal((2, 4)), rng.standard_normal(2)))
    x, y = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
    state = flux.setup(flux.Momentum(0.1), model)
    flux.freeze(state.layers[0])
    assert state.layers[0].weight.frozen and not state.layers[1].weight.frozen
    assert repr(state.layers[0].bias).endswith(", frozen=True)") and "frozen" not in repr(state.layers[1].bias)
    first = [np.array(model.layers[0].weight), np.array(model.layers[0].bias)]
    second = np.array(model.layers[1].weight)
    flux.update(state, model, flux.gradient(lambda m: loss(m, x, y), model)[0])
    flux.train(loss, model, [(x, y)] * 2, state)
    np.testing.assert_array_equal(np.asarray(model.layers[0].weight), first[0])
    np.testing.assert_array_equal(np.asarray(model.layers[0].bias), first[1])
    assert not state.layers[0].weight.state["v"].any()
    assert not np.array_equal(np.asarray(model.layers[1].weight), second)
    flux.thaw(state)
    assert not any(leaf.frozen for leaf in (state.layers[0].weight, state.layers[1].bias))
    flux.train(loss, model, [(x, y)], state)
    assert not np.array_equal(np.asarray(model.layers[0].weight), first[0])


def test_freeze_a_single_leaf_and_a_param_model():
    p = flux.param(np.ones(2))
    state = flux.setup(flux.Descent(0.5), p)
    flux.freeze(state)
    flux.update(state, p, np.ones(2))
    np.testing.assert_array_equal(np.asarray(p), [1.0, 1.0])
    flux.thaw(state)
    flux.update(state, p, np.ones(2))
    np.testing.assert_array_equal(np.asarray(p), [0.5, 0.5])


@pytest.mark.parametrize("function", [flux.freeze, flux.thaw, flux.adjust])
def test_freeze_thaw_adjust_refuse_a_model(function):
    model = flux.Chain(flux.Dense(2, 2))
    with pytest.raises(TypeError, match="setup"):
        function(model)
    with pytest.raises(TypeError, match="setup"):
        function(model.layers[0].weight)
    if function is not flux.adjust:
        with pytest.raises(TypeError, match="setup"):
            function(flux.Adam())


# --- errors ----------------------------------------------------------------------------------------

def test_chain_refuses_non_rules():
    with pytest.raises(TypeError, match="OptimiserChain"):
        flux.OptimiserChain(flux.Adam(), 0.1)


def test_state_arrays_are_checked():
    p = flux.param(np.ones(3))
    with pytest.raises(TypeError, match="Momentum.*init"):
        flux.Momentum().apply(np.zeros(3), p, np.ones(3))
    with pytest.raises(ValueError, match="Momentum: the optimiser state is for shape"):
        flux.Momentum().apply(flux.Momentum().init(flux.param(np.ones(4))), p, np.ones(3))
    with pytest.raises(ValueError, match="Momentum: the optimiser state holds float32"):
        flux.Momentum().apply(flux.Momentum().init(flux.param(np.ones(3, np.float32))), p, np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        flux.Momentum().apply(flux.Momentum().init(p), p, np.ones(4))
    with pytest.raises(ValueError, match="output"):
        flux.ClipGrad().apply(None, p, np.ones(3), np.zeros(2))
