"""W2: the Higham & Higham 2-2-3-2 sigmoid network, one sample per SGD step.

``Chain(Dense(2, 2, σ), Dense(2, 3, σ), Dense(3, 2, σ))``, the hand-written loss
``0.5 * sum((y - model(x))^2)``, ``Descent(0.05)``, the paper's ten points in two classes, samples
drawn at random (seeded, the same sequence for every peer), float32. Also reported: the time for
10^6 steps projected from the median.
"""

import functools

import numpy as np

from bench.harness import Runner
from bench.workloads.common import Impl, Target, change, per_sample_cases

NAME = "W2"
TITLE = "Higham 2-2-3-2 sigmoid network, one sample per Descent(0.05) step"
ETA = 0.05
STEPS = {"full": 10_000, "quick": 2_000, "smoke": 20}
X = np.array([[0.1, 0.3, 0.1, 0.6, 0.4, 0.6, 0.5, 0.9, 0.4, 0.7],
              [0.1, 0.4, 0.5, 0.9, 0.2, 0.3, 0.6, 0.2, 0.4, 0.6]], dtype=np.float32)
Y = np.array([[1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
              [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]], dtype=np.float32)
SIZES = [(2, 2), (2, 3), (3, 2)]  # (in, out) of each layer
NAMES = [f"{p}{i}" for i in range(3) for p in "Wb"]


def cases(scale):
    out = per_sample_cases(STEPS[scale], scale)
    out[0].params["project_steps"] = 10**6
    return out


def setup(case):
    rng = np.random.default_rng(0)
    init = {}
    for i, (n_in, n_out) in enumerate(SIZES):
        init[f"W{i}"] = (0.5 * rng.standard_normal((n_out, n_in))).astype(np.float32)
        init[f"b{i}"] = (0.5 * rng.standard_normal(n_out)).astype(np.float32)
    order = rng.integers(0, X.shape[1], size=max(case.steps, case.check_steps))
    return dict(init=init, xs=np.ascontiguousarray(X.T[order]), ys=np.ascontiguousarray(Y.T[order]))


def _samples(problem, steps):
    return list(zip(problem["xs"][:steps], problem["ys"][:steps]))


def _pyflux_model(problem):
    import pyflux as flux
    init = problem["init"]
    return flux.Chain(*(flux.Dense(init[f"W{i}"], init[f"b{i}"], flux.σ) for i in range(3)))


def _model_result(problem, model):
    return lambda: change({n: np.asarray(getattr(model[int(n[1])], "weight" if n[0] == "W" else "bias"))
                           for n in NAMES}, problem["init"])


def build_pyflux(problem, steps, capture=False):
    import pyflux as flux
    model, data, opt = _pyflux_model(problem), _samples(problem, steps), flux.Descent(ETA)

    def loss(x, y):
        return 0.5 * flux.sum((y - model(x)) ** 2)

    ps = flux.params(model)
    return Runner(run=lambda: flux.train(loss, ps, data, opt, capture=capture), result=_model_result(problem, model))


def build_pyflux_explicit(problem, steps):
    import pyflux as flux
    model, data = _pyflux_model(problem), _samples(problem, steps)
    state = flux.setup(flux.Descent(ETA), model)

    def loss(m, x, y):
        return 0.5 * flux.sum((y - m(x)) ** 2)

    return Runner(run=lambda: flux.train(loss, model, data, state), result=_model_result(problem, model))


def build_numpy(problem, steps):
    p = {n: a.copy() for n, a in problem["init"].items()}
    W0, b0, W1, b1, W2, b2 = (p[n] for n in NAMES)
    data = _samples(problem, steps)
    eta = np.float32(ETA)

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def run():
        for x, y in data:
            a1 = sigmoid(W0 @ x + b0)
            a2 = sigmoid(W1 @ a1 + b1)
            a3 = sigmoid(W2 @ a2 + b2)
            d3 = a3 * (1 - a3) * (a3 - y)        # ∂loss/∂z3, with σ' = a (1 - a)
            d2 = a2 * (1 - a2) * (W2.T @ d3)
            d1 = a1 * (1 - a1) * (W1.T @ d2)
            W2[...] -= eta * np.outer(d3, a2)
            b2[...] -= eta * d3
            W1[...] -= eta * np.outer(d2, a1)
            b1[...] -= eta * d2
            W0[...] -= eta * np.outer(d1, x)
            b0[...] -= eta * d1

    return Runner(run=run, result=lambda: change(p, problem["init"]))


def build_torch(problem, steps):
    import torch
    init = problem["init"]
    layers = []
    for i, (n_in, n_out) in enumerate(SIZES):
        layer = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(init[f"W{i}"]))
            layer.bias.copy_(torch.from_numpy(init[f"b{i}"]))
        layers += [layer, torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=ETA)
    xs, ys = torch.from_numpy(problem["xs"][:steps]), torch.from_numpy(problem["ys"][:steps])
    data = list(zip(xs.unbind(0), ys.unbind(0)))

    def run():
        for x, y in data:
            opt.zero_grad()
            loss = 0.5 * ((y - model(x)) ** 2).sum()
            loss.backward()
            opt.step()

    def result():
        lin = [model[0], model[2], model[4]]
        return change({n: getattr(lin[int(n[1])], "weight" if n[0] == "W" else "bias").detach().numpy()
                       for n in NAMES}, init)

    return Runner(run=run, result=result)


