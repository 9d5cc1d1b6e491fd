"""Text forms of models, laid out as Flux 0.16 prints them (Flux's ``src/layers/show.jl``).

Two forms, like Flux's two ``show`` methods:

* **expanded**, what ``repr(model)`` and ``str(model)`` give, so what the Python prompt, a
  notebook cell and ``print(model)`` show (Flux's REPL form)::

      Chain(
        Dense(784 => 40, relu),               # 31_400 parameters
        Dense(40 => 10),                      # 410 parameters
        softmax,
      )                   # Total: 4 arrays, 31_810 parameters, 124.461 KiB.

* **compact**, one line, ``compact(model)`` or ``format(model, "c")`` (``f"{model:c}"``):
  ``Dense(5 => 2, tanh; bias=false)``, ``Chain(Dense(2 => 3, σ), Dense(3 => 2), softmax)``. Layers
  nested in a one-line form print this way. Plain callables print by name (``softmax``,
  ``<lambda>``); activations by their Flux name (``σ``).

Rules of the expanded form:

* A layer whose children (its fields, with tuples, lists and dicts splatted) hold no layer is
  printed on one line: its compact form, then, if it holds trainable arrays, ``# N parameters``
  with the ``#`` at column 20 for the top-level layer and column 40 inside a container, or 2
  spaces after the text where it is longer. A trailing comma inside a container does not count
  towards the column. ``, plus M`` follows when the layer also holds non-trainable arrays (``, plus
  M non-trainable`` at top level), then a flag: ``  (all zero)`` if every trainable value is 0,
  else ``  (some NaN)`` or ``  (some Inf)``. A layer without trainable arrays gets no comment.
* Any other layer opens with ``TypeName(`` and prints each child on its own line, 2 spaces further
  in and followed by ``,`` (``name = `` before children kept in a dict); its ``)`` is at its own
  indentation, followed by ``,`` when nested.
* After the outermost ``)``, and only when the model has more than 2 trainable arrays, a footer:
  ``# Total: A arrays, P parameters, SIZE.`` with the ``#`` at column 20, or, when the model holds
  non-trainable arrays, two lines::

      )         # Total: 6 trainable arrays, 51_018 parameters,
                # plus 2 non-trainable, 128 parameters, summarysize 200.211 KiB.

* Parameter counts are grouped by underscores (``1_628_170``); array counts are not.
* Trainable arrays are :class:`pyflux.Param` instances; non-trainable ones are numpy arrays of
  numbers (a normalisation layer's running statistics). Each array is counted once however many
  times it is reachable.
* SIZE is what Julia's ``Base.summarysize`` reports for the same Flux model (Julia >= 1.11, 64-bit),
  see :func:`summarysize`, written by :func:`format_bytes` (``404 bytes``, ``124.461 KiB``).

Hooking a layer in. A layer is a class with ``_fields`` (see :mod:`pyflux.tree`). Deriving from
:class:`Shown` gives it both forms; a layer with arrays writes its own one-line form in a
``_compact`` method (Dense's ``Dense(5 => 2)``), a container leaves it out and prints as
``TypeName(child, ...)``. A layer class that does not derive from :class:`Shown` prints inside a
model by its own ``__repr__`` if it has one. Two optional class attributes make
:func:`summarysize` exact for layers that Julia stores differently: ``_mutable = True`` for a layer
that Flux defines as a mutable struct (BatchNorm, Dropout), and ``_struct_bytes`` for the Julia
struct's size when the default (8 bytes per array or number field, 1 per bool, 0 per function,
rounded up to a multiple of 8) is wrong. ``_noexpand = True`` prints a layer on one line even when
it holds other layers (Flux's ``@layer :noexpand``, used by LayerNorm). Named children (a dict
field, as in a named Chain or Parallel) print as ``name = child`` in both forms.
"""

import math
import numbers
import operator

import numpy as np

from pyflux.activations import Activation
from pyflux.param import Param
from pyflux.tree import children, is_layer

_COMMENT_COLUMN = {True: 20, False: 39}  # top level, nested; 39 because the comma is not counted
_OPERATOR_NAMES = {operator.add: "+", operator.sub: "-", operator.mul: "*"}  # Julia's names for them


def name(f):
    """The name a function prints as: an activation's Flux name, ``+``/``-``/``*`` for
    ``operator.add``/``sub``/``mul``, else ``__name__``, else its repr."""
    if isinstance(f, Activation):
        return f.name
    if type(f) is type(operator.add) and f in _OPERATOR_NAMES:
        return _OPERATOR_NAMES[f]
    return getattr(f, "__name__", None) or repr(f)


class Shown:
    """The text forms of a layer: ``repr`` and ``str`` give the expanded form, ``format(layer, "c")``
    the one-line form (IPython and notebooks show the expanded form too)."""

    def __repr__(self):
        return expanded(self)

    def __str__(self):
        return expanded(self)

    def __format__(self, spec):
        if spec == "c":
            return compact(self)
        if spec == "":
            return expanded(self)
        raise ValueError(f"format spec {spec!r} for {type(self).__name__}: use 'c' for the one-line form, or no spec "
                         "for the expanded form")

    def _repr_pretty_(self, printer, cycle):
        printer.text(compact(self) if cycle else expanded(self))


def compact(x):
    """The one-line form (``Chain(Dense(2 => 3), relu)``): a layer's own ``_compact()`` text, or
    ``TypeName(child, ...)``; a function prints as its :func:`name`, anything else as its repr."""
    own = getattr(x, "_compact", None)
    if own is not None:
        return own()
    if is_layer(x) and (isinstance(x, Shown) or type(x).__repr__ is object.__repr__):
        parts = (_prefix(key) + compact(child) for key, child in _show_children(x))
        return f"{type(x).__name__}(" + ", ".join(parts) + ")"
    return name(x) if callable(x) and not is_layer(x) else repr(x)


