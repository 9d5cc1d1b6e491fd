"""W4: the Keras book's MNIST model, 784-512-10 (relu, then logits), RMSProp(0.001), batch 128, one
epoch of the 60,000 training images (469 steps, the last on 96 images), then test accuracy.

Needs the real MNIST (skips otherwise, except in the smoke run, which uses 256 random images).
The quick scale runs the first 100 batches and projects the epoch. The test accuracy is read after
the first run, i.e. after exactly one epoch from the shared initial weights. With the real MNIST,
pyflux's peak memory over a full epoch is measured too, in a fresh process (:mod:`bench.memory`).
"""

import functools

from bench import memory
from bench.data import images, mnist, mnist_dir
from bench.workloads import mlp
from bench.workloads.common import Impl, Target

NAME = "W4"
TITLE = "MNIST 784-512-10 relu, logitcrossentropy, RMSProp(0.001), batch 128, one epoch"
SPEC = mlp.Spec(sizes=(784, 512, 10), acts=("relu", "identity"), rule=("rmsprop", 0.001, 0.9, 1e-8))
BATCH, EPOCH = 128, 60_000
IMAGES = {"full": EPOCH, "quick": 100 * BATCH, "smoke": 2 * BATCH}


def cases(scale):
    [case] = mlp.epoch_cases(IMAGES[scale], BATCH, EPOCH)
    case.params["real"] = scale != "smoke"
    return [case]


def setup(case):
    rows, labels, source = images(case.params["n"], real=case.params["real"])
    test = mnist("test") if case.params["real"] else None
    case.notes.append(f"data: {source}" + ("" if case.steps * BATCH >= EPOCH else ", epoch time projected"))
    problem = mlp.make_problem(SPEC, rows, labels, BATCH, test=test)
    problem["memory_folder"] = mnist_dir() if case.params["real"] else None
    return problem


def _with_memory(mode, problem, steps):
    """pyflux's runner, whose extras add the peak memory of an epoch in mode "general" or "captured"."""
    runner = mlp.build_pyflux(problem, steps, capture=mode == "captured")
    folder, extras = problem.get("memory_folder"), runner.extras
    if folder is None:
        return runner

    def with_memory():
        out = dict(extras() if extras else {})
        figures = memory.measure(mode, folder)
        if figures is not None:
            out.update(peak_memory=figures, peak_memory_ratio=figures["ratio"])
        return out

    runner.extras = with_memory
    return runner


IMPLS = [Impl("pyflux", mode, functools.partial(_with_memory, mode)) for mode in ("general", "captured")] + \
    [impl for impl in mlp.IMPLS if impl.peer != "pyflux"]


def targets(case):
    return mlp.jit_targets() + [
        Target(f"pyflux {mode}", "extra", memory.LIMIT, field="peak_memory_ratio",
               text=f"epoch peak RSS at most {memory.LIMIT}x its budget")
        for mode in ("general", "captured")]
