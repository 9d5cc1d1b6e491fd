"""gradient and withgradient, in Flux's explicit style (``gradient(f, x, model)``) and its implicit
style (``gradient(lambda: loss(x, y), params(model))``)."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from pyflux import _core
from pyflux.param import Param
from pyflux.tree import holds_params, mirror, trainables


class Params:
    """``params(model)`` or ``params(W, b)``: an ordered collection of Params, each once.

    Supports ``len``, iteration, indexing and ``in``. Pass it to ``gradient(f, ps)`` (with a
    zero-argument f), ``update(opt, ps, grads)`` and ``train(loss, ps, data, opt)``.
    """

    def __init__(self, items=()):
        self._items = trainables(*items)
        self._ids = {id(p) for p in self._items}

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def __getitem__(self, i):
        return self._items[i]

    def __contains__(self, p):
        return id(p) in self._ids

    def __repr__(self):
        shapes = ", ".join(f"{p.dtype}{list(p.shape)}" for p in self._items)
        return f"Params([{shapes}])"


def params(*xs: Any) -> Params:
    """``params(model)`` / ``params(W, b)``: the trainable arrays of the arguments, as :class:`Params`."""
    return Params(xs)


class Grads:
    """Gradients from the implicit style, indexed by parameter: ``grads[W]``.

    ``grads[p]`` is a numpy array, or None when the loss does not depend on ``p``; indexing with an
    array that is not among the params raises KeyError.
    """

    def __init__(self, ps, arrays):
        self.params = ps
        self._by_id = {id(p): g for p, g in zip(ps, arrays)}

    def __getitem__(self, p):
        try:
            return self._by_id[id(p)]
        except KeyError:
            raise KeyError(f"no gradient for an array of shape {getattr(p, 'shape', None)}: it is not in the params "
                           "the gradient was taken for") from None

    def __contains__(self, p):
        return id(p) in self._by_id

    def __len__(self):
        return len(self._by_id)

    def __iter__(self):
        return iter(self.params)

    def keys(self):
        return list(self.params)

    def values(self):
        return [self[p] for p in self.params]

    def items(self):
        return [(p, self[p]) for p in self.params]

    def __repr__(self):
        return f"Grads(<{len(self)} arrays>)"


def _as_numpy(g):
    return None if g is None else np.asarray(g)


class _Argument:
    """How one argument of gradient enters the tape and how its gradient comes back."""

    def __init__(self, value, tape):
        self.value, self.leaves, self.kind = value, [], "none"
        if isinstance(value, Param):
            self.kind, self.leaves = "param", [value]
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            self.kind = "scalar"
            self.value = _core.Tensor(np.float64(value), np.float64)
            self.leaves = [self.value]
        elif isinstance(value, (np.ndarray, _core.Tensor)):
            arr = np.asarray(value)
            dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64
            self.kind = "array"
            self.value = _core.Tensor(arr, dtype)
            self.leaves = [self.value]
        elif holds_params(value):
            self.kind, self.leaves = "model", trainables(value)
        elif isinstance(value, (list, tuple)) or hasattr(value, "__array__") or hasattr(value, "__dlpack__"):
            raise TypeError(f"gradient: cannot differentiate with respect to a {type(value).__module__}."
                            f"{type(value).__qualname__}; pass a numpy array (np.asarray(x)), a number, a Param "
                            "or a model holding Params")
        for leaf in self.leaves:
            tape.watch(leaf)

    def gradient(self, grads_by_id):
        if self.kind == "none":
            return None
        if self.kind == "model":
            return mirror(self.value, lambda p: _as_numpy(grads_by_id.get(id(p))))
        g = grads_by_id.get(id(self.leaves[0]))
        if g is None:
            return None
        return float(g) if self.kind == "scalar" else np.asarray(g)


def _scalar_output(out, tape):
    """The differentiated part of f's result: its first element when f returns a tuple (the rest is
    auxiliary output, as in Flux). A result computed from traced values that is no longer traced
    (float(), .item(), a list) would silently give no gradient, so it is refused."""
    loss = out[0] if isinstance(out, tuple) else out
    if not isinstance(loss, _core.Tensor) and tape.recorded:
        raise TypeError(f"gradient: the function returned a {type(loss).__name__}, which cuts the gradient of the "
                        "traced values it was computed from; return the traced value itself (no float(), .item(), "
                        "tolist() or list around the loss; convert after gradient returns)")
    return loss


def _plain(x):
    """A result of f made plain after the tape is done: Tensors, also inside tuples (named ones
    keep their type), lists and dicts, become floats or numpy arrays."""
    if isinstance(x, _core.Tensor):
        return float(x) if x.size == 1 and x.ndim == 0 else np.asarray(x)
    if isinstance(x, tuple):
        items = [_plain(v) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(x, list):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def withgradient(f: Callable[..., Any], *args: Any) -> tuple[Any, tuple[Any, ...] | Grads]:
    """``withgradient(f, *args) -> (value, grads)``: f's value and its gradient.

    Explicit style: ``grads`` is a tuple with one entry per argument: a float for a number, a numpy
    array for an array or Param, a structure mirroring a model (``grads[0].layers[0].weight``), or
    None for anything not differentiable. Implicit style: with a single :class:`Params` argument, f
    takes no arguments and ``grads`` is a :class:`Grads` indexed by parameter.

    f must return a scalar, or a tuple whose first element is the scalar to differentiate (the rest
    is returned in ``value`` untouched).
    """
    if any(isinstance(a, _core.Tensor) and a.traced for a in args):
        raise RuntimeError("gradient: a gradient is already being taken on this thread; nested gradients are not "
                           "supported")
    tape = _core.Tape()
    if len(args) == 1 and isinstance(args[0], Params):
        ps = list(args[0])
        for p in ps:
            tape.watch(p)
        with tape:
            out = f()
        grads = tape.gradient(_scalar_output(out, tape), ps)
        return _plain(out), Grads(ps, [_as_numpy(g) for g in grads])
    arguments = [_Argument(a, tape) for a in args]
    leaves = [leaf for arg in arguments for leaf in arg.leaves]
    with tape:
        out = f(*(arg.value for arg in arguments))
    grads = tape.gradient(_scalar_output(out, tape), leaves)
    by_id = {id(leaf): g for leaf, g in zip(leaves, grads)}
    return _plain(out), tuple(arg.gradient(by_id) for arg in arguments)


def gradient(f: Callable[..., Any], *args: Any) -> tuple[Any, ...] | Grads:
    """``gradient(f, *args)``: the gradient of the scalar ``f(*args)`` with respect to each argument.

    >>> import pyflux as flux
    >>> flux.gradient(lambda x: 2 * x**2 + 3, 3.0)
    (12.0,)

    See :func:`withgradient` for what comes back for each kind of argument, and for the implicit
    style ``gradient(lambda: loss(x, y), params(model))``.
    """
    return withgradient(f, *args)[1]
