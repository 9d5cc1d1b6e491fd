"""Data utilities: one-hot encoding, ``onecold``, ``flatten`` and the ``DataLoader`` (features x batch)."""

import math
import numbers

import numpy as np

from pyflux import _core
from pyflux.random import default_rng

_NO_DEFAULT = object()
_NUMERIC_KINDS = "biuf"
_MAX_RANGE_TABLE = 1 << 24  # a range of at most this many classes is looked up as an array


# ---------------------------------------------------------------------------------------------------
# one-hot


def _plain(x):
    return x.item() if isinstance(x, np.generic) else x


def _summary(classes):
    """A short text for error messages: the classes themselves, or their ends and their number."""
    if isinstance(classes, range):
        return repr(classes)
    if isinstance(classes, str):
        return repr(classes) if len(classes) <= 40 else f"{classes[:20]!r}...{classes[-5:]!r} ({len(classes)} classes)"
    items = [_plain(c) for c in classes]
    if len(items) <= 12:
        return repr(items)
    head, tail = ", ".join(map(repr, items[:5])), ", ".join(map(repr, items[-2:]))
    return f"[{head}, ..., {tail}] ({len(items)} classes)"


def _numeric_classes(classes):
    """``classes`` as a 1-D numeric array when it is one (a range, an int/float array or list), else None."""
    if isinstance(classes, range):
        return np.arange(classes.start, classes.stop, classes.step) if len(classes) <= _MAX_RANGE_TABLE else None
    if isinstance(classes, str):
        return None
    try:
        c = np.asarray(classes)
    except (ValueError, TypeError):
        return None
    return c if c.ndim == 1 and c.dtype.kind in _NUMERIC_KINDS else None


def _numeric_positions(labels, table):
    """Vectorised lookup: the first position of each label in ``table`` (1-D numeric), -1 where absent."""
    order = np.argsort(table, kind="stable")
    ordered = table[order]
    pos = np.searchsorted(ordered, labels, side="left")
    np.minimum(pos, len(ordered) - 1, out=pos)
    found = ordered[pos] == labels
    return np.where(found, order[pos], -1)


def _range_position(r, x):
    whole = isinstance(x, numbers.Integral) or (
        isinstance(x, numbers.Real) and math.isfinite(x) and float(x).is_integer())
    if not whole:
        return -1
    v = int(x)
    return r.index(v) if v in r else -1


def _generic_positions(labels, classes):
    """Python lookup for any classes (strings, tuples, mixed): a dict of first positions where hashable."""
    if isinstance(classes, range):
        return np.fromiter((_range_position(classes, x) for x in labels), dtype=np.intp, count=len(labels))
    items = classes.tolist() if isinstance(classes, np.ndarray) else list(classes)
    table = {}
    unhashable = []
    for i, c in enumerate(items):
        try:
            table.setdefault(c, i)
        except TypeError:
            unhashable.append((i, c))

    def position(x):
        try:
            i = table.get(x, -1)
        except TypeError:
            i = -1
        for j, c in unhashable:
            if i != -1 and j > i:
                break
            try:
                if bool(c == x):
                    return j
            except (TypeError, ValueError):
                pass
        return i

    return np.fromiter((position(_plain(x)) for x in labels), dtype=np.intp, count=len(labels))


def _positions(labels, classes, default, caller):
    """Positions of ``labels`` (flattened) in ``classes`` and the labels' shape; raises for a missing one."""
    if isinstance(labels, str) or not isinstance(labels, (np.ndarray, list, tuple, range)):
        labels = list(labels)  # a string's characters, or a one-pass iterable
    table = _numeric_classes(classes)
    if table is not None and len(table):
        try:
            arr = np.asarray(labels)
        except (ValueError, TypeError):
            arr = None
        if arr is not None and arr.dtype.kind in _NUMERIC_KINDS:
            flat = arr.reshape(-1)
            return _fill_missing(_numeric_positions(flat, table), flat, classes, default, caller), arr.shape
    if isinstance(labels, np.ndarray):
        shape, flat = labels.shape, labels.reshape(-1).tolist()
    else:
        flat = list(labels)
        shape = (len(flat),)
    return _fill_missing(_generic_positions(flat, classes), flat, classes, default, caller), shape


