"""W4: the Keras book's MNIST model, 784-512-10 (relu, then logits), RMSProp(0.001), batch 128, one
epoch of the 60,000 training images (469 steps, the last on 96 images), then test accuracy.

Needs the real MNIST (skips otherwise, except in the smoke run, which uses 256 random images).
The quick scale runs the first 100 batches and projects the epoch. The test accuracy is read after
the first run, i.e. after exactly one epoch from the shared initial weights.
"""

from bench.data import images, mnist
from bench.workloads import mlp

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
    return mlp.make_problem(SPEC, rows, labels, BATCH, test=test)


IMPLS = mlp.IMPLS


def targets(case):
    return mlp.jit_targets()
