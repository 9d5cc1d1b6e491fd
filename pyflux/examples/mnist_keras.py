"""The Keras book's first network (Chollet, "Deep Learning with Python", chapter 2) in Flux's explicit style.

    model = Chain(Dense(28*28, 512, relu), Dense(512, 10))

with RMSProp (eta = 0.001), minibatches of 128 drawn in a new random order each epoch, 5 epochs.
The book ends the model in softmax and trains on categorical cross-entropy; here the model
returns logits and the loss is ``logitcrossentropy(m(x), y)``, the same loss computed stably
(``softmax`` of the output gives the probabilities; ``onecold`` gives the same digit either way).
The book reports about 97.8% test accuracy after the 5 epochs.

The explicit style: ``state = setup(RMSProp(0.001), model)`` holds the optimiser's state, and
``train(lambda m, x, y: logitcrossentropy(m(x), y), model, loader, state)`` makes one pass over
``loader = DataLoader((X, Y), batchsize=128, shuffle=True)``.

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
    return flux.Chain(flux.Dense(28 * 28, 512, flux.relu, init=init), flux.Dense(512, 10, init=init))


def loss(m, x, y):
    return flux.logitcrossentropy(m(x), y)


def fit(model, X, Y, epochs=5, batchsize=128, eta=0.001, rng=None, report=None):
    """RMSProp(eta) on minibatches, ``epochs`` passes; ``report(epoch)`` after each. Returns the model."""
    loader = flux.DataLoader((X, Y), batchsize=batchsize, shuffle=True, rng=rng or np.random.default_rng(1))
    state = flux.setup(flux.RMSProp(eta), model)
    for epoch in range(epochs):
        flux.train(loss, model, loader, state)
        if report is not None:
            report(epoch + 1)
    return model


def main(quick=False, out=None, path=None, epochs=None, seed=0):
    """Trains and prints the training loss and test accuracy after each epoch; draws the loss curve and
    test digits. Returns the final figures, or None without MNIST. ``quick``: 2 epochs on a subset."""
    epochs = epochs or (2 if quick else 5)
    prepared = prepare(path, seed, make_model, quick)
    if prepared is None:
        return None
    (X, Y, X_test, labels_test), model = prepared
    print(f"RMSProp(0.001), logitcrossentropy, batch size 128, {epochs} epochs")
    acc, losses = [], []
    start = time.perf_counter()

    def report(epoch):
        losses.append(float(loss(model, X, Y)))
        acc.append(accuracy(model, X_test, labels_test))
        print(f"epoch {epoch}: training loss {losses[-1]:.4f}, test accuracy {acc[-1]:.4f} "
              f"({time.perf_counter() - start:.1f} s)", flush=True)

    fit(model, X, Y, epochs=epochs, rng=np.random.default_rng(seed + 1), report=report)
    print(f"test accuracy: {acc[-1]:.4f}")
    _plot.curves(out, "mnist_keras_loss.png", "784-512-10, RMSProp: training loss", {"training loss": losses})
    show_predictions(out, "mnist_keras_digits.png", "784-512-10 (the Keras book)", model, X_test, labels_test)
    return {"test accuracy": acc[-1], "training loss": losses[-1]}


if __name__ == "__main__":
    raise SystemExit(run_alone("mnist_keras"))
