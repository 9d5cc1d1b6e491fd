"""W6: inference of the 784-512-10 relu model at batch 1 (us per call) and batch 1024 (GFLOP/s).

Batch 1 is a single image ``(784,)``; a batch is ``(784, B)`` features x batch (rows ``(B, 784)`` for
PyTorch). Each call returns the logits as the peer's array; a run makes ``steps`` calls.
"""

import numpy as np

from bench.data import synthetic
from bench.harness import Runner
from bench.workloads import mlp
from bench.workloads.common import US_PER_CALL, Case, Impl, Target, gflops, glorot

NAME = "W6"
TITLE = "inference of MNIST 784-512-10 relu"
SPEC = mlp.Spec(sizes=(784, 512, 10), acts=("relu", "identity"), rule=())
BATCHES = {"full": [(1, 2000), (1024, 10)], "quick": [(1, 500), (1024, 5)], "smoke": [(1, 1), (64, 1)]}


def cases(scale):
    out = []
    for batch, steps in BATCHES[scale]:
        flops = 2.0 * (784 * 512 + 512 * 10) * batch
        unit = US_PER_CALL if batch == 1 else gflops(flops)
        out.append(Case(f"batch {batch}", unit, steps=steps, check_steps=1, tol=1e-5,
                        params=dict(batch=batch, large=batch >= 1024)))
    return out


def setup(case):
    rng = np.random.default_rng(0)
    init = {"W0": glorot(rng, 512, 784), "b0": rng.uniform(-0.1, 0.1, 512).astype(np.float32),
            "W1": glorot(rng, 10, 512), "b1": rng.uniform(-0.1, 0.1, 10).astype(np.float32)}
    rows, _ = synthetic(case.params["batch"], seed=1)
    return dict(init=init, rows=rows)


def _runner(call, steps, to_numpy=np.asarray):
    box = {}

    def run():
        for _ in range(steps):
            box["y"] = call()
        box["y"] = to_numpy(box["y"])

    return Runner(run=run, result=lambda: {"logits": box["y"]})


def _features(problem):
    """One image as (784,), a batch as the (784, B) view of the rows."""
    rows = problem["rows"]
    return rows[0] if rows.shape[0] == 1 else rows.T


def build_pyflux(problem, steps):
    model, x = mlp.pyflux_model(SPEC, problem["init"]), _features(problem)
    return _runner(lambda: model(x), steps)


def build_numpy(problem, steps):
    params = [problem["init"][n] for n in ("W0", "b0", "W1", "b1")]
    x = _features(problem)
    return _runner(lambda: mlp.numpy_forward(SPEC, params, x)[-1], steps)


def build_torch(problem, steps):
    import torch
    model = mlp.torch_model(SPEC, problem["init"])
    rows = problem["rows"]
    x = torch.from_numpy(rows[0] if rows.shape[0] == 1 else rows)

    def call():
        with torch.inference_mode():
            return model(x)

    return _runner(call, steps, to_numpy=lambda y: y.numpy().T)


def build_jax(problem, steps):
    import jax
    init = problem["init"]
    params = jax.device_put([(init["W0"], init["b0"]), (init["W1"], init["b1"])])
    rows = problem["rows"]
    x = jax.device_put(rows[0] if rows.shape[0] == 1 else rows)
    forward = jax.jit(lambda p, x: mlp.jax_forward(SPEC, p, x if x.ndim == 1 else x.T))
    return _runner(lambda: forward(params, x).block_until_ready(), steps)


IMPLS = [
    Impl("pyflux", "", build_pyflux),
    Impl("numpy", "by hand", build_numpy),
    Impl("torch", "", build_torch),
    Impl("jax", "jit", build_jax),
]


def targets(case):
    if case.params["batch"] == 1:
        return [Target("pyflux", "max", 15.0, text="batch 1 at most 15 us")]
    if case.params["batch"] == 1024:
        return [Target("pyflux", "min", 200.0, text="batch 1024 at least 200 GFLOP/s")]
    return []
