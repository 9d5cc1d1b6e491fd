"""What the layers share: creating a bias, matching an input to the layer's element type, and the
signature that a layer with several constructor forms shows."""

import inspect
import numbers
import typing
import warnings

import numpy as np

from pyflux import _core
from pyflux.param import Param


def check_size(layer, what, value):
    """A layer's size argument as an int, or a ValueError naming the layer and the argument."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {what} must be a positive integer, got {value!r}")
    return int(value)


def check_positive(layer, what, value):
    """A layer's positive real argument (such as eps) as a float."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{layer}: {what} must be a positive number, got {value!r}")
    return float(value)


def check_flag(layer, what, value, allow_none=False):
    """A layer's True/False argument (or None where that means automatic)."""
    if not (value is True or value is False or (allow_none and value is None)):
        allowed = "None, True or False" if allow_none else "True or False"
        raise ValueError(f"{layer}: {what} must be {allowed}, got {value!r}")
    return value


def make_bias(bias, shape, dtype, layer):
    """A layer's bias from its ``bias`` argument: ``True`` gives zeros of ``shape`` in ``dtype``,
    ``False`` or ``None`` gives ``False`` (no bias), an array is checked against ``shape`` and kept
    (a Param of the right dtype as it is, anything else copied into one)."""
    if bias is True:
        return Param(np.zeros(shape, dtype=dtype))
    if bias is False or bias is None:
        return False
    b = np.asarray(bias)
    if b.shape != tuple(shape):
        raise ValueError(f"{layer}: expected bias of shape {tuple(shape)}, got shape {b.shape}")
    return bias if isinstance(bias, Param) and bias.dtype == dtype else Param(b, dtype)


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def warn_eltype(layer, input_dtype, dtype):
    """Flux's warning, once per layer, when float64 input meets float32 parameters (the input is
    converted, which is slow, and usually means an earlier array was not made float32)."""
    # numpy's builtin dtypes are singletons: `is` is exact here, and much cheaper than `==`.
    if input_dtype is _F64 and dtype is _F32 and not getattr(layer, "_warned_dtype", False):
        layer._warned_dtype = True
        warnings.warn(f"layer {layer:c} with float32 parameters got float64 input; the input will be converted, "
                      "but any earlier layers may be slow", stacklevel=4)


def match_eltype(layer, x, dtype):
    """``x`` as an array of the layer's float dtype: traced values pass unchanged; a numpy float64
    input to a float32 layer is converted with one warning per layer (:func:`warn_eltype`), integer
    and other inputs are converted silently."""
    if isinstance(x, _core.Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype == dtype:
        return arr
    warn_eltype(layer, arr.dtype, dtype)
    return arr.astype(dtype)


class _ClassSignature:
    """A class's ``__signature__`` that only the class has: its instances' signature stays that of
    their ``__call__``."""

    def __init__(self, signature):
        self._signature = signature

    def __get__(self, instance, owner=None):
        if instance is not None:
            raise AttributeError("__signature__")
        return self._signature


def shows_first_form(cls):
    """Class decorator for a layer whose ``__init__(*args, ...)`` accepts several forms, each declared
    with ``@typing.overload``: ``inspect.signature(cls)`` and ``help(cls)`` show the first form (the
    type checkers read all of them)."""
    forms = typing.get_overloads(cls.__init__) if hasattr(typing, "get_overloads") else ()  # Python >= 3.11
    if forms:
        signature = inspect.signature(forms[0])
        cls.__signature__ = _ClassSignature(signature.replace(
            parameters=list(signature.parameters.values())[1:], return_annotation=inspect.Signature.empty))
    return cls
