"""The Keras book's first network (Chollet, "Deep Learning with Python", chapter 2), trained with ``fit``.

    model = Chain(Dense(28*28, 512, relu), Dense(512, 10))
    history = fit(model, X, Y, loss=logitcrossentropy, opt=RMSProp(0.001), epochs=5, batchsize=128,
                  metrics=["accuracy"])
    evaluate(model, X_test, Y_test, loss=logitcrossentropy, metrics=["accuracy"])

as the book's ``model.fit(train_images, train_labels, epochs=5, batch_size=128)`` and
``model.evaluate``: RMSProp (eta = 0.001), minibatches of 128 drawn in a new random order each
epoch, 5 epochs. The book ends the model in softmax and trains on categorical cross-entropy; here
the model returns logits and the loss is ``logitcrossentropy``, the same loss computed stably
(``softmax`` of the output gives the probabilities; ``onecold`` gives the same digit either way).
The book reports about 97.8% test accuracy after the 5 epochs.

The data folder is the argument of ``main``, else $PYFLUX_MNIST, else ``../shared/data/mnist``;
without it ``main`` says so and returns.
"""

import numpy as np

import pyflux as flux
from pyflux.examples._cli import main as run_alone
from pyflux.examples._mnist import evaluate_and_draw, prepare


def make_model(rng=None):
    init = flux.glorot_uniform(rng=rng or np.random.default_rng(0))
    return flux.Chain(flux.Dense(28 * 28, 512, flux.relu, init=init), flux.Dense(512, 10, init=init))


def fit(model, X, Y, epochs=5, batchsize=128, eta=0.001, progress=True):
    """RMSProp(eta) on minibatches, ``epochs`` passes, with the training accuracy; returns the History."""
    return flux.fit(model, X, Y, loss=flux.logitcrossentropy, opt=flux.RMSProp(eta), epochs=epochs,
                    batchsize=batchsize, metrics=["accuracy"], progress=progress, capture=True)


def main(quick=False, out=None, path=None, epochs=None, seed=0):
    """Trains with a progress line per epoch, then prints the test loss and accuracy; draws the
    training curves and test digits. Returns the final figures, or None without MNIST.
    ``quick``: 2 epochs on a subset."""
    epochs = epochs or (2 if quick else 5)
    prepared = prepare(path, seed, make_model, quick)
    if prepared is None:
        return None
    (X, Y, X_test, labels_test), model = prepared
    print(f"fit: RMSProp(0.001), logitcrossentropy, batch size 128, {epochs} epochs")
    history = fit(model, X, Y, epochs=epochs)
    acc = evaluate_and_draw(out, "mnist_keras", "784-512-10 (the Keras book)", model, history,
                            flux.logitcrossentropy, X_test, labels_test)
    return {"test accuracy": acc, "training loss": history.history["loss"][-1]}


if __name__ == "__main__":
    raise SystemExit(run_alone("mnist_keras"))
