"""W1: the lecture's linear regression, one sample per SGD step.

Model ``W x + b`` with W (2, 5), b (2,); loss ``sum((y - (W x + b))^2)``; ``Descent(0.001)``; the data
of ``pyflux/examples/linear_regression.py`` (10,000 samples) in float32. A run is one pass of
``steps`` samples, each already in the peer's own array type (the setup, untimed).
"""

import functools

import numpy as np

from bench.harness import Runner
from bench.workloads.common import Impl, Target, change, per_sample_cases

NAME = "W1"
TITLE = "linear regression W (2x5), b (2), one sample per Descent(0.001) step"
ETA = 0.001
STEPS = {"full": 10_000, "quick": 2_000, "smoke": 20}


def cases(scale):
    return per_sample_cases(STEPS[scale], scale)


def setup(case):
    from pyflux.examples.linear_regression import make_data
    x, y = make_data(n=max(case.steps, case.check_steps), rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    return dict(x=x.astype(np.float32), y=y.astype(np.float32),
                init={"W": rng.random((2, 5)).astype(np.float32), "b": rng.random(2).astype(np.float32)})


def _result(problem, W, b):
    return lambda: change({"W": np.asarray(W()), "b": np.asarray(b())}, problem["init"])


def build_pyflux(problem, steps, capture=False):
    import pyflux as flux
    W, b = flux.param(problem["init"]["W"]), flux.param(problem["init"]["b"])
    data = list(zip(problem["x"][:steps], problem["y"][:steps]))
    ps, opt = flux.params(W, b), flux.Descent(ETA)

    def loss(x, y):
        return flux.sum((y - (W @ x + b)) ** 2)

    return Runner(run=lambda: flux.train(loss, ps, data, opt, capture=capture),
                  result=_result(problem, lambda: W, lambda: b))


def build_numpy(problem, steps):
    W, b = problem["init"]["W"].copy(), problem["init"]["b"].copy()
    data = list(zip(problem["x"][:steps], problem["y"][:steps]))
    eta = np.float32(ETA)

    def run():
        for x, y in data:
            r = y - (W @ x + b)          # loss = r·r
            gW = -2 * np.outer(r, x)     # ∂loss/∂W = -2 r xᵀ
            gb = -2 * r                  # ∂loss/∂b = -2 r
            W[...] -= eta * gW
            b[...] -= eta * gb

    return Runner(run=run, result=_result(problem, lambda: W, lambda: b))


def build_torch(problem, steps):
    import torch
    W = torch.tensor(problem["init"]["W"], requires_grad=True)
    b = torch.tensor(problem["init"]["b"], requires_grad=True)
    xs, ys = torch.from_numpy(problem["x"][:steps]), torch.from_numpy(problem["y"][:steps])
    data = list(zip(xs.unbind(0), ys.unbind(0)))
    opt = torch.optim.SGD([W, b], lr=ETA)

    def run():
        for x, y in data:
            opt.zero_grad()
            loss = ((y - (W @ x + b)) ** 2).sum()
            loss.backward()
            opt.step()

    return Runner(run=run, result=_result(problem, lambda: W.detach().numpy(), lambda: b.detach().numpy()))


def _jax_step():
    import jax
    import jax.numpy as jnp

    def loss(p, x, y):
        W, b = p
        return jnp.sum((y - (W @ x + b)) ** 2)

    def step(p, x, y):
        g = jax.grad(loss)(p, x, y)
        return jax.tree_util.tree_map(lambda a, ga: a - ETA * ga, p, g)

    return step


def build_jax_jit(problem, steps):
    import jax
    step = jax.jit(_jax_step())
    state = {"p": jax.device_put((problem["init"]["W"], problem["init"]["b"]))}
    data = jax.device_put(list(zip(problem["x"][:steps], problem["y"][:steps])))

    def run():
        p = state["p"]
        for x, y in data:
            p = step(p, x, y)
        state["p"] = jax.block_until_ready(p)

    return Runner(run=run, result=_result(problem, lambda: state["p"][0], lambda: state["p"][1]))


def build_jax_scan(problem, steps):
    import jax
    step = _jax_step()

    @jax.jit
    def epoch(p, X, Y):
        return jax.lax.scan(lambda p, xy: (step(p, *xy), None), p, (X, Y))[0]

    state = {"p": jax.device_put((problem["init"]["W"], problem["init"]["b"]))}
    X, Y = jax.device_put((problem["x"][:steps], problem["y"][:steps]))

    def run():
        state["p"] = jax.block_until_ready(epoch(state["p"], X, Y))

    return Runner(run=run, result=_result(problem, lambda: state["p"][0], lambda: state["p"][1]))


def build_autograd(problem, steps):
    import autograd
    import autograd.numpy as anp

    def loss(p, x, y):
        W, b = p
        return anp.sum((y - (anp.dot(W, x) + b)) ** 2)

    grad = autograd.grad(loss)
    W, b = problem["init"]["W"].copy(), problem["init"]["b"].copy()
    data = list(zip(problem["x"][:steps], problem["y"][:steps]))

    def run():
        for x, y in data:
            gW, gb = grad((W, b), x, y)
            W[...] -= ETA * gW
            b[...] -= ETA * gb

    return Runner(run=run, result=_result(problem, lambda: W, lambda: b))


IMPLS = [
    Impl("pyflux", "general", build_pyflux),
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
    return [Target("pyflux general", "max", 3.0, text="general path at most 3 us/step"),
            Target("pyflux captured", "ratio", 0.7, peer="jax scan", text="captured path at most 0.7x JAX lax.scan")]
