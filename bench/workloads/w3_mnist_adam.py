"""W3: the lecture's MNIST model, 784-40-10 (relu, then logits), Adam, one batch of 100 images.

The lecture writes softmax and crossentropy; pyflux's ``logitcrossentropy`` on the logits computes
the same loss stably, and every peer uses that form (see :mod:`bench.workloads.mlp`). A run takes
``steps`` Adam steps on the same batch. Real MNIST images when present, random ones otherwise.
"""

from bench.data import images
from bench.workloads import mlp
from bench.workloads.common import MS_PER_STEP, Case, Skip

NAME = "W3"
TITLE = "MNIST 784-40-10 relu, logitcrossentropy, Adam, batch 100"
SPEC = mlp.Spec(sizes=(784, 40, 10), acts=("relu", "identity"), rule=("adam", 0.001, (0.9, 0.999), 1e-8))
BATCH = 100
STEPS = {"full": 20, "quick": 10, "smoke": 2}


def cases(scale):
    return [Case(f"batch {BATCH}", MS_PER_STEP, steps=STEPS[scale], check_steps=min(3, STEPS[scale]), tol=1e-3,
                 params=dict(real=scale != "smoke"))]


def setup(case):
    try:
        rows, labels, source = images(BATCH, real=case.params["real"])
    except Skip:
        rows, labels, source = images(BATCH, real=False)
    case.notes.append(f"data: {source}")
    return mlp.make_problem(SPEC, rows, labels, BATCH)


IMPLS = mlp.IMPLS


def targets(case):
    return mlp.jit_targets()
