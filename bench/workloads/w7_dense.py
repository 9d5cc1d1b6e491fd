"""W7: one Dense layer ``y = relu(W x + b)``, W (out, in), x (in, B): forward, backward, and both.

- forward: the layer applied outside any gradient (inference);
- backward: given a recorded forward (made untimed, before each timed call), the gradients
  dW, db and dx for the output cotangent dy (dx too, as for a hidden layer);
- forward+backward: one gradient call from scratch.

pyflux and autograd differentiate the scalar ``sum(y * dy)`` (their gradient wants a scalar), which
costs one elementwise product and sum more than PyTorch's ``y.backward(dy)`` and JAX's ``vjp``.
JAX and autograd have no backward that can be timed apart from its forward, so they sit out the
backward rows; numpy's backward is written by hand from the saved output.
"""

import numpy as np

from bench.harness import Runner
from bench.workloads.common import US_PER_CALL, Case, Impl, glorot

NAME = "W7"
TITLE = "one Dense layer relu(W x + b): forward, backward, forward+backward"
SIZES = {  # (in, out, batch)
    "full": [(784, 512, 128), (512, 10, 128), (1024, 1024, 1024)],
    "quick": [(784, 512, 128), (512, 10, 128)],
    "smoke": [(16, 8, 4)],
}
PARTS = ("forward", "backward", "forward+backward")


def cases(scale):
    out = []
    for n_in, n_out, batch in SIZES[scale]:
        steps = 1 if scale == "smoke" else max(1, int(5e8 / (2.0 * n_in * n_out * batch)))  # about 10 ms
        for part in PARTS:
            out.append(Case(f"{n_in}->{n_out} batch {batch} {part}", US_PER_CALL,
                            steps=1 if part == "backward" else steps, check_steps=1, tol=1e-5,
                            params=dict(n_in=n_in, n_out=n_out, batch=batch, part=part,
                                        large=n_in * n_out * batch >= 1024**3,
                                        # one backward per run: more runs instead
                                        repeat_factor=5 if part == "backward" and scale != "smoke" else 1)))
    return out


def setup(case):
    p = case.params
    rng = np.random.default_rng(0)
    return dict(part=p["part"], W=glorot(rng, p["n_out"], p["n_in"]),
                b=rng.uniform(-0.1, 0.1, p["n_out"]).astype(np.float32),
                x=rng.standard_normal((p["n_in"], p["batch"]), dtype=np.float32),
                dy=rng.standard_normal((p["n_out"], p["batch"]), dtype=np.float32))


def _loop(call, steps, box):
    def run():
        for _ in range(steps):
            box["out"] = call()
    return run


def _runner(problem, steps, forward, both, record=None, backward=None, y_out=np.asarray,
            grads_out=lambda g: tuple(np.asarray(a) for a in g)):
    """The runner for the case's part; ``record()`` returns what ``backward(recorded)`` needs.
    ``y_out`` and ``grads_out`` turn the peer's results into numpy in the layout above."""
    box = {}
    part = problem["part"]
    if part == "forward":
        return Runner(run=_loop(forward, steps, box), result=lambda: {"y": y_out(box["out"])})

    def result():
        return dict(zip(("dW", "db", "dx"), grads_out(box["out"])))

    if part == "forward+backward":
        return Runner(run=_loop(both, steps, box), result=result)
    if backward is None:
        return None

    def prepare():
        box["recorded"] = record()

    def run():
        box["out"] = backward(box.pop("recorded"))

    return Runner(run=run, result=result, prepare=prepare)


def build_pyflux(problem, steps):
    import pyflux as flux
    from pyflux import _core
    layer = flux.Dense(problem["W"], problem["b"], flux.relu)
    x, dy = problem["x"], problem["dy"]
    xt = _core.Tensor(x, np.float32)

    def loss(m, x):
        return flux.sum(m(x) * dy)

    def both():
        g_layer, dx = flux.gradient(loss, layer, x)
        return g_layer.weight, g_layer.bias, dx

    def record():
        tape = _core.Tape([layer.weight, layer.bias, xt])
        with tape:
            value = loss(layer, xt)
        return tape, value

    def backward(recorded):
        tape, value = recorded
        return tape.gradient(value)

    return _runner(problem, steps, lambda: layer(x), both, record, backward)


def build_numpy(problem, steps):
    W, b, x, dy = problem["W"], problem["b"], problem["x"], problem["dy"]

    def forward():
        return np.maximum(W @ x + b[:, None], 0)

    def backward(y):
        dz = dy * (y > 0)                 # relu' from the saved output
        return dz @ x.T, dz.sum(axis=1), W.T @ dz

    return _runner(problem, steps, forward, lambda: backward(forward()), forward, backward)


def build_torch(problem, steps):
    import torch
    layer = torch.nn.Linear(*problem["W"].shape[::-1])
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(problem["W"]))
        layer.bias.copy_(torch.from_numpy(problem["b"]))
    # Batch-first, as PyTorch lays it out: x (B, in), y (B, out).
    x = torch.from_numpy(problem["x"].T.copy()).requires_grad_(True)
    dy = torch.from_numpy(problem["dy"].T.copy())

    def forward():
        with torch.inference_mode():
            return torch.relu(layer(x))

    def record():
        layer.weight.grad = layer.bias.grad = x.grad = None
        return torch.relu(layer(x))

    def backward(y):
        y.backward(dy)
        return layer.weight.grad, layer.bias.grad, x.grad

    def grads_out(g):
        dW, db, dx = (t.detach().numpy() for t in g)
        return dW, db, dx.T

    return _runner(problem, steps, forward, lambda: backward(record()), record, backward,
                   y_out=lambda y: y.numpy().T, grads_out=grads_out)


def build_jax(problem, steps):
    import jax
    W, b, x, dy = jax.device_put((problem["W"], problem["b"], problem["x"], problem["dy"]))

    def f(W, b, x):
        return jax.nn.relu(W @ x + b[:, None])

    forward = jax.jit(f)
    both = jax.jit(lambda W, b, x, dy: jax.vjp(f, W, b, x)[1](dy))
    return _runner(problem, steps, lambda: forward(W, b, x).block_until_ready(),
                   lambda: jax.block_until_ready(both(W, b, x, dy)))


def build_autograd(problem, steps):
    import autograd
    import autograd.numpy as anp
    if problem["part"] == "forward":
        return None  # the same numpy calls as numpy's row
    W, b, x, dy = problem["W"], problem["b"], problem["x"], problem["dy"]

    def loss(args):
        W, b, x = args
        return anp.sum(anp.maximum(anp.dot(W, x) + b[:, None], 0) * dy)

    grad = autograd.grad(loss)
    return _runner(problem, steps, None, lambda: grad((W, b, x)))


IMPLS = [
    Impl("pyflux", "", build_pyflux),
    Impl("numpy", "by hand", build_numpy),
    Impl("torch", "", build_torch),
    Impl("jax", "jit", build_jax),
    Impl("autograd", "", build_autograd),
]


def targets(case):
    return []
