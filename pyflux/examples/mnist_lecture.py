"""The Flux lecture's MNIST model: one hidden layer of 40 relu units and a softmax output.

    model = Chain(Dense(28*28, 40, relu), Dense(40, 10), softmax)
    loss(x, y) = crossentropy(model(x), y)

trained with Adam (eta = 0.001) in the implicit style, ``train(loss, params(model), data, opt,
cb=throttle(...))`` once per epoch. The images are columns of X (784 x 60,000, pixels in [0, 1])
and the targets one-hot columns of Y (10 x 60,000); the test accuracy compares ``onecold`` of the
model's output with the 10,000 test labels.

The lecture trains on the whole training set as one batch (``data = [(X, Y)]``, one step per
epoch): ``batchsize=None`` does that, and 100 such steps reach about 91% test accuracy in about 15
seconds here. The default takes minibatches of 128 instead (``DataLoader((X, Y), batchsize=128,
shuffle=True)``), about 470 steps per epoch, and reaches about 95-96% in 5 epochs (a second or two).

The model ends in softmax because the lecture's loss is ``crossentropy`` on probabilities, which
adds a small eps inside the log. ``logitcrossentropy`` on the output of ``Chain(Dense(28*28, 40,
relu), Dense(40, 10))`` computes the same loss stably from the logits.

The data folder is the argument of ``main``, else $PYFLUX_MNIST, else ``../shared/data/mnist``;
without it ``main`` says so and returns.
"""

import time

import numpy as np

import pyflux as flux
from pyflux.examples import _plot
from pyflux.examples._cli import main as run_alone
from pyflux.examples._mnist import accuracy, prepare, show_predictions


def make_model(rng=None):
    init = flux.glorot_uniform(rng=rng or np.random.default_rng(0))
    return flux.Chain(flux.Dense(28 * 28, 40, flux.relu, init=init), flux.Dense(40, 10, init=init), flux.softmax)


def fit(model, X, Y, epochs=5, batchsize=128, rng=None, report=None, every=10):
    """Adam on ``crossentropy(model(x), y)``, ``epochs`` passes; ``batchsize=None`` is the full batch.

    ``report(epoch)`` is called after each epoch if given; the training loss is printed at most
    once every ``every`` seconds (``throttle``). Returns the model.
    """
    rng = rng or np.random.default_rng(1)
    loss = lambda x, y: flux.crossentropy(model(x), y)
    opt = flux.Adam()
    data = [(X, Y)] if batchsize is None else flux.DataLoader((X, Y), batchsize=batchsize, shuffle=True, rng=rng)
    cb = flux.throttle(lambda: print(f"  training loss {float(loss(X, Y)):.4f}"), every)
    for epoch in range(epochs):
        flux.train(loss, flux.params(model), data, opt, cb=cb, capture=True)
        if report is not None:
            report(epoch + 1)
    return model


def main(quick=False, out=None, path=None, epochs=None, batchsize=128, seed=0):
    """Trains and prints the training loss and test accuracy after each epoch; draws the loss curve and
    test digits. Returns the final figures, or None without MNIST. ``quick``: 2 epochs on a subset."""
    epochs = epochs or (2 if quick else 5)
    prepared = prepare(path, seed, make_model, quick)
    if prepared is None:
        return None
    (X, Y, X_test, labels_test), model = prepared
    batches = "full batch" if batchsize is None else f"minibatches of {batchsize}"
    print(f"Adam(0.001), crossentropy, {epochs} epochs of {batches}")
    acc, losses = [], []
    start = time.perf_counter()

    def report(epoch):
        losses.append(float(flux.crossentropy(model(X), Y)))
        acc.append(accuracy(model, X_test, labels_test))
        print(f"epoch {epoch}: training loss {losses[-1]:.4f}, test accuracy {acc[-1]:.4f} "
              f"({time.perf_counter() - start:.1f} s)", flush=True)

    fit(model, X, Y, epochs=epochs, batchsize=batchsize, rng=np.random.default_rng(seed + 1), report=report)
    print(f"first test predictions (onecold): {flux.onecold(model(X_test[:, :10])).tolist()}, "
          f"labels {labels_test[:10].tolist()}")
    print(f"test accuracy: {acc[-1]:.4f}")
    _plot.curves(out, "mnist_lecture_loss.png", "784-40-10, Adam: training loss", {"training loss": losses})
    show_predictions(out, "mnist_lecture_digits.png", "784-40-10 (the lecture)", model, X_test, labels_test)
    return {"test accuracy": acc[-1], "training loss": losses[-1]}


if __name__ == "__main__":
    raise SystemExit(run_alone("mnist_lecture"))
