"""Activation functions with NNlib's formulas, defaults and kink conventions, one for each
activation of the core's op table (``_core.op_table()``), which gives each its code, parameter
and docstring. Each works on traced values, numpy arrays and Python numbers (giving a float), and
each is fused into Dense's forward pass. Names print as Flux 0.16 prints them (``σ``, ``hardσ``,
``logσ``, ``gelu_tanh``); the ASCII names ``sigmoid``, ``hardsigmoid``, ``logsigmoid`` (and
``gelu_tanh`` for ``gelu``) are the same objects."""

import inspect
import numbers

import numpy as np

from pyflux import _core


class Activation:
    """A named elementwise function. ``code`` selects its kernel inside Dense's fused pass, and
    ``param`` is the parameter that pass uses (the default; None for activations without one)."""

    def __init__(self, name, code, op, doc, param=None, keyword=None):
        self.name, self.code, self.param, self._op = name, code, param, op
        self.__doc__ = doc
        # What inspect.signature and help() show: (x) or (x, a=0.01).
        x = inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        extra = [] if keyword is None else [inspect.Parameter(keyword, x.kind, default=param)]
        self.__signature__ = inspect.Signature([x, *extra])

    def __call__(self, x, *args, **kwargs):
        if isinstance(x, numbers.Real):
            return float(self._op(np.float64(x), *args, **kwargs))
        return self._op(x, *args, **kwargs)

    def __repr__(self):
        return self.name


def _identity(x):
    return x


# Where Flux's name differs from the core's: (the printed name, the other names of the same object).
_FLUX_NAMES = {
    "sigmoid": ("σ", ("σ",)),
    "hardsigmoid": ("hardσ", ("hardσ",)),
    "logsigmoid": ("logσ", ("logσ",)),
    "gelu": ("gelu_tanh", ("gelu_tanh",)),
}


def _build():
    exported = {}
    for entry in _core.op_table():
        if entry.get("kind") != "activation":
            continue
        name = entry["name"]
        shown, aliases = _FLUX_NAMES.get(name, (name, ()))
        # identity hands its argument back untouched (Dense skips it), as Flux's does.
        op = _identity if name == "identity" else getattr(_core, name)
        act = Activation(shown, entry["code"], op, entry["doc"], param=entry["default"], keyword=entry["param"])
        for n in (name, *aliases):
            exported[n] = act
    return exported


_ACTIVATIONS = _build()
globals().update(_ACTIVATIONS)
__all__ = sorted(_ACTIVATIONS)
