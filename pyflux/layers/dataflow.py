"""SkipConnection and Parallel (Flux's dataflow layers in ``src/layers/basic.jl``)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import reduce
from typing import Any

from pyflux._typing import Input
from pyflux.layers import show
from pyflux.layers.basic import NamedLayers

# Julia's + and * take any number of arguments; Python's operator.add and operator.mul take two.
_NARY = (operator.add, operator.mul)


def _combine(connection, ys):
    if connection in _NARY and len(ys) != 2:
        return reduce(connection, ys)
    return connection(*ys)


class SkipConnection(show.Shown):
    """``SkipConnection(layer, connection)``: ``connection(layer(x), x)``.

    ``SkipConnection(layer, operator.add)`` is a residual block (printed with Julia's ``+``); any
    two-argument function can join the two paths. Trainable: those of ``layer``.

    >>> import operator, pyflux as flux
    >>> print(flux.compact(flux.SkipConnection(flux.Dense(2, 2, flux.relu), operator.add)))
    SkipConnection(Dense(2 => 2, relu), +)
    """

    _fields = ("layers", "connection")

    def __init__(self, layer: Callable[[Any], Any], connection: Callable[..., Any]) -> None:
        if not callable(layer) or not callable(connection):
            raise TypeError("SkipConnection(layer, connection): both must be callable")
        self.layers = layer
        self.connection = connection

    def __call__(self, x: Input) -> Any:
        return self.connection(self.layers(x), x)


class Parallel(show.Shown, NamedLayers):
    """``Parallel(connection, layer1, layer2, ...)`` or ``Parallel(connection, name1=layer1, ...)``.

    With one input ``x``, every layer gets it: ``connection(f1(x), f2(x), ...)``. With ``n``
    inputs and ``n`` layers, ``connection(f1(x1), ..., fn(xn))``; with ``n`` inputs and one layer,
    ``connection(f(x1), ..., f(xn))``. A tuple argument is spread over the inputs
    (``m((x1, x2)) == m(x1, x2)``); any other count of inputs raises ValueError. ``operator.add``
    and ``operator.mul`` are folded over any number of branches (Julia's ``+`` and ``*`` take
    several arguments). Needs at least one layer; the names ``connection`` and ``layers`` are
    reserved. ``m[i]`` and ``m["name"]`` give a layer, ``m.name`` too. Trainable: those of the
    layers.

    >>> import operator, pyflux as flux
    >>> flux.Parallel(operator.add, flux.Dense(10, 2, flux.tanh), flux.Dense(5, 2))
    Parallel(
      +,
      Dense(10 => 2, tanh),                 # 22 parameters
      Dense(5 => 2),                        # 12 parameters
    )                   # Total: 4 arrays, 34 parameters, 344 bytes.
    """

    _fields = ("connection", "layers")

    def __init__(self, connection: Callable[..., Any], /, *layers: Callable[..., Any],
                 **named: Callable[..., Any]) -> None:
        if layers and named:
            raise TypeError("Parallel: give the layers either all by position or all by name")
        for reserved in ("connection", "layers"):
            if reserved in named:
                raise ValueError(f"a Parallel layer cannot have a named sub-layer called `{reserved}`")
        if not layers and not named:
            raise ValueError("Parallel needs at least one layer")
        if not callable(connection):
            raise TypeError(f"Parallel: the connection must be callable, got {connection!r}")
        for key, layer in (named.items() if named else enumerate(layers)):
            if not callable(layer):
                raise TypeError(f"Parallel: layer {key} is not callable: {layer!r}")
        self.connection = connection
        self.layers = dict(named) if named else tuple(layers)

    def __call__(self, *xs):
        if len(xs) == 1 and type(xs[0]) is tuple:
            xs = xs[0]
        branches = self._sequence
        if not xs:
            raise ValueError("Parallel needs at least one input")
        if len(xs) == 1:
            ys = [f(xs[0]) for f in branches]
        elif len(branches) == 1:
            ys = [branches[0](x) for x in xs]
        elif len(xs) == len(branches):
            ys = [f(x) for f, x in zip(branches, xs)]
        else:
            n = len(branches)
            raise ValueError(f"Parallel with {n} > 1 sub-layers can take one input or {n} inputs, "
                             f"but got {len(xs)} inputs")
        return _combine(self.connection, ys)

    def __getitem__(self, i):
        if isinstance(i, str):
            return self.layers[i]
        return self._sequence[i]
