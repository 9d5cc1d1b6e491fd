"""The Keras talk's MNIST network: two sigmoid hidden layers and a softmax output.

    model = Chain(Dense(28*28, 512, σ), Dense(512, 128, σ), Dense(128, 10), softmax)

    history = fit(model, X, Y, loss=crossentropy, opt=Adam(0.001), epochs=20, batchsize=256,
                  validation_split=0.1, metrics=["accuracy"])

minibatches of 256 in a new random order each epoch. As in Keras, ``validation_split=0.1`` holds
out the last 10% of the training set (6,000 images): the network trains on the first 54,000 and
the validation loss and accuracy are shown after each epoch. The talk's set-up reaches about 98% test
accuracy (PyTorch and JAX: 98.0%).

The data folder is the argument of ``main``, else $PYFLUX_MNIST, else ``../shared/data/mnist``;
without it ``main`` says so and returns.
"""

import numpy as np

import pyflux as flux
from pyflux.examples._cli import main as run_alone
from pyflux.examples._mnist import evaluate_and_draw, prepare


def make_model(rng=None):
    init = flux.glorot_uniform(rng=rng or np.random.default_rng(0))
    return flux.Chain(flux.Dense(28 * 28, 512, flux.σ, init=init), flux.Dense(512, 128, flux.σ, init=init),
                      flux.Dense(128, 10, init=init), flux.softmax)


def fit(model, X, Y, epochs=20, batchsize=256, progress=True):
    """Adam on the first 90% of the columns, ``epochs`` passes, the last 10% held out; returns the History
    (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` per epoch)."""
    return flux.fit(model, X, Y, loss=flux.crossentropy, opt=flux.Adam(0.001), epochs=epochs, batchsize=batchsize,
                    validation_split=0.1, metrics=["accuracy"], progress=progress, capture=True)


def main(quick=False, out=None, path=None, epochs=None, seed=0):
    """Trains with 10% held out, showing the validation accuracy per epoch, then prints the test
    accuracy; draws the training curves and test digits. Returns the final figures, or None without
    MNIST. ``quick``: 3 epochs on a subset."""
    epochs = epochs or (3 if quick else 20)
    prepared = prepare(path, seed, make_model, quick)
    if prepared is None:
        return None
    (X, Y, X_test, labels_test), model = prepared
    print(f"fit: Adam(0.001), crossentropy, batch size 256, {epochs} epochs, validation_split=0.1")
    history = fit(model, X, Y, epochs=epochs)
    acc = evaluate_and_draw(out, "mnist_sigmoid", "784-512-128-10 sigmoid (the Keras talk)", model, history,
                            flux.crossentropy, X_test, labels_test)
    return {"test accuracy": acc, "val_accuracy": history.history["val_accuracy"][-1]}


if __name__ == "__main__":
    raise SystemExit(run_alone("mnist_sigmoid"))
