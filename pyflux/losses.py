"""Loss functions, prediction first: ``loss(ŷ, y, agg=mean)``."""

import numpy as np

from pyflux._core import log, logsoftmax, mean, sum


def _check_sizes(name, yhat, y):
    """Flux's size check; a scalar target skips it."""
    a, b = getattr(yhat, "shape", ()), getattr(y, "shape", ())
    if len(b) and tuple(a) != tuple(b):
        raise ValueError(f"{name}: the prediction has shape {tuple(a)} but the target has shape {tuple(b)}")


def mse(yhat, y, *, agg=mean):
    """``mse(ŷ, y; agg=mean) = agg((ŷ - y)²)``: mean squared error over all elements.

    ``agg`` may be ``flux.mean``, ``flux.sum`` or any function of the array of squared errors.
    """
    _check_sizes("mse", yhat, y)
    d = yhat - y
    return agg(d * d)


def _eps(yhat):
    return float(np.finfo(yhat.dtype).eps) if np.dtype(getattr(yhat, "dtype", np.float64)).kind == "f" else 1e-7


def crossentropy(yhat, y, *, dims=0, agg=mean, eps=None):
    """``crossentropy(ŷ, y; dims=0, agg=mean, eps=eps(ŷ's dtype))``: ``agg(-Σ_dims y log(ŷ + eps))``.

    ŷ holds probabilities (e.g. softmax output), y the targets (e.g. one-hot), features x batch:
    the sum runs over the class axis ``dims`` (Flux's dims=1) and agg averages over samples.
    Prefer :func:`logitcrossentropy` on logits, which is numerically stable.
    """
    _check_sizes("crossentropy", yhat, y)
    eps = _eps(yhat) if eps is None else eps
    return agg(-sum(y * log(yhat + eps), dims))


def logitcrossentropy(yhat, y, *, dims=0, agg=mean):
    """``logitcrossentropy(ŷ, y; dims=0, agg=mean)``: ``agg(-Σ_dims y logsoftmax(ŷ))``.

    Equal to ``crossentropy(softmax(ŷ), y)`` but computed stably from the logits ŷ.
    """
    _check_sizes("logitcrossentropy", yhat, y)
    return agg(-sum(y * logsoftmax(yhat, dims), dims))
