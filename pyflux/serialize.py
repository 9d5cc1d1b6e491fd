"""Saving and loading model state: ``state``, ``loadmodel``, ``save``, ``load``.

As in Flux, what is stored is a model's *state* (its arrays), not the model object: rebuild the
model in code, then load the arrays into it::

    flux.save("model.npz", model)
    model = build_model()            # same architecture, fresh weights
    flux.load("model.npz", model)

The state tree
    ``state(model)`` mirrors the model as nested dicts. A layer (an object whose class declares
    ``_fields``) becomes a dict keyed by field name; a tuple or list becomes a dict keyed by
    ``"0"``, ``"1"``, ...; a dict keeps its keys (as strings). The leaves are numpy copies of every
    array in the model: trainable :class:`~pyflux.Param` values (and any other ``_core.Tensor``)
    and plain numpy arrays with a numeric dtype (bool, integer, float, complex) held in layer
    fields, such as a normalisation layer's running statistics. Everything else (activation
    functions, ``bias=False``, ``None``, Python numbers, strings, object arrays) is left out, and
    so is any branch holding no array at all: ``Chain(Dense(2, 3), relu, Dense(3, 1))`` gives
    ``{"layers": {"0": {"weight": W0, "bias": b0}, "2": {"weight": W1, "bias": b1}}}``. An array
    reachable along two paths (a tied weight) appears at both.

File format (format version 1)
    An uncompressed numpy ``.npz`` archive (a zip of ``.npy`` members, readable with
    ``np.load(path, allow_pickle=False)``) with one member per array, named by the array's dotted
    path in the state tree (``layers.0.weight``), plus the member ``__pyflux_format__``: a 0-d
    int64 array holding the format version. Arrays are stored with their own dtype, shape and
    bytes, so a round trip is exact. No member is ever a pickled object, and :func:`load` never
    unpickles: a file holding an object array is refused. Because dots separate path segments,
    a model whose field names or dict keys contain ``"."`` (or are empty) cannot be saved.
"""

import errno
import math
import os
import secrets
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np

from pyflux import _core
from pyflux.optimise import Leaf
from pyflux.tree import children, is_layer

__all__ = ["FORMAT_VERSION", "load", "loadmodel", "save", "state"]

FORMAT_VERSION = 1
_MARKER = "__pyflux_format__"
_NUMERIC_KINDS = frozenset("biufc")
_NOTHING = object()


# ----------------------------------------------------------------------------------------------
# walking the model


def _is_array(x):
    if isinstance(x, _core.Tensor):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind in _NUMERIC_KINDS


def _join(path, key):
    return f"{path}.{key}" if path else key


def _where(path):
    return path if path else "the model"


def _array_tree(x, path="", active=None):
    """The model's arrays (the objects themselves) in the shape of ``state``; _NOTHING if none."""
    if _is_array(x):
        return x
    if isinstance(x, Leaf):
        x = x.state.arrays()  # an optimiser state tree: moments, step count and powers, as views
    kids = children(x)
    if not kids:
        return _NOTHING
    active = set() if active is None else active
    if id(x) in active:
        raise ValueError(f"{_where(path)}: the model contains a reference cycle")
    active.add(id(x))
    tree = {}
    for key, child in kids:
        name = str(key)
        sub = _array_tree(child, _join(path, name), active)
        if sub is _NOTHING:
            continue
        if name in tree:
            raise ValueError(f"{_where(path)}: two keys are both written {name!r}")
        tree[name] = sub
    active.discard(id(x))
    return tree if tree else _NOTHING


def _map_leaves(tree, fn):
    if isinstance(tree, dict):
        return {k: _map_leaves(v, fn) for k, v in tree.items()}
    return fn(tree)


def state(model):
    """``state(model)`` -> nested dict of numpy array copies (Flux's ``Flux.state``).

    The dict mirrors the model: field names for layers, ``"0"``, ``"1"``, ... for tuple and list
    entries, the (string) keys of dicts. Leaves are copies of every array in the model, trainable
    Params and non-trainable numeric numpy arrays alike, each with its own dtype and shape.
    Fields holding no array (activations, ``bias=False``, ``None``, numbers) are left out, as are
    branches with no array anywhere below them, so a model without arrays gives ``{}``. Called on
    a bare array it returns a copy of that array.

    The result can be passed to :func:`loadmodel`; changing it does not change the model.

    >>> import pyflux as flux
    >>> sorted(flux.state(flux.Dense(2, 3)))
    ['bias', 'weight']
    """
    tree = _array_tree(model)
    if tree is _NOTHING:
        return {}
    return _map_leaves(tree, lambda a: np.array(a, copy=True))


