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
    axes = range(len(shape)) if dims is None else (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    n, seen = 1, set()
    for axis in axes:
        if not -len(shape) <= axis < len(shape):
            raise IndexError(f"{op}: dims {axis} is out of bounds for shape {tuple(shape)}")
        if axis % len(shape) in seen:
            raise ValueError(f"{op}: dims repeats axis {axis % len(shape)}")
        seen.add(axis % len(shape))
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


def _with_axes(x, ndim):
    """x reshaped with trailing axes of size 1 up to ndim (Julia's view of a vector as a column)."""
    shape = np.shape(x)
    return x if len(shape) >= ndim else _core.reshape(x, shape + (1,) * (ndim - len(shape)))


def _join(op, xs, dims, min_ndim):
    xs = list(xs)
    if not xs:
        raise ValueError(f"{op}: needs at least one array")
    ndim = max(min_ndim, *(np.ndim(x) for x in xs))
    return _core.cat([_with_axes(x, ndim) for x in xs], dims)


def cat(xs, dims):
    """``cat(xs, dims)``: the arrays of ``xs`` joined along axis ``dims`` (0-based: Flux's ``cat(xs...; dims=1)``
    is ``cat(xs, 0)``). As in Julia, arrays with fewer axes than ``dims + 1`` get trailing axes of size 1, so
    ``cat([a, b], 1)`` of two vectors is a matrix with them as columns. The other axes must agree; each input's
    gradient is its slice of the output's.

    >>> import numpy as np
    >>> cat([np.ones((2, 1)), np.zeros((2, 2))], 1)
    array([[1., 0., 0.],
           [1., 0., 0.]])
    """
    if not isinstance(dims, (int, np.integer)):
        raise TypeError(f"cat: dims must be an int, got {type(dims).__name__}")
    if dims >= _core.max_dims:
        raise IndexError(f"cat: dims {dims} is out of bounds (arrays have at most {_core.max_dims} dimensions)")
    return _join("cat", xs, dims, dims + 1 if dims >= 0 else 0)


def vcat(*xs):
    """``vcat(*xs)``: the arrays stacked along the first axis (Julia's ``vcat``, ``[a; b]``). A vector counts as a
    column: ``vcat`` of vectors is a longer vector, and a vector meets a matrix as an ``(n, 1)`` column.

    >>> import numpy as np
    >>> vcat(np.array([1.0, 2.0]), np.array([3.0]))
    array([1., 2., 3.])
    """
    return _join("vcat", xs, 0, 1)


def hcat(*xs):
    """``hcat(*xs)``: the arrays side by side along the second axis (Julia's ``hcat``, ``[a b]``); vectors are
    columns, so ``hcat`` of n-vectors is an ``(n, k)`` matrix.

    >>> import numpy as np
    >>> hcat(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    array([[1., 3.],
           [2., 4.]])
    """
    return _join("hcat", xs, 1, 2)


def stack(xs, dims=0):
    """``stack(xs, dims=0)``: arrays of one shape joined along a new axis at position ``dims`` of the result
    (0-based, negative from the end; numpy's ``np.stack``). Flux's ``stack(xs; dims=1)`` is ``stack(xs, 0)``;
    ``stack(xs, -1)`` gives Julia's default, the new axis last.

    >>> import numpy as np
    >>> stack([np.array([1.0, 2.0]), np.array([3.0, 4.0])], 1)
    array([[1., 3.],
           [2., 4.]])
    """
    xs = list(xs)
    if not xs:
        raise ValueError("stack: needs at least one array")
    shapes = [tuple(np.shape(x)) for x in xs]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: the arrays must have one shape, got {', '.join(map(str, shapes))}")
    ndim = len(shapes[0]) + 1
    if not -ndim <= dims < ndim:
        raise IndexError(f"stack: dims {dims} is out of bounds for a result with {ndim} dimensions")
    axis = dims % ndim
    new_shape = shapes[0][:axis] + (1,) + shapes[0][axis:]
    return _core.cat([_core.reshape(x, new_shape) for x in xs], axis)
