"""Loss functions, prediction first: ``loss(ŷ, y, agg=mean)``."""

from pyflux._core import mean


def _check_sizes(name, yhat, y):
    a, b = getattr(yhat, "shape", ()), getattr(y, "shape", ())
    if tuple(a) != tuple(b):
        raise ValueError(f"{name}: the prediction has shape {tuple(a)} but the target has shape {tuple(b)}")


def mse(yhat, y, *, agg=mean):
    """``mse(ŷ, y; agg=mean) = agg((ŷ - y)²)``: mean squared error over all elements.

    ``agg`` may be ``flux.mean``, ``flux.sum`` or any function of the array of squared errors.
    """
    _check_sizes("mse", yhat, y)
    d = yhat - y
    return agg(d * d)