# ----------------------------------------------------------------------------------------------
# loading a state into a model


def _source_array(src, path):
    if isinstance(src, (np.ndarray, _core.Tensor, np.generic)):
        arr = np.asarray(src)
    else:
        what = "a nested state (dict)" if isinstance(src, Mapping) else type(src).__name__
        raise ValueError(f"{_where(path)}: expected an array, got {what}")
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise ValueError(f"{_where(path)}: expected a numeric array, got dtype {arr.dtype}")
    return arr


def _writable_view(target, path):
    if getattr(target, "traced", False):
        raise RuntimeError(f"{_where(path)}: cannot load into a Param while gradient is tracing it")
    view = np.asarray(target)
    if not view.flags.writeable:
        raise ValueError(f"{_where(path)}: the model's array is read-only")
    return view


def _convert(src, dtype, path):
    """src as a new array of the model's dtype, refusing values the dtype cannot hold."""
    if src.dtype == dtype:
        return src
    if dtype.kind in "iu" and src.dtype.kind in "biu" and src.size:
        info = np.iinfo(dtype)
        if src.min() < info.min or src.max() > info.max:
            raise ValueError(f"{_where(path)}: values do not fit the model's dtype {dtype}")
    try:
        with np.errstate(over="raise"):
            return src.astype(dtype)
    except FloatingPointError:
        raise ValueError(f"{_where(path)}: values overflow the model's dtype {dtype}") from None


def _is_empty_state(x):
    return x is None or (isinstance(x, Mapping) and all(_is_empty_state(v) for v in x.values()))


def _string_keys(src, path):
    out = {}
    for key, value in src.items():
        name = str(key)
        if name in out:
            raise ValueError(f"{_where(path)}: the state has two keys written {name!r}")
        out[name] = value
    return out


def _plan(expected, src, path, plan, tied, owned):
    """Check src against the model's array tree, appending (view, new_value) pairs to plan."""
    if not isinstance(expected, dict):
        arr = _source_array(src, path)
        view = _writable_view(expected, path)
        if arr.shape != view.shape:
            raise ValueError(f"{_where(path)}: expected shape {view.shape}, got {arr.shape}")
        if not np.can_cast(arr.dtype, view.dtype, casting="same_kind"):
            raise ValueError(f"{_where(path)}: cannot load a {arr.dtype} array into the model's {view.dtype} array")
        first = tied.get(id(expected))
        if first is not None:
            first_path, first_arr = first
            if not np.array_equal(first_arr, arr):
                raise ValueError(f"{_where(path)}: the model ties this array to {first_path}, "
                                 "but the state gives them different values")
            return
        tied[id(expected)] = (_where(path), arr)
        value = _convert(arr, view.dtype, path)
        if value is arr and not owned:
            value = arr.copy()
        plan.append((view, value))
        return
    if not isinstance(src, Mapping) and (is_layer(src) or isinstance(src, (tuple, list))):
        src = state(src)
    if not isinstance(src, Mapping):
        what = "an array" if isinstance(src, (np.ndarray, _core.Tensor)) else type(src).__name__
        raise ValueError(f"{_where(path)}: expected a nested state (dict), got {what}")
    src = _string_keys(src, path)
    for key in expected:
        if key not in src:
            raise ValueError(f"{_join(path, key)}: missing from the state")
    for key, value in src.items():
        if key not in expected and not _is_empty_state(value):
            raise ValueError(f"{_join(path, key)}: the state has this entry but the model does not")
    for key, sub in expected.items():
        _plan(sub, src[key], _join(path, key), plan, tied, owned)


def _loadmodel(model, src, owned):
    expected = _array_tree(model)
    if expected is _NOTHING:
        expected = {}
    plan = []
    _plan(expected, src, "", plan, {}, owned)
    for view, value in plan:
        np.copyto(view, value)
    return model