def _jax_step():
    import jax
    import jax.numpy as jnp

    def loss(p, x, y):
        a = x
        for W, b in p:
            a = jax.nn.sigmoid(W @ a + b)
        return 0.5 * jnp.sum((y - a) ** 2)

    def step(p, x, y):
        g = jax.grad(loss)(p, x, y)
        return jax.tree_util.tree_map(lambda a, ga: a - ETA * ga, p, g)

    return step


def _jax_params(problem):
    import jax
    init = problem["init"]
    return jax.device_put([(init[f"W{i}"], init[f"b{i}"]) for i in range(3)])


def _jax_result(problem, state):
    return lambda: change({f"{k}{i}": np.asarray(state["p"][i][j]) for i in range(3) for j, k in enumerate("Wb")},
                          problem["init"])


def build_jax_jit(problem, steps):
    import jax
    step = jax.jit(_jax_step())
    state = {"p": _jax_params(problem)}
    data = jax.device_put(_samples(problem, steps))

    def run():
        p = state["p"]
        for x, y in data:
            p = step(p, x, y)
        state["p"] = jax.block_until_ready(p)

    return Runner(run=run, result=_jax_result(problem, state))


def build_jax_scan(problem, steps):
    import jax
    step = _jax_step()

    @jax.jit
    def epoch(p, xs, ys):
        return jax.lax.scan(lambda p, xy: (step(p, *xy), None), p, (xs, ys))[0]

    state = {"p": _jax_params(problem)}
    xs, ys = jax.device_put((problem["xs"][:steps], problem["ys"][:steps]))

    def run():
        state["p"] = jax.block_until_ready(epoch(state["p"], xs, ys))

    return Runner(run=run, result=_jax_result(problem, state))


def build_autograd(problem, steps):
    import autograd
    import autograd.numpy as anp

    def loss(p, x, y):
        a = x
        for W, b in p:
            a = 1 / (1 + anp.exp(-(anp.dot(W, a) + b)))
        return 0.5 * anp.sum((y - a) ** 2)

    grad = autograd.grad(loss)
    init = problem["init"]
    p = [(init[f"W{i}"].copy(), init[f"b{i}"].copy()) for i in range(3)]
    data = _samples(problem, steps)

    def run():
        for x, y in data:
            for (W, b), (gW, gb) in zip(p, grad(p, x, y)):
                W[...] -= ETA * gW
                b[...] -= ETA * gb

    return Runner(run=run, result=lambda: change({f"{k}{i}": p[i][j] for i in range(3) for j, k in enumerate("Wb")},
                                                 init))


IMPLS = [
    Impl("pyflux", "general", build_pyflux),
    Impl("pyflux", "general explicit", build_pyflux_explicit),
    Impl("pyflux", "captured", functools.partial(build_pyflux, capture=True)),
    Impl("numpy", "by hand", build_numpy),
    Impl("torch", "", build_torch),
    Impl("jax", "jit", build_jax_jit),
    Impl("jax", "scan", build_jax_scan),
    Impl("autograd", "", build_autograd),
]


def targets(case):
    if case.params.get("short"):
        return []
    return [Target("pyflux general", "max", 10.0, text="general path at most 10 us/step"),
            Target("pyflux captured", "ratio", 0.7, peer="jax scan", text="captured path at most 0.7x JAX lax.scan"),
            Target("pyflux captured", "first", 0.010, text="captured path's first call under 10 ms")]
