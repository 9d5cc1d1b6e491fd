"""Train and test modes (Flux's ``trainmode!``, ``testmode!``) and ``within_gradient``.

Layers that behave differently in training (Dropout, BatchNorm) have a field ``active``:

* ``None`` (the default, "automatic"): the layer is active only while a gradient is being taken,
  so a plain ``model(x)`` is inference and the same call inside ``gradient``/``train`` is training;
* ``True``: always active (``trainmode(m)``); ``False``: never active (``testmode(m)``).
"""

from pyflux import _core
from pyflux.tree import children


def within_gradient(*xs):
    """True while ``gradient``, ``withgradient`` or ``train`` is recording on this thread, or when
    any of ``xs`` is a traced value (Flux's ``NNlib.within_gradient``)."""
    return _core.recording() or any(getattr(x, "traced", False) for x in xs)


def isactive(layer, *xs):
    """Whether a mode-dependent layer acts as in training for the input ``xs``."""
    return within_gradient(*xs) if layer.active is None else layer.active


def _set_active(model, value, seen):
    if id(model) in seen:
        return
    seen.add(id(model))
    if getattr(type(model), "_has_mode", False):
        model.active = value
    for _, child in children(model):
        _set_active(child, value, seen)


def _mode_value(mode, name):
    if mode == "auto" or mode is None:
        return None
    if isinstance(mode, bool):
        return mode
    raise ValueError(f"{name}: mode must be True, False or 'auto', got {mode!r}")


def testmode(model, mode=True):
    """``testmode(model, mode=True)`` -> model: put every Dropout/BatchNorm inside ``model`` in test mode.

    ``mode=True`` makes them inactive (inference behaviour even inside ``gradient``), ``False``
    active, ``"auto"`` restores the automatic default (active only while a gradient is taken).
    Changes the layers in place and returns the model, as Flux's ``testmode!``.
    """
    value = _mode_value(mode, "testmode")
    _set_active(model, value if value is None else not value, set())
    return model


def trainmode(model, mode=True):
    """``trainmode(model, mode=True)`` -> model: put every Dropout/BatchNorm inside ``model`` in training
    mode (always active); ``mode=False`` is test mode and ``"auto"`` the automatic default. Changes
    the layers in place and returns the model, as Flux's ``trainmode!``."""
    _set_active(model, _mode_value(mode, "trainmode"), set())
    return model


def active_text(active):
    """The ``, active=true`` part of a printed layer (empty in the automatic mode)."""
    return "" if active is None else f", active={str(active).lower()}"
