"""W5: the Keras talk's sigmoid MLP, 784-512-128-10 (sigmoid, sigmoid, then logits), Adam, batch
256, one epoch of 60,000 images (235 steps).

Real MNIST images when present, random ones otherwise (the timing does not depend on the values).
The quick scale runs the first 40 batches and projects the epoch.
"""

from bench.data import images
from bench.workloads import mlp
from bench.workloads.common import Skip

NAME = "W5"
TITLE = "MNIST 784-512-128-10 sigmoid, logitcrossentropy, Adam, batch 256, one epoch"
SPEC = mlp.Spec(sizes=(784, 512, 128, 10), acts=("sigmoid", "sigmoid", "identity"),
                rule=("adam", 0.001, (0.9, 0.999), 1e-8))
BATCH, EPOCH = 256, 60_000
IMAGES = {"full": EPOCH, "quick": 40 * BATCH, "smoke": 2 * BATCH}


def cases(scale):
    [case] = mlp.epoch_cases(IMAGES[scale], BATCH, EPOCH)
    case.params["real"] = scale != "smoke"
    return [case]


def setup(case):
    try:
        rows, labels, source = images(case.params["n"], real=case.params["real"])
    except Skip:
        rows, labels, source = images(case.params["n"], real=False)
    case.notes.append(f"data: {source}" + ("" if case.steps * BATCH >= EPOCH else ", epoch time projected"))
    return mlp.make_problem(SPEC, rows, labels, BATCH)


IMPLS = mlp.IMPLS


def targets(case):
    return mlp.jit_targets()