def loadmodel(model, state):
    """``loadmodel(model, state)`` -> model: copy the arrays of ``state`` into ``model`` in place.

    Flux's ``loadmodel!``. ``state`` is a nested dict as made by :func:`state` (or read by
    :func:`load`), or another model of the same structure. Each array is written into the
    model's existing array, so Params keep their identity and anything holding them (optimiser
    state from ``setup``, ``params(model)``) stays valid.

    The whole structure is checked before anything is written; on the first mismatch a
    ``ValueError`` names its dotted path and nothing in the model has changed:

    * a key the model needs that the state lacks, or a state entry the model has no array for
      (entries that are ``None`` or empty dicts are ignored, so a state that records non-array
      fields as ``None`` is accepted);
    * a shape mismatch: ``layers.1.weight: expected shape (10, 40), got (10, 41)``;
    * an incompatible dtype. Values are converted to the *model's* dtype when numpy's
      ``same_kind`` casting allows it: a float64 state loads into a float32 model (rounded to
      float32, an error if a value overflows) and a float32 state into a float64 model exactly;
      integer and bool arrays load into float arrays; float into integer, complex into real and
      signed into unsigned are refused, as are integers out of the target's range;
    * an array tied along two paths in the model but given different values by the state.

    ``bias=False`` and a bias array are not interchangeable: the model and the state must agree.
    Loading into a Param that ``gradient`` is tracing raises ``RuntimeError``.
    """
    return _loadmodel(model, state, owned=False)


# ----------------------------------------------------------------------------------------------
# files


def _flatten(tree, prefix, out):
    for key, value in tree.items():
        if not isinstance(key, str) or not key or "." in key:
            raise ValueError(f"{_where(prefix)}: cannot save the key {key!r}: keys in a saved state must be "
                             "non-empty strings without '.'")
        path = _join(prefix, key)
        if isinstance(value, dict):
            _flatten(value, path, out)
        else:
            out.append((path, value))


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_prefix(base):
    return f".{base[:100]}.pyflux-save."


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # exists but not ours, or cannot tell: leave its file alone
    return True


def _remove_stale_temps(directory, base):
    """Removes the temporary files of earlier saves to the same path whose process has died (a save
    killed before its rename); a save still running in another process keeps its file."""
    prefix = _temp_prefix(base)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix):].split(".")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def _open_temp(directory, base):
    """A new temporary file named after the target and this process: ``.<name>.pyflux-save.<pid>.<random>.tmp``."""
    _remove_stale_temps(directory, base)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f"{_temp_prefix(base)}{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue


def save(path, model):
    """``save(path, model)``: write ``state(model)`` to the file ``path``, atomically.

    ``path`` is a ``str`` or ``os.PathLike`` and is used exactly as given: no ``.npz`` is
    appended (``save("model.ckpt", m)`` writes ``model.ckpt``). ``model`` may also be a state
    dict. The format (an ``.npz`` archive of dotted keys plus a ``__pyflux_format__`` version
    marker) is described in the module docstring; it holds no pickled objects.

    The state is written to a temporary file in the same directory, flushed and ``fsync``-ed,
    then renamed over ``path`` with ``os.replace`` (and the directory is fsync-ed where the
    platform allows), so a reader sees the old file or the new one, never a partial one, and an
    interrupted save leaves any previous file intact. The temporary file is removed if the save
    fails. If ``path`` is a symbolic link, the file it points to is replaced; an existing file's
    permission bits are kept.
    """
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    tree = state(model)
    if not isinstance(tree, dict):
        raise TypeError("save needs a model or a state dict, not a bare array")
    entries = []
    _flatten(tree, "", entries)
    if any(key == _MARKER for key, _ in entries):
        raise ValueError(f"cannot save a model with a field named {_MARKER!r}")
    target = os.path.realpath(path) if os.path.islink(path) else path
    directory, base = os.path.split(os.path.abspath(target))
    if not base:
        raise ValueError(f"save needs a file name, got {path!r}")
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, "directory does not exist", directory)
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, "cannot save over a directory", path)

    tmp, fd = _open_temp(directory, base)
    try:
        f = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    try:
        with f:
            with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                members = [(_MARKER, np.array(FORMAT_VERSION, dtype=np.int64))] + entries
                for key, arr in members:
                    with zf.open(key + ".npy", mode="w", force_zip64=True) as member:
                        np.lib.format.write_array(member, arr, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except OSError:
            pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _corrupt(path, why):
    return ValueError(f"{path}: not a valid pyflux save file ({why})")


# Damaged archives make zipfile raise any of these (OSError for a seek before the start,
# NotImplementedError for an unknown compression method, RuntimeError for an encrypted member).
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, zlib.error, OSError,
                NotImplementedError, RuntimeError, struct.error, KeyError, TypeError, OverflowError)


@contextmanager
def _reading(path, what):
    """Turns the errors that zipfile and numpy raise on damaged data into one clear ValueError."""
    try:
        yield
    except _READ_ERRORS as err:
        raise _corrupt(path, f"{what}: {type(err).__name__}: {err}") from err


def _model_arrays(model):
    """The model's arrays by dotted state path."""
    tree = _array_tree(model)
    flat = []
    if isinstance(tree, dict):
        _flatten(tree, "", flat)
    return dict(flat)


def _mismatch(path, why):
    return ValueError(f"cannot load {path} into the model: {why}")


