"""Loss functions, prediction first: ``loss(ŷ, y, agg=mean)``.

Each loss is a composition of pyflux operations, so ``gradient`` differentiates it; numpy arrays
and Python numbers work too. Arrays are features x batch as in Flux, and ``dims`` is 0-based:
Flux's ``dims=1`` is ``dims=0`` here, the feature (class) axis.

``agg`` reduces the array of losses: ``flux.mean`` (the default), ``flux.sum``, or any callable
such as ``flux.identity``. Losses marked "per sample" first sum over ``dims`` (removing that axis),
then aggregate over the samples; the others aggregate over all elements. ``eps`` defaults to the
machine epsilon of ŷ's float type (float64 for integers and Python numbers).

A target of a different shape than the prediction raises ValueError naming both shapes; a scalar
target skips the check and broadcasts.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from pyflux import _core
from pyflux._typing import Aggregate, Input, Output
from pyflux._core import abs, log, logsoftmax, maximum, mean, minimum, sum, xlogx, xlogy
from pyflux.activations import logsigmoid

__all__ = [
    "binary_focal_loss", "binarycrossentropy", "crossentropy", "focal_loss", "hinge_loss", "huber_loss",
    "kldivergence", "label_smoothing", "logitbinarycrossentropy", "logitcrossentropy", "mae", "mse", "msle",
    "poisson_loss", "squared_hinge_loss",
]


def _as_float(x, dtype):
    """x as an array of a float dtype: lists become arrays, integer and bool arrays (and numpy
    integer scalars) become ``dtype``; Tensors, Python numbers and float arrays pass unchanged."""
    if isinstance(x, (_core.Tensor, float, int)) and not isinstance(x, bool):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind == "f":
        return x if isinstance(x, (np.ndarray, np.floating)) else arr
    if arr.dtype.kind not in "biu":
        raise TypeError(f"expected a real numeric array, got dtype {arr.dtype}")
    return arr.astype(dtype)


def _prepare(name: str, yhat: Input, y: Input, *, labels_hint: bool = False) -> tuple[Any, Any]:
    """ŷ and y ready for a loss: Flux's size check (a scalar target skips it), lists as arrays, and
    integer or bool inputs promoted to ŷ's float type (float64 when ŷ is not float), as Flux's
    arithmetic does."""
    y_dtype = np.dtype(getattr(y, "dtype", np.asarray(y).dtype if isinstance(y, (list, tuple)) else np.float64))
    try:
        yhat = _as_float(yhat, np.float64)
        dtype = np.dtype(getattr(yhat, "dtype", np.float64))
        y = _as_float(y, dtype)
    except TypeError as e:
        raise TypeError(f"{name}: {e}") from None
    a, b = getattr(yhat, "shape", ()), getattr(y, "shape", ())
    if len(b) and tuple(a) != tuple(b):
        hint = ""
        if labels_hint and y_dtype.kind in "iu" and len(b) < len(a):
            hint = "; y looks like integer class labels: pass onehotbatch(y, classes) as the target"
        raise ValueError(f"{name}: the prediction has shape {tuple(a)} but the target has shape {tuple(b)}{hint}")
    return yhat, y


def _eps(yhat):
    """Flux's default ε: ``eps`` of ŷ's float type, float64's for integers and Python numbers."""
    dtype = np.dtype(getattr(yhat, "dtype", np.float64))
    return float(np.finfo(dtype if dtype.kind == "f" else np.float64).eps)


# --- regression -----------------------------------------------------------------------------------

def mse(yhat: Input, y: Input, *, agg: Aggregate = mean) -> Output:
    """``mse(ŷ, y; agg=mean) = agg((ŷ - y)²)``: mean squared error over all elements.

    ŷ and y have the same shape (or y is a scalar). ``agg`` may be ``flux.mean``, ``flux.sum`` or
    any function of the array of squared errors.
    """
    yhat, y = _prepare("mse", yhat, y)
    d = yhat - y
    return agg(d * d)


def mae(yhat: Input, y: Input, *, agg: Aggregate = mean) -> Output:
    """``mae(ŷ, y; agg=mean) = agg(|ŷ - y|)``: mean absolute error over all elements.

    ŷ and y have the same shape. The derivative of |e| at e = 0 is taken as 0.
    """
    yhat, y = _prepare("mae", yhat, y)
    return agg(abs(yhat - y))


def msle(yhat: Input, y: Input, *, agg: Aggregate = mean, eps: float | None = None) -> Output:
    """``msle(ŷ, y; agg=mean, eps) = agg(log((ŷ + eps) / (y + eps))²)``: mean squared log error.

    Over all elements of same-shaped, non-negative ŷ and y; it penalises under-estimates more than
    over-estimates. ``eps`` defaults to the machine epsilon of ŷ's dtype.
    """
    yhat, y = _prepare("msle", yhat, y)
    eps = _eps(yhat) if eps is None else eps
    r = log((yhat + eps) / (y + eps))
    return agg(r * r)


