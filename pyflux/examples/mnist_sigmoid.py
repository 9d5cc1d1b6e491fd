"""The Keras talk's MNIST network: two sigmoid hidden layers and a softmax output.

    model = Chain(Dense(28*28, 512, σ), Dense(512, 128, σ), Dense(128, 10), softmax)

trained on ``crossentropy(model(x), y)`` with Adam (eta = 0.001), minibatches of 256 in a new
random order each epoch, 20 epochs. As Keras's ``validation_split=0.1`` does, the last 10% of
the training set (6,000 images) is held out: the network trains on the first 54,000 and the
validation loss and accuracy are shown after each epoch. The talk's set-up reaches about 98% test
accuracy (PyTorch and JAX: 98.0%).

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
    return flux.Chain(flux.Dense(28 * 28, 512, flux.σ, init=init), flux.Dense(512, 128, flux.σ, init=init),
                      flux.Dense(128, 10, init=init), flux.softmax)


def loss(m, x, y):
    return flux.crossentropy(m(x), y)


def fit(model, X, Y, epochs=20, batchsize=256, validation_split=0.1, rng=None):
    """Adam on the first (1 - validation_split) of the columns, ``epochs`` passes; prints and returns the
    per-epoch history {"loss", "val_loss", "val_accuracy"} measured on the training and held-out columns."""
    n_train = int(round(X.shape[1] * (1 - validation_split)))
    X_train, Y_train, X_val, Y_val = X[:, :n_train], Y[:, :n_train], X[:, n_train:], Y[:, n_train:]
    labels_val = flux.onecold(Y_val)
    loader = flux.DataLoader((X_train, Y_train), batchsize=batchsize, shuffle=True, rng=rng or np.random.default_rng(1))
    state = flux.setup(flux.Adam(0.001), model)
    history = {"loss": [], "val_loss": [], "val_accuracy": []}
    start = time.perf_counter()
    for epoch in range(epochs):
        flux.train(loss, model, loader, state)
        history["loss"].append(float(loss(model, X_train, Y_train)))
        history["val_loss"].append(float(loss(model, X_val, Y_val)))
        history["val_accuracy"].append(accuracy(model, X_val, labels_val))
        print(f"epoch {epoch + 1}/{epochs}: loss {history['loss'][-1]:.4f}, val_loss {history['val_loss'][-1]:.4f}, "
              f"val_accuracy {history['val_accuracy'][-1]:.4f} ({time.perf_counter() - start:.1f} s)", flush=True)
    return history


def main(quick=False, out=None, path=None, epochs=None, seed=0):
    """Trains with 10% held out, printing the validation accuracy per epoch, then the test accuracy;
    draws the loss curves and test digits. Returns the final figures, or None without MNIST.
    ``quick``: 3 epochs on a subset."""
    epochs = epochs or (3 if quick else 20)
    prepared = prepare(path, seed, make_model, quick)
    if prepared is None:
        return None
    (X, Y, X_test, labels_test), model = prepared
    print(f"Adam(0.001), crossentropy, batch size 256, {epochs} epochs, the last 10% held out for validation")
    history = fit(model, X, Y, epochs=epochs, rng=np.random.default_rng(seed + 1))
    acc = accuracy(model, X_test, labels_test)
    print(f"test accuracy: {acc:.4f}")
    _plot.curves(out, "mnist_sigmoid_loss.png", "784-512-128-10 sigmoid, Adam",
                 {"training loss": history["loss"], "validation loss": history["val_loss"]})
    show_predictions(out, "mnist_sigmoid_digits.png", "784-512-128-10 sigmoid (the Keras talk)", model, X_test,
                     labels_test)
    return {"test accuracy": acc, "val_accuracy": history["val_accuracy"][-1]}


if __name__ == "__main__":
    raise SystemExit(run_alone("mnist_sigmoid"))