def _fill_missing(pos, flat_labels, classes, default, caller, what="label"):
    missing = np.flatnonzero(pos < 0)
    if missing.size == 0:
        return pos
    if default is not _NO_DEFAULT:
        (d,) = _fill_missing(_generic_positions([default], classes), [default], classes, _NO_DEFAULT, caller,
                             "the default")
        pos[missing] = d
        return pos
    first = _plain(flat_labels[missing[0]])
    more = f"; {missing.size} labels in all are missing" if missing.size > 1 else ""
    raise ValueError(f"{caller}: {what} {first!r} is not one of the classes {_summary(classes)}{more}")


def onehot(label, classes, default=_NO_DEFAULT):
    """``onehot(label, classes[, default])``: a 1-D float32 array, 1 where ``classes`` first equals ``label``.

    ``classes`` is any sequence (``range(10)``, ``"abc"``, a list of strings, an array). A label
    that is not among the classes raises ValueError, unless ``default`` is given: then the
    default's position is set instead. Flux returns a Bool ``OneHotVector``; pyflux returns a
    dense float32 array of length ``len(classes)`` (positions count from 0).

    >>> onehot("b", "abc")
    array([0., 1., 0.], dtype=float32)
    """
    if isinstance(label, (list, np.ndarray)) and np.ndim(label) > 0:
        raise ValueError(f"onehot: expected one label, got a {type(label).__name__} of {len(label)}; use "
                         "onehotbatch for several labels")
    (i,), _ = _positions([label], classes, default, "onehot")
    out = np.zeros(len(classes), dtype=np.float32)
    out[i] = 1
    return out


