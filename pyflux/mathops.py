"""Array functions built from the core's ops."""

import numpy as np

from pyflux import _core


def clamp(x, lo, hi):
    """``clamp(x, lo, hi)``: ``x`` limited to ``[lo, hi]`` elementwise, ``minimum(maximum(x, lo), hi)``
    (numpy's ``clip``, Julia's ``clamp``); ``lo`` and ``hi`` may be numbers or arrays that broadcast.
    The gradient passes where ``lo < x < hi``, is zero outside, and half of it passes at a bound.

    >>> import numpy as np
    >>> clamp(np.array([-2.0, 0.5, 3.0]), 0, 1)
    array([0. , 0.5, 1. ])
    """
    return _core.minimum(_core.maximum(x, lo), hi)


def _count(op, shape, dims):
    """How many elements each result of reducing `shape` over `dims` (None: all) takes in."""
    axes = range(len(shape)) if dims is None else (dims,) if isinstance(dims, int) else tuple(dims)
    n = 1
    for axis in axes:
        if not -len(shape) <= axis < len(shape):
            raise IndexError(f"{op}: dims {axis} is out of bounds for shape {tuple(shape)}")
        n *= shape[axis]
    return n


def _var(op, x, dims, ddof, keepdims):
    """The sum of squared deviations from the mean over dims, divided by (count - ddof)."""
    n = _count(op, np.shape(x), dims)
    deviation = _core.sub(x, _core.mean(x, dims, keepdims=True))
    return _core.div(_core.sum(_core.square(deviation), dims, keepdims=keepdims), n - ddof)


def var(x, dims=None, corrected=True, keepdims=False):
    """``var(x, dims=None, corrected=True, keepdims=False)``: the variance over ``dims`` (an int, a tuple of
    ints, or None for all elements), ``sum((x - mean(x))^2) / (n - 1)``, or ``/ n`` with ``corrected=False``.

    The default is Julia's and Flux's (``corrected=true``, the unbiased estimate); numpy's ``np.var`` divides by
    ``n - ddof`` with ``ddof=0`` by default, so ``var(x)`` equals ``np.var(x, ddof=1)``. The reduced axes are
    removed, or kept with size 1 (``keepdims``).

    >>> import numpy as np
    >>> float(var(np.array([1.0, 2.0, 3.0, 4.0])))
    1.6666666666666667
    >>> var(np.array([[1.0, 3.0], [2.0, 6.0]]), 1, corrected=False)
    array([1., 4.])
    """
    return _var("var", x, dims, 1 if corrected else 0, keepdims)


def std(x, dims=None, corrected=True, keepdims=False):
    """``std(x, dims=None, corrected=True, keepdims=False)``: the standard deviation ``sqrt(var(x, ...))``, with
    :func:`var`'s arguments and its default ``corrected=True`` (Julia's; numpy's ``np.std`` uses ``ddof=0``).

    >>> import numpy as np
    >>> float(std(np.array([1.0, 3.0]), corrected=False))
    1.0
    """
    return _core.sqrt(_var("std", x, dims, 1 if corrected else 0, keepdims))
