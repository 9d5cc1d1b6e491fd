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
from pyflux.examples._mnist import accuracy, prepare


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


def main(path=None, epochs=5, seed=0):
    prepared = prepare(path, seed, make_model)
    if prepared is None:
        return None
    (X, Y, X_test, labels_test), model = prepared
    print(f"RMSProp(0.001), logitcrossentropy, batch size 128, {epochs} epochs")
    acc = []
    start = time.perf_counter()

    def report(epoch):
        acc.append(accuracy(model, X_test, labels_test))
        print(f"epoch {epoch}: test accuracy {acc[-1]:.4f} ({time.perf_counter() - start:.1f} s)")

    fit(model, X, Y, epochs=epochs, rng=np.random.default_rng(seed + 1), report=report)
    return acc[-1] if acc else accuracy(model, X_test, labels_test)


if __name__ == "__main__":
    main()