def onehotbatch(labels, classes, default=_NO_DEFAULT):
    """``onehotbatch(labels, classes[, default])``: a float32 array of shape ``(len(classes), len(labels))``.

    Column ``k`` is ``onehot(labels[k], classes)`` (features x batch, as in Flux). ``labels`` is any
    iterable (a string gives its characters); an N-d array of labels gives an array of shape
    ``(len(classes), *labels.shape)``. Integer or float labels with numeric classes (a range or an
    array) are looked up in one vectorised pass. A missing label raises ValueError naming it,
    unless ``default`` is given (its position is used instead). Flux returns a Bool
    ``OneHotMatrix``; pyflux returns a dense float32 array.

    >>> onehotbatch([0, 2, 1], range(3))
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    pos, shape = _positions(labels, classes, default, "onehotbatch")
    n = pos.size
    out = np.zeros((len(classes), n), dtype=np.float32)
    out[pos, np.arange(n)] = 1
    return out.reshape((len(classes),) + tuple(shape))


def onecold(y, classes=None):
    """``onecold(y, classes=range(len(y)))``: the class of the largest entry along axis 0.

    A 1-D ``y`` (one sample of scores) gives a single label; a ``(k, N)`` array gives the label of
    each column (an integer array when the classes are numeric, else a list); more axes give an
    array of shape ``y.shape[1:]``. Ties go to the first maximum. Without ``classes`` the result
    is the 0-based index (Flux's default labels are ``1:k``). A column whose maximum is NaN, or
    classes whose number is not ``y.shape[0]``, raise ValueError.

    >>> onecold([0.1, 0.7, 0.2], "abc")
    'b'
    """
    a = np.asarray(y)
    if a.ndim == 0 or a.shape[0] == 0:
        raise ValueError(f"onecold: y must have at least one entry along axis 0 (features), got shape {a.shape}")
    idx = np.argmax(a, axis=0)
    if a.dtype.kind in "fc":
        top = np.take_along_axis(a, np.expand_dims(idx, 0), axis=0)[0]
        bad = np.flatnonzero(np.isnan(top))
        if bad.size:
            column = tuple(int(i) for i in np.unravel_index(bad[0], idx.shape))
            where = "" if a.ndim == 1 else f" in column {column[0] if a.ndim == 2 else column}"
            raise ValueError(f"onecold: the maximum is NaN{where}")
    if classes is not None and len(classes) != a.shape[0]:
        raise ValueError(f"onecold: {len(classes)} classes for y with {a.shape[0]} entries along axis 0 "
                         f"(shape {a.shape})")
    if a.ndim == 1:
        i = int(idx)
        return i if classes is None else classes[i]
    if classes is None:
        return idx
    table = _numeric_classes(classes)
    if table is not None:
        return table[idx]
    seq = classes if isinstance(classes, (str, list, tuple)) else list(classes)
    if a.ndim == 2:
        return [seq[i] for i in idx.tolist()]
    out = np.empty(idx.size, dtype=object)
    for k, i in enumerate(idx.ravel().tolist()):
        out[k] = seq[i]
    return out.reshape(idx.shape)


# ---------------------------------------------------------------------------------------------------
# flatten


def flatten(x):
    """``flatten(x)``: ``x`` reshaped to ``(prod(x.shape[:-1]), x.shape[-1])``, keeping the batch axis.

    As Flux's ``flatten``: a ``(28, 28, 1, N)`` batch becomes ``(784, N)`` and a 1-D array of
    length n becomes ``(1, n)``. A numpy array gives a view where numpy can; a traced value (inside
    ``gradient``) or a Param is reshaped by the core, so the reshape is differentiated.
    """
    if isinstance(x, _core.Tensor):
        shape = tuple(x.shape)
    else:
        x = np.asarray(x)
        shape = x.shape
    if len(shape) == 0:
        raise ValueError("flatten: a 0-d value has no batch axis to keep")
    new_shape = (math.prod(shape[:-1]), shape[-1])
    return _core.reshape(x, new_shape) if isinstance(x, _core.Tensor) else x.reshape(new_shape)


# ---------------------------------------------------------------------------------------------------
# DataLoader


def _as_observations(a, name):
    if isinstance(a, (tuple, dict)):
        raise TypeError(f"DataLoader: {name} is a {type(a).__name__}; nested containers are not supported, "
                        "pass a flat tuple of arrays")
    arr = np.asarray(a)
    if arr.ndim == 0:
        raise ValueError(f"DataLoader: {name} is 0-dimensional; observations lie along the last axis")
    return arr


def _describe(a):
    if a.ndim == 1:
        return f"{a.shape[0]}-element {a.dtype} array"
    return f"{'x'.join(map(str, a.shape))} {a.dtype} array"


def _gather(a, idx):
    """Observations ``idx`` (a slice or index array) of ``a`` along its last axis, as a fresh contiguous array.

    C-ordered data gives a C-ordered batch (``np.take``). Other layouts use fancy indexing, which
    reads only the selected observations whatever ``a``'s strides are (``np.take`` would first copy
    the whole array), and keeps Fortran order for Fortran-ordered data: batch-first storage seen
    through ``.T``, where each observation is one contiguous block, the fastest layout to shuffle.
    """
    fortran = a.flags.f_contiguous and not a.flags.c_contiguous
    if isinstance(idx, slice):
        return np.array(a[..., idx], order="F" if fortran else "C")
    if a.flags.c_contiguous:
        return np.take(a, idx, axis=-1)
    b = a[..., idx]
    if not (b.flags.c_contiguous or b.flags.f_contiguous):
        b = np.array(b, order="F" if fortran else "C")
    return b


class DataLoader:
    """``DataLoader(data, *, batchsize=1, shuffle=False, partial=True, rng=None)``: an iterable of mini-batches.

    ``data`` is one array with observations along its **last** axis (features x batch), or a tuple
    (or named tuple, or dict) of such arrays with the same number of observations; each batch is
    an array, or a tuple (named tuple, dict) of arrays, holding ``batchsize`` observations along the
    last axis. ``batchsize=1`` still keeps that axis (``(784, 1)``); a negative ``batchsize``
    yields single observations without it. ``shuffle=True`` draws a new order at every ``iter()``
    (every epoch) from ``rng`` (a numpy Generator, or an int seed; None: the default generator,
    which :func:`pyflux.seed` sets).
    ``partial=False`` drops a last batch shorter than ``batchsize``. ``len(loader)`` is the number
    of batches.

    Batches are fresh contiguous arrays (changing them leaves ``data`` alone). A shuffled batch of
    data stored batch-first and passed as ``X.T`` (each observation contiguous, as ``load_mnist``
    returns images) gathers fastest, and comes back in the same (Fortran) order.

    As in Flux, pass several arrays as one tuple: ``DataLoader((X, Y), batchsize=128)``.

    >>> X, Y = np.zeros((784, 1000), np.float32), np.zeros(1000, np.int64)
    >>> loader = DataLoader((X, Y), batchsize=128, shuffle=True, rng=0)
    >>> len(loader), [b.shape for b in next(iter(loader))]
    (8, [(784, 128), (128,)])
    """

    def __init__(self, data, *more, batchsize=1, shuffle=False, partial=True, rng=None):
        if more:
            raise TypeError(f"DataLoader takes one data argument, got {1 + len(more)} positional arguments; to "
                            "iterate over several arrays together pass them as one tuple, "
                            "DataLoader((X, Y), batchsize=...), and give batchsize, shuffle, partial and rng "
                            "as keywords")
        if isinstance(batchsize, bool) or not isinstance(batchsize, numbers.Integral) or batchsize == 0:
            raise ValueError(f"DataLoader: batchsize must be a positive integer (or negative for single "
                             f"observations), got {batchsize!r}")
        self.batchsize = int(batchsize)
        self.shuffle = bool(shuffle)
        self.partial = bool(partial)
        self.rng = rng
        self._rng = None if rng is None else np.random.default_rng(rng)
        self.data = data
        if isinstance(data, dict):
            self._keys, arrays = list(data), [_as_observations(v, f"data[{k!r}]") for k, v in data.items()]
        elif isinstance(data, tuple):
            self._keys, arrays = None, [_as_observations(v, f"data[{i}]") for i, v in enumerate(data)]
            if not arrays:
                raise ValueError("DataLoader: data is an empty tuple")
        elif isinstance(data, list) and data and all(isinstance(v, np.ndarray) for v in data):
            raise TypeError("DataLoader: data is a list of arrays; pass a tuple, DataLoader((X, Y), batchsize=...)")
        else:
            self._keys, arrays = None, [_as_observations(data, "data")]
        counts = [a.shape[-1] for a in arrays]
        if len(set(counts)) > 1:
            raise ValueError(f"DataLoader: the arrays must have the same number of observations (length of the "
                             f"last axis), got lengths {tuple(counts)} for shapes {tuple(a.shape for a in arrays)}")
        self._arrays = arrays
        self.nobs = counts[0]

    def __len__(self):
        if self.batchsize < 0:
            return self.nobs
        full, rest = divmod(self.nobs, self.batchsize)
        return full + (1 if rest and self.partial else 0)

    def _pack(self, parts):
        data = self.data
        if isinstance(data, dict):
            return dict(zip(self._keys, parts))
        if isinstance(data, tuple):
            return type(data)(*parts) if hasattr(data, "_fields") else tuple(parts)
        return parts[0]

    def _epoch_order(self):
        """A new order of the observations for one pass (a permutation when shuffling), or None: as given."""
        return (self._rng or default_rng()).permutation(self.nobs) if self.shuffle else None

    def __iter__(self):
        n = self.nobs
        order = self._epoch_order()
        if self.batchsize < 0:
            for i in range(n):
                j = i if order is None else int(order[i])
                yield self._pack([np.array(a[..., j]) for a in self._arrays])
            return
        for k in range(len(self)):
            start, stop = k * self.batchsize, min((k + 1) * self.batchsize, n)
            idx = slice(start, stop) if order is None else order[start:stop]
            yield self._pack([_gather(a, idx) for a in self._arrays])

    def __repr__(self):
        if isinstance(self.data, dict):
            inner = "{" + ", ".join(f"{k!r}: {_describe(a)}" for k, a in zip(self._keys, self._arrays)) + "}"
        elif isinstance(self.data, tuple):
            inner = "(" + ", ".join(_describe(a) for a in self._arrays) + ("," if len(self._arrays) == 1 else "") + ")"
            if hasattr(self.data, "_fields"):
                inner = type(self.data).__name__ + inner
        else:
            inner = _describe(self._arrays[0])
        options = []
        if self.shuffle:
            options.append("shuffle=True")
        if self.batchsize != 1:
            options.append(f"batchsize={self.batchsize}")
        if not self.partial:
            options.append("partial=False")
        if self.rng is not None:
            options.append(f"rng={self.rng!r}")
        return f"DataLoader(data::{inner}" + "".join(", " + o for o in options) + ")"
