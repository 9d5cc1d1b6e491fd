"""Param: the array type that layers keep their weights in and that gradient can track."""

import operator

import numpy as np

from pyflux import _core, mathops


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """Tensor.__array_ufunc__: numpy calls it for ndarray (op) Tensor and for ufuncs applied to a
    Tensor. Those that are pyflux ops run as such (traced inside gradient; outside, the Tensor's
    dtype wins as for Tensor (op) ndarray); any other ufunc runs on the data outside gradient and is
    refused inside, naming what to use instead."""
    op = _CORE_UFUNCS.get(ufunc.__name__)
    if method == "__call__" and not kwargs and op is not None and len(inputs) == op[1]:
        return op[0](*inputs)
    if any(isinstance(x, _core.Tensor) and x.traced for x in inputs):
        raise TypeError(f"numpy.{ufunc.__name__} cannot be traced by gradient; "
                        f"{_FLUX_HINTS.get(ufunc.__name__, 'use the pyflux operations (flux.exp, flux.log, ...)')}")
    plain = [np.asarray(x) if isinstance(x, _core.Tensor) else x for x in inputs]
    if "out" in kwargs:
        kwargs["out"] = tuple(x.numpy() if isinstance(x, _core.Tensor) else x for x in kwargs["out"])
    return getattr(ufunc, method)(*plain, **kwargs)


def _tensors(value):
    """The Tensors among a numpy function's arguments, looking inside lists and tuples."""
    if isinstance(value, _core.Tensor):
        yield value
    elif type(value) in (list, tuple):
        for item in value:
            yield from _tensors(item)


def _plain(value):
    """value with every Tensor (also inside lists and tuples) replaced by a numpy view of its data."""
    if isinstance(value, _core.Tensor):
        return value.numpy()
    if type(value) in (list, tuple):
        return type(value)(_plain(item) for item in value)
    return value


def _array_function(self, func, types, args, kwargs):
    """Tensor.__array_function__: numpy functions that are not ufuncs (np.dot, np.concatenate, ...).
    Outside gradient they run on the data, as for an ndarray; inside they are refused, naming the
    pyflux function to use, since numpy would compute them without a gradient, unless a pyflux op
    computes them (np.sum, np.max, np.var, ...: _TRACED_FUNCTIONS). Those that read only the shape
    (np.shape, np.ndim, np.size) work on traced values too."""
    if func in _SHAPE_ONLY and args and isinstance(args[0], _core.Tensor):
        return _SHAPE_ONLY[func](*args, **kwargs)
    if any(t.traced for t in _tensors((args, tuple(kwargs.values())))):
        if func in _TRACED_FUNCTIONS:
            return _TRACED_FUNCTIONS[func](*args, **kwargs)
        name = f"{func.__module__}.{func.__name__}"
        hint = _FUNCTION_HINTS.get(func.__name__, "use pyflux operations (flux.sum, flux.exp, @, indexing, ...)")
        raise TypeError(f"{name} cannot be traced by gradient (numpy would drop the gradient); {hint}")
    return func(*_plain(args), **{key: _plain(value) for key, value in kwargs.items()})


def _size(a, axis=None):
    return a.size if axis is None else a.shape[axis]


_SHAPE_ONLY = {np.shape: lambda a: tuple(a.shape), np.ndim: lambda a: a.ndim, np.size: _size}

def _numpy_options(name, dtype=None, out=None, **others):
    """Refuses numpy's options that a traced result cannot honour."""
    given = [key for key, value in (("dtype", dtype), ("out", out), *others.items()) if value is not None]
    if given:
        raise TypeError(f"numpy.{name} on a traced value takes no {', '.join(given)} (the pyflux op has none)")


