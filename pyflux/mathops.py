"""Array functions built from the core's ops."""

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