# The most bytes a member may declare per element of the model's array (complex256), plus room
# for the .npy header.
_MAX_ITEMSIZE = 32
_MAX_HEADER = 1 << 16


def _read_member(zf, info, path, expected=None):
    """One .npy member as an array, refusing object dtypes and sizes the member cannot hold. With
    ``expected`` (the model's array under this key, or None when the model has no such array) the
    sizes the zip and the .npy header declare are checked against it before any data is read."""
    key = info.filename[:-4]
    if expected is not None:
        if key not in expected:
            raise _mismatch(path, f"{key}: the state has this entry but the model does not")
        count = int(np.size(expected[key]))
        if info.file_size > count * _MAX_ITEMSIZE + _MAX_HEADER:
            raise _mismatch(path, f"{key}: the file declares {info.file_size} bytes for an array of "
                                  f"{count} elements")
    with _reading(path, f"entry {key!r}"), zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            shape, dtype = None, None
    if dtype is None:
        raise _corrupt(path, f"entry {key!r} uses the unsupported .npy version {version}")
    if dtype.hasobject:
        raise ValueError(f"{path}: entry {key!r} holds pickled Python objects; "
                         "pyflux files never do, so the file is not loaded")
    if dtype.kind not in _NUMERIC_KINDS:
        raise _corrupt(path, f"entry {key!r} is not a numeric array (dtype {dtype})")
    if math.prod(shape) * dtype.itemsize > info.file_size:
        raise _corrupt(path, f"entry {key!r} is shorter than its header says")
    if expected is not None and tuple(shape) != tuple(np.shape(expected[key])):
        raise _mismatch(path, f"{key}: expected shape {tuple(np.shape(expected[key]))}, got {tuple(shape)}")
    with _reading(path, f"entry {key!r}"), zf.open(info) as member:
        return key, np.lib.format.read_array(member, allow_pickle=False)


def _unflatten(flat, path):
    tree = {}
    for key, arr in flat:
        parts = key.split(".")
        if not all(parts):
            raise _corrupt(path, f"bad entry name {key!r}")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise _corrupt(path, f"entry {key!r} clashes with another entry")
        if parts[-1] in node:
            raise _corrupt(path, f"entry {key!r} clashes with another entry")
        node[parts[-1]] = arr
    return tree


def _read_state(path, model=None):
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise ValueError(f"{path}: not a pyflux save file (not an .npz archive)")
        f.seek(0)
        with _reading(path, "zip archive"):
            zf = zipfile.ZipFile(f)
        with zf:
            infos = zf.infolist()
            names = [info.filename for info in infos]
            if _MARKER + ".npy" not in names:
                raise ValueError(f"{path}: not a pyflux save file (an .npz archive without the {_MARKER} marker)")
            if len(set(names)) != len(names):
                raise _corrupt(path, "duplicate entries")
            flat, version = [], None
            expected = None if model is None else _model_arrays(model)
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise _corrupt(path, f"unexpected entry {info.filename!r}")
                key, arr = _read_member(zf, info, path, None if info.filename == _MARKER + ".npy" else expected)
                if key == _MARKER:
                    version = arr
                else:
                    flat.append((key, arr))
    if version.shape != () or version.dtype.kind not in "iu":
        raise _corrupt(path, "bad format marker")
    if int(version) != FORMAT_VERSION:
        raise ValueError(f"{path}: written in pyflux file format {int(version)}; "
                         f"this version of pyflux reads format {FORMAT_VERSION}")
    return _unflatten(flat, path)


def load(path, model):
    """``load(path, model)`` -> model: read a file written by :func:`save` into ``model`` in place.

    ``path`` (``str`` or ``os.PathLike``) is opened exactly as given. The file is read without
    unpickling anything (as ``np.load(path, allow_pickle=False)`` would); the nested state is
    rebuilt from the dotted keys and copied into the model with :func:`loadmodel`, with the same
    checks, the same dtype conversion, and the same guarantee that a failed check changes
    nothing. Errors: ``FileNotFoundError`` for a missing file; ``ValueError`` for a file that is
    not an ``.npz`` archive, an ``.npz`` without the pyflux format marker, a corrupt or truncated
    file, a file holding object (pickled) arrays, a newer format version, or a state that does
    not fit the model (the message names the path, e.g. ``layers.1.weight: expected shape
    (10, 40), got (10, 41)``).
    """
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    tree = _read_state(path, model)
    try:
        return _loadmodel(model, tree, owned=True)
    except ValueError as err:
        raise ValueError(f"cannot load {path} into the model: {err}") from None