def huber_loss(yhat: Input, y: Input, *, agg: Aggregate = mean, delta: float = 1.0) -> Output:
    """``huber_loss(ŷ, y; agg=mean, delta=1)``, elementwise with ``e = |ŷ - y|``::

        0.5 e²               if e < delta
        delta (e - delta/2)  otherwise

    aggregated over all elements of same-shaped ŷ and y: quadratic near 0, linear for outliers.
    """
    yhat, y = _prepare("huber_loss", yhat, y)
    e = abs(yhat - y)
    m = minimum(e, delta)  # e below delta; beyond it, the linear part delta (e - delta) takes over
    return agg(0.5 * m * m + delta * (e - m))


def poisson_loss(yhat: Input, y: Input, *, agg: Aggregate = mean) -> Output:
    """``poisson_loss(ŷ, y; agg=mean) = agg(ŷ - xlogy(y, ŷ))``: Poisson negative log-likelihood.

    ŷ > 0 are predicted rates, y the observed counts, same shape, over all elements;
    ``xlogy(y, ŷ) = y log ŷ`` is 0 where y == 0, even if ŷ == 0.
    """
    yhat, y = _prepare("poisson_loss", yhat, y)
    return agg(yhat - xlogy(y, yhat))


# --- classification -------------------------------------------------------------------------------
# As Flux, with xlogy(y, p) = y log(p), exactly 0 where y == 0: with eps=0 a target that equals the
# prediction gives a loss of exactly 0, even where both are 0.

def crossentropy(yhat: Input, y: Input, *, dims: int = 0, agg: Aggregate = mean, eps: float | None = None) -> Output:
    """``crossentropy(ŷ, y; dims=0, agg=mean, eps=eps(ŷ's dtype))``: ``agg(-Σ_dims y log(ŷ + eps))``.

    ŷ holds probabilities (e.g. softmax output), y the targets (e.g. one-hot), features x batch:
    the sum runs over the class axis ``dims`` (Flux's dims=1) and agg averages over samples.
    Prefer :func:`logitcrossentropy` on logits, which is numerically stable.

    >>> import numpy as np
    >>> import pyflux as flux
    >>> yhat = np.array([[0.9, 0.2], [0.1, 0.8]])     # 2 classes x 2 samples
    >>> y = flux.onehotbatch([0, 1], [0, 1])
    >>> print(round(flux.crossentropy(yhat, y), 4))   # the mean of -log(0.9) and -log(0.8)
    0.1643
    >>> float(flux.crossentropy(y, y, eps=0))           # xlogy: 0 log 0 counts as 0
    0.0
    """
    yhat, y = _prepare("crossentropy", yhat, y, labels_hint=True)
    eps = _eps(yhat) if eps is None else eps
    return agg(-sum(xlogy(y, yhat + eps), dims))


def logitcrossentropy(yhat: Input, y: Input, *, dims: int = 0, agg: Aggregate = mean) -> Output:
    """``logitcrossentropy(ŷ, y; dims=0, agg=mean)``: ``agg(-Σ_dims y logsoftmax(ŷ))``.

    ŷ holds logits and y the targets (e.g. one-hot), same shape, features x batch: per sample
    over the class axis ``dims``. Equal to ``crossentropy(softmax(ŷ, dims), y)`` but computed
    stably from the logits.
    """
    yhat, y = _prepare("logitcrossentropy", yhat, y, labels_hint=True)
    return agg(-sum(y * logsoftmax(yhat, dims), dims))


def binarycrossentropy(yhat: Input, y: Input, *, agg: Aggregate = mean, eps: float | None = None) -> Output:
    """``binarycrossentropy(ŷ, y; agg=mean, eps)``: ``agg(-xlogy(y, ŷ + eps) - xlogy(1 - y, 1 - ŷ + eps))``.

    ŷ holds probabilities in [0, 1] (e.g. sigmoid output), y the targets in [0, 1], same shape;
    aggregated over all elements. Prefer :func:`logitbinarycrossentropy` on logits.
    """
    yhat, y = _prepare("binarycrossentropy", yhat, y)
    eps = _eps(yhat) if eps is None else eps
    return agg(-xlogy(y, yhat + eps) - xlogy(1 - y, 1 - yhat + eps))


def logitbinarycrossentropy(yhat: Input, y: Input, *, agg: Aggregate = mean) -> Output:
    """``logitbinarycrossentropy(ŷ, y; agg=mean) = agg((1 - y) ŷ - logσ(ŷ))``.

    Equal to ``binarycrossentropy(σ(ŷ), y)`` but computed stably from the logits ŷ, over all
    elements of same-shaped ŷ and y.
    """
    yhat, y = _prepare("logitbinarycrossentropy", yhat, y)
    return agg((1 - y) * yhat - logsigmoid(yhat))


