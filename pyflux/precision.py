"""f32 and f64: a model with its floating-point arrays converted (Flux's ``f32``/``f64``)."""

import copy

import numpy as np

from pyflux import _core
from pyflux.param import Param
from pyflux.tree import is_layer


def _convert(x, dtype, memo):
    if id(x) in memo:
        return memo[id(x)]
    if isinstance(x, Param):
        out = x if x.dtype == dtype else Param(x.numpy(), dtype)
    elif isinstance(x, _core.Tensor):
        out = x if x.dtype == dtype else _core.Tensor(np.asarray(x), dtype)
    elif isinstance(x, np.ndarray) and x.dtype.kind == "f":
        out = x if x.dtype == dtype else x.astype(dtype)
    elif is_layer(x):
        out = copy.copy(x)
        memo[id(x)] = out
        for name in type(x)._fields:
            object.__setattr__(out, name, _convert(getattr(x, name), dtype, memo))
        if hasattr(out, "_warned_dtype"):
            out._warned_dtype = False
    elif isinstance(x, (tuple, list)) and not hasattr(x, "_fields"):
        out = type(x)(_convert(c, dtype, memo) for c in x)
    elif isinstance(x, dict):
        out = {k: _convert(c, dtype, memo) for k, c in x.items()}
    else:
        out = x
    memo[id(x)] = out
    return out


def f32(model):
    """``f32(model)``: the model with every floating-point array converted to float32.

    Returns a converted copy of the layer structure: Params whose dtype changes are replaced by
    new Params (arrays already float32 are shared, as in Flux), non-trainable float arrays (such as
    BatchNorm's running statistics) are converted too, and integer arrays are left alone. An
    array reachable along two paths stays a single (tied) array. ``model`` itself is unchanged.
    """
    return _convert(model, np.dtype(np.float32), {})


def f64(model):
    """``f64(model)``: the model with every floating-point array converted to float64; see :func:`f32`."""
    return _convert(model, np.dtype(np.float64), {})