def _reduction(name, op):
    """numpy's signature of np.sum, np.mean, np.prod on traced values, as the pyflux op over axis."""

    def call(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        _numpy_options(name, dtype, out, initial=initial, where=where)
        return op(a, axis, keepdims=keepdims)

    return call


def _extreme(name, op):
    """numpy's signature of np.max and np.min (no dtype) on traced values, as the pyflux op over axis."""

    def call(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        _numpy_options(name, None, out, initial=initial, where=where)
        return op(a, axis, keepdims=keepdims)

    return call


def _variance(name, root):
    """np.var and np.std on traced values (numpy's ddof, default 0) as pyflux's var."""

    def call(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None, correction=None):
        _numpy_options(name, dtype, out, where=where, mean=mean, correction=correction)
        v = mathops._var(name, a, axis, ddof, keepdims)
        return _core.sqrt(v) if root else v

    return call


def _concatenate(arrays, axis, out, dtype):
    _numpy_options("concatenate", dtype, out)
    if axis is None:
        return _core.cat([_core.reshape(a, (-1,)) for a in arrays], 0)
    return _core.cat(arrays, axis)


def _stack(arrays, axis, out, dtype):
    _numpy_options("stack", dtype, out)
    return mathops.stack(arrays, axis)


# numpy functions (not ufuncs) that pyflux ops compute on traced values, with numpy's signatures.
_TRACED_FUNCTIONS = {
    np.sum: _reduction("sum", _core.sum), np.mean: _reduction("mean", _core.mean),
    np.max: _extreme("max", _core.max), np.min: _extreme("min", _core.min),
    np.amax: _extreme("amax", _core.max), np.amin: _extreme("amin", _core.min),
    np.prod: _reduction("prod", _core.prod), np.var: _variance("var", False), np.std: _variance("std", True),
    np.where: _core.where,
    np.concatenate: lambda arrays, axis=0, out=None, dtype=None, casting=None: _concatenate(arrays, axis, out, dtype),
    np.stack: lambda arrays, axis=0, out=None, dtype=None, casting=None: _stack(arrays, axis, out, dtype),
}

_core._set_numpy_hooks(_array_ufunc, _array_function)

# numpy methods that change an array's size, which a Param's fixed storage cannot do.
_RESIZING = frozenset({"resize"})


# numpy ufuncs that are pyflux ops too: the op and how many operands it takes.
_CORE_UFUNCS = {
    "add": (_core.add, 2), "subtract": (_core.sub, 2), "multiply": (_core.mul, 2), "true_divide": (_core.div, 2),
    "divide": (_core.div, 2), "power": (_core.pow, 2), "matmul": (_core.matmul, 2), "negative": (_core.neg, 1),
    "exp": (_core.exp, 1), "log": (_core.log, 1), "tanh": (_core.tanh, 1), "absolute": (_core.abs, 1),
    "sqrt": (_core.sqrt, 1), "square": (_core.square, 1), "sin": (_core.sin, 1), "cos": (_core.cos, 1),
    "tan": (_core.tan, 1), "exp2": (_core.exp2, 1), "log2": (_core.log2, 1), "log1p": (_core.log1p, 1),
    "expm1": (_core.expm1, 1), "sign": (_core.sign, 1), "maximum": (_core.maximum, 2), "minimum": (_core.minimum, 2),
    "xlogy": (_core.xlogy, 2),  # scipy.special's
}

# What to use instead of numpy functions that have no traced version.
_FLUX_HINTS = {
    "reciprocal": "use 1 / x",
}


_JULIA_JOIN = "use flux.vcat or flux.hcat (Julia's meanings: a vector is a column), or np.concatenate"

# What to use instead of numpy functions (not ufuncs) on traced values.
_FUNCTION_HINTS = {
    "dot": "use x @ y (flux's matmul)", "inner": "use x @ y (flux's matmul)", "vdot": "use flux.sum(x * y)",
    "reshape": "use x.reshape(shape)", "ravel": "use x.reshape(-1)", "transpose": "use x.T",
    "vstack": _JULIA_JOIN, "hstack": _JULIA_JOIN,
    "clip": "use flux.clamp(x, lo, hi)",
}


class Param(_core.Tensor):
    """A trainable array: ``W = flux.param(np.random.rand(2, 5))``.

    Python cannot see a plain ndarray captured in a closure, so weights that ``gradient`` should
    track live in a Param. Outside ``gradient`` it behaves like a numpy array: ``np.asarray(W)`` is
    a view of its memory, ``W + 1`` and ``W @ x`` return numpy arrays, ``W[0]`` is a numpy view, and
    in-place operators (``W -= 0.1 * g``) write into it. Inside ``gradient`` the same operations
    are traced.

    A Param owns a contiguous copy of the data it was made from; float32 and float64 arrays keep
    their dtype, anything else becomes float32 (Flux's default) unless ``dtype`` says otherwise.
    """

    def __init__(self, data, dtype=None):
        super().__init__(data, dtype)

    def _writable(self, what):
        if self.traced:
            raise RuntimeError(f"cannot {what} a Param while gradient is tracing it; update it after gradient returns")
        return self.numpy()

    def __setitem__(self, key, value):
        self._writable("assign into")[key] = value

    def _update(self, ufunc, other):
        view = self._writable("update")
        ufunc(view, other, out=view, casting="unsafe")
        return self

    def __iadd__(self, other):
        return self._update(np.add, other)

    def __isub__(self, other):
        return self._update(np.subtract, other)

    def __imul__(self, other):
        return self._update(np.multiply, other)

    def __itruediv__(self, other):
        return self._update(np.divide, other)

    def sum(self, axis=None, **numpy_options):
        """Sum over all elements or the given axes (keepdims as numpy's); outside gradient numpy's options (dtype, out, keepdims)
        are accepted too, so numpy functions such as np.sum work on a Param."""
        if numpy_options and not self.traced:
            return self.numpy().sum(axis=axis, **numpy_options)
        return super().sum(axis, **numpy_options)

    def mean(self, axis=None, **numpy_options):
        """Mean over all elements or the given axes (numpy's options accepted outside gradient, as sum)."""
        if numpy_options and not self.traced:
            return self.numpy().mean(axis=axis, **numpy_options)
        return super().mean(axis, **numpy_options)

    def copy(self):
        """A new Param with a copy of the data."""
        return Param(self.numpy(), self.dtype)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        return (Param, (self.numpy().copy(), self.dtype))

    def __getattr__(self, name):
        # Called only for names Param and Tensor lack: numpy's other array methods and attributes
        # (tolist, ravel, max, argmax, astype, ...), on a view of the data, outside gradient.
        if name.startswith("__") or name in _RESIZING or not hasattr(np.ndarray, name):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")
        if self.traced:
            raise AttributeError(f"Param.{name} is numpy's and cannot be traced; inside gradient use pyflux "
                                 "operations (flux.sum, flux.mean, reshape, indexing, ...)")
        return getattr(self.numpy(), name)

    def _compare(self, other, op):
        if self.traced:
            raise TypeError("comparing a traced Param has no gradient; compare after gradient returns")
        return op(self.numpy(), np.asarray(other) if isinstance(other, _core.Tensor) else other)

    def __eq__(self, other):
        return self._compare(other, operator.eq)

    def __ne__(self, other):
        return self._compare(other, operator.ne)

    # Elementwise == as numpy's, but still hashable by identity: Params key dicts and sets (a
    # model's parameters, optimiser leaves), which look them up by identity first.
    __hash__ = object.__hash__

    def __lt__(self, other):
        return self._compare(other, operator.lt)

    def __le__(self, other):
        return self._compare(other, operator.le)

    def __gt__(self, other):
        return self._compare(other, operator.gt)

    def __ge__(self, other):
        return self._compare(other, operator.ge)

    def __dlpack__(self, **options):
        """DLPack export of the data (``torch.as_tensor(W)``, ``jax.numpy.asarray(W)``), sharing memory."""
        if self.traced:
            raise TypeError("a traced Param cannot be exported inside gradient (it would lose its gradient); export "
                            "it after gradient returns")
        return self.numpy().__dlpack__(**options)

    def __dlpack_device__(self):
        return self.numpy().__dlpack_device__()

    def __repr__(self):
        if self.traced:
            return f"Param(shape={self.shape}, dtype={self.dtype}, traced)"
        body = np.array2string(self.numpy(), separator=", ", prefix="Param(")
        return f"Param({body}, dtype={self.dtype})"


def param(data, dtype=None):
    """``param(data, dtype=None)``: a trainable :class:`Param` holding a copy of ``data``."""
    return Param(data, dtype)