def expanded(model):
    """The multi-line form Flux prints at the REPL; see the module docstring for the layout."""
    lines = []
    _big_show(model, lines, indent=0, key=None)
    return "\n".join(lines)


def summarysize(model):
    """Bytes Julia's ``Base.summarysize`` gives for the equivalent Flux model.

    Each distinct array costs ``32 + 8 * ndim`` bytes of header plus its data; each layer struct
    costs its Julia size once: inline in its parent (8 bytes per array pointer, containers summed),
    or, for a mutable layer, an 8-byte pointer in its parent plus its own size. Functions cost 0.
    """
    params, buffers = _arrays(model)
    data = sum(32 + 8 * a.ndim + a.size * a.dtype.itemsize for a in params + buffers)
    inline, heap = _struct_bytes(model)
    own = 0 if getattr(type(model), "_mutable", False) else inline
    return data + own + heap


def format_bytes(n):
    """Julia's ``Base.format_bytes``: ``1 byte``, ``1024 bytes``, ``1.001 KiB``, ``6.211 MiB``."""
    units = ("byte", "KiB", "MiB", "GiB", "TiB", "PiB")
    unit = 1 if n in (0, 1) else min(len(units), math.ceil(math.log(n) / math.log(1024)))
    if unit == 1:
        return f"{n} byte" + ("" if n == 1 else "s")
    return f"{n / 1024 ** (unit - 1):.3f} {units[unit - 1]}"


def _show_children(x):
    """(key, child) pairs of a layer, its tuple/list/dict fields splatted; keys are dict keys or None."""
    if not is_layer(x):
        return []
    pairs = []
    for _, value in children(x):
        if isinstance(value, dict):
            pairs.extend(value.items())
        elif isinstance(value, (tuple, list)):
            pairs.extend((None, v) for v in value)
        else:
            pairs.append((None, value))
    return pairs


def _holds_layer(x):
    return is_layer(x) or any(_holds_layer(c) for _, c in children(x))


def _prefix(key):
    return "" if key is None else f"{key} = "


def _big_show(x, lines, indent, key):
    kids = _show_children(x)
    if getattr(type(x), "_noexpand", False) or not any(_holds_layer(child) for _, child in kids):
        lines.append(_layer_line(x, indent, key))
        return
    pad = " " * indent
    lines.append(pad + _prefix(key) + type(x).__name__ + "(")
    for child_key, child in kids:
        _big_show(child, lines, indent + 2, child_key)
    lines.append((pad + "),") if indent else (")" + _footer(x)))


def _layer_line(x, indent, key):
    text = _prefix(key) + compact(x)
    line = " " * indent + text + ("," if indent else "")
    params, buffers = _arrays(x)
    if not params:
        return line
    spaces = max(2, _COMMENT_COLUMN[indent == 0] - indent - len(text))
    line += " " * spaces + f"# {_count(params):_} parameters"
    if buffers:
        line += f", plus {_count(buffers):_}" + ("" if indent else " non-trainable")
    return line + _flag(params)


def _footer(model):
    params, buffers = _arrays(model)
    if len(params) <= 2:
        return ""
    size = format_bytes(summarysize(model))
    if not buffers:
        return " " * 19 + f"# Total: {len(params)} arrays, {_count(params):_} parameters, {size}."
    return (" " * 9 + f"# Total: {len(params)} trainable arrays, {_count(params):_} parameters,\n"
            + " " * 10 + f"# plus {len(buffers)} non-trainable, {_count(buffers):_} parameters, summarysize {size}.")


def _flag(params):
    if any(p.traced for p in params):  # values are out of reach while gradient traces them
        return ""
    values = [np.asarray(p) for p in params]
    if all(not v.any() for v in values):
        return "  (all zero)"
    if any(np.isnan(v).any() for v in values):
        return "  (some NaN)"
    if any(np.isinf(v).any() for v in values):
        return "  (some Inf)"
    return ""


def _count(arrays):
    return sum(a.size for a in arrays)


def _arrays(x):
    """The distinct arrays reachable from x: (trainable Params, non-trainable numpy arrays of numbers)."""
    params, buffers, seen = [], [], set()
    stack = [x]
    while stack:
        y = stack.pop()
        if isinstance(y, (Param, np.ndarray)):
            if id(y) not in seen:
                seen.add(id(y))
                if isinstance(y, Param):
                    params.append(y)
                elif np.issubdtype(y.dtype, np.number):
                    buffers.append(y)
            continue
        stack.extend(child for _, child in children(y))
    return params, buffers


def _struct_bytes(x):
    """Julia struct bytes of x, arrays' own costs excluded: (bytes inside its parent, bytes allocated apart)."""
    if isinstance(x, (Param, np.ndarray)):
        return 8, 0
    if isinstance(x, bool):
        return 1, 0
    if isinstance(x, numbers.Number):
        return 8, 0
    if not is_layer(x) and not isinstance(x, (tuple, list, dict)):
        return 0, 0  # functions and other singletons
    inline = heap = 0
    for _, child in children(x):
        child_inline, child_heap = _struct_bytes(child)
        inline, heap = inline + child_inline, heap + child_heap
    if not is_layer(x):
        return inline, heap
    size = getattr(type(x), "_struct_bytes", -(-inline // 8) * 8)
    if getattr(type(x), "_mutable", False):
        return 8, heap + size
    return size, heap