def kldivergence(yhat: Input, y: Input, *, dims: int = 0, agg: Aggregate = mean, eps: float | None = None) -> Output:
    """``kldivergence(ŷ, y; dims=0, agg=mean, eps)``: the Kullback-Leibler divergence of ŷ from y,

        agg(Σ_dims xlogx(y)) + crossentropy(ŷ, y; dims, agg, eps)  =  agg(Σ_dims y log(y / (ŷ + eps)))

    per sample: ŷ and y are probability distributions along ``dims`` (features x batch), and
    ``xlogx(y) = y log y`` is 0 where y == 0. ``eps`` defaults to the machine epsilon of ŷ's dtype.
    """
    yhat, y = _prepare("kldivergence", yhat, y, labels_hint=True)
    entropy = agg(sum(xlogx(y), dims))
    return entropy + crossentropy(yhat, y, dims=dims, agg=agg, eps=eps)


def focal_loss(yhat: Input, y: Input, *, dims: int = 0, agg: Aggregate = mean, gamma: float = 2,
               eps: float | None = None) -> Output:
    """``focal_loss(ŷ, y; dims=0, agg=mean, gamma=2, eps)``, with ``p = ŷ + eps``::

        agg(Σ_dims -(1 - p)^gamma xlogy(y, p))

    per sample: ŷ holds probabilities (softmax output) along the class axis ``dims``, y one-hot
    targets of the same shape. It down-weights well-classified samples; gamma=0 gives
    :func:`crossentropy`. ``eps`` defaults to the machine epsilon of ŷ's dtype.
    """
    yhat, y = _prepare("focal_loss", yhat, y, labels_hint=True)
    p = yhat + (_eps(yhat) if eps is None else eps)
    return agg(sum(-((1 - p) ** gamma) * xlogy(y, p), dims))


def binary_focal_loss(yhat: Input, y: Input, *, agg: Aggregate = mean, gamma: float = 2,
                      eps: float | None = None) -> Output:
    """``binary_focal_loss(ŷ, y; agg=mean, gamma=2, eps)``, with ``p = ŷ + eps``::

        p_t = y p + (1 - y)(1 - p);   agg(-(1 - p_t)^gamma log(p_t))

    over all elements: ŷ holds probabilities (sigmoid output), y binary targets of the same shape;
    gamma=0 gives :func:`binarycrossentropy`. ``eps`` defaults to the machine epsilon of ŷ's dtype.
    """
    yhat, y = _prepare("binary_focal_loss", yhat, y)
    p = yhat + (_eps(yhat) if eps is None else eps)
    p_t = y * p + (1 - y) * (1 - p)
    return agg(-((1 - p_t) ** gamma) * log(p_t))


def label_smoothing(y: Input, alpha: float, *, dims: int | None = 0) -> Output:
    """``label_smoothing(y, alpha; dims=0)``: smoothed targets, for use with the losses above.

    ``dims=0`` (Flux's dims=1): y holds one-hot columns along axis 0, and the result is
    ``y (1 - alpha) + alpha / y.shape[0]``; another axis divides by its length instead.
    ``dims=None`` (Flux's dims=0): y holds binary labels as numbers, and the result is
    ``y (1 - alpha) + alpha / 2``. Raises ValueError unless ``0 < alpha < 1``.
    """
    if not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
        raise ValueError(f"label_smoothing: alpha must be between 0 and 1, got {alpha!r}")
    if dims is None:
        classes = 2
    else:
        shape = np.shape(y)
        if not -len(shape) <= dims < len(shape):
            raise ValueError(f"label_smoothing: y of shape {shape} has no axis dims={dims} (one-hot targets are "
                             "arrays; pass dims=None for binary labels given as numbers)")
        classes = shape[dims]
    return y * (1 - alpha) + alpha / classes


# --- margin ---------------------------------------------------------------------------------------

def hinge_loss(yhat: Input, y: Input, *, agg: Aggregate = mean) -> Output:
    """``hinge_loss(ŷ, y; agg=mean) = agg(max(0, 1 - ŷ y))``, over all elements.

    ŷ are real scores, y the targets in {-1, 1}, same shape.
    """
    yhat, y = _prepare("hinge_loss", yhat, y)
    return agg(maximum(0, 1 - yhat * y))


def squared_hinge_loss(yhat: Input, y: Input, *, agg: Aggregate = mean) -> Output:
    """``squared_hinge_loss(ŷ, y; agg=mean) = agg(max(0, 1 - ŷ y)²)``, over all elements.

    ŷ are real scores, y the targets in {-1, 1}, same shape.
    """
    yhat, y = _prepare("squared_hinge_loss", yhat, y)
    h = maximum(0, 1 - yhat * y)
    return agg(h * h)
