"""Layers: Dense and Chain (Flux's semantics, features x batch, weight (out, in)), Scale and Embedding."""

from __future__ import annotations

import numbers
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike

from pyflux import _core
from pyflux.activations import Activation, identity
from pyflux.initialise import glorot_uniform, ones32, randn32
from pyflux.layers import show
from pyflux._typing import Activation as ActivationFn, Array, Initialiser, Input
from pyflux.layers.common import check_size, make_bias, match_eltype, shows_first_form, warn_eltype
from pyflux.param import Param


@shows_first_form
class Dense(show.Shown):
    """``Dense(in, out, σ=identity, *, bias=True, init=glorot_uniform)`` or ``Dense(W, b=True, σ=identity)``.

    ``y = σ(W @ x + b)``, with ``W`` of shape (out, in) and ``b`` of shape (out,). The input is one
    sample ``(in,)`` or a batch ``(in, N)`` (more trailing dimensions are batch dimensions too);
    a batch stored batch-first can be passed as ``X.T`` without a copy. ``bias=False`` leaves the
    bias out; an array gives it explicitly. Built-in activations are fused into the matrix
    product's output pass. float64 input to a float32 layer is converted (with one warning per
    layer); integer input is converted silently.

    >>> import pyflux as flux
    >>> flux.Dense(5, 2)
    Dense(5 => 2)       # 12 parameters
    """

    _fields = ("weight", "bias", "σ")

    @overload
    def __init__(self, in_: int, out: int, σ: ActivationFn = identity, /, *, bias: bool | ArrayLike = True,
                 init: Initialiser = glorot_uniform) -> None: ...
    @overload
    def __init__(self, sizes: tuple[int, int], σ: ActivationFn = identity, /, *, bias: bool | ArrayLike = True,
                 init: Initialiser = glorot_uniform) -> None: ...
    @overload
    def __init__(self, weight: ArrayLike, bias: bool | ArrayLike = True, σ: ActivationFn = identity, /) -> None: ...

    def __init__(self, *args: Any, bias: bool | ArrayLike = True, init: Initialiser = glorot_uniform) -> None:
        if not args:
            raise TypeError("Dense needs sizes Dense(in, out, σ) or a weight Dense(W, b, σ)")
        first = args[0]
        if isinstance(first, numbers.Integral) or _is_size_pair(first):
            if isinstance(first, numbers.Integral) and len(args) < 2:
                raise TypeError("Dense(in, out, σ): the output size is missing")
            sizes, rest = ((first, args[1]), args[2:]) if isinstance(first, numbers.Integral) else (first, args[1:])
            if len(rest) > 1:
                raise TypeError("Dense(in, out, σ): too many positional arguments")
            n_in, n_out = check_size("Dense", "in", sizes[0]), check_size("Dense", "out", sizes[1])
            weight = Param(init(n_out, n_in))
            activation = rest[0] if rest else identity
        else:
            if len(args) > 3:
                raise TypeError("Dense(W, b, σ): too many positional arguments")
            weight = first if isinstance(first, Param) else Param(first)
            bias = args[1] if len(args) > 1 else bias
            activation = args[2] if len(args) > 2 else identity
        if weight.ndim != 2:
            raise ValueError(f"Dense: the weight must be a matrix (out, in), got shape {weight.shape}")
        if not callable(activation):
            raise TypeError(f"Dense: the activation must be callable, got {activation!r}")
        self.weight = weight
        self.bias = make_bias(bias, weight[:, 0].shape, weight.dtype, "Dense")
        self.σ = activation
        self._warned_dtype = False

    @property
    def sizes(self):
        out, n_in = self.weight.shape
        return n_in, out

    def _forward(self, x: Input) -> Array:
        """The layer's call in full (checks, the float64 warning, conversions, more batch dimensions,
        activations that are not built in). ``__call__`` is compiled: it runs the common calls (a
        built-in activation, input of the weight's dtype shaped (in,) or (in, N)) itself and hands
        every other call here."""
        n_out, n_in = self.weight.shape
        shape = getattr(x, "shape", None)
        if shape is None:
            x = np.asarray(x)
            shape = x.shape
        if len(shape) == 0 or shape[0] != n_in:
            hint = (f"; the input looks batch-first (samples in rows): pass its transpose X.T of shape "
                    f"({n_in}, {shape[0]})") if len(shape) == 2 and shape[1] == n_in else ""
            raise ValueError(f"layer {self:c} expects an input of shape ({n_in},) or ({n_in}, batch...), "
                             f"got shape {tuple(shape)}{hint}")
        warn_eltype(self, getattr(x, "dtype", None), self.weight.dtype)
        batch = shape[1:]
        if len(batch) > 1:
            x = x.reshape(n_in, -1)
        fused, param = (self.σ.code, self.σ.param) if isinstance(self.σ, Activation) else (0, None)
        bias = None if self.bias is False or self.bias is None else self.bias
        y = _core.dense(self.weight, bias, x, fused, param)
        if not isinstance(self.σ, Activation):
            y = self.σ(y)
        return y.reshape(n_out, *batch) if len(batch) > 1 else y

    __call__ = _forward  # replaced by the compiled call (_install_layer_calls, below Chain)

    def _compact(self):
        n_in, n_out = self.sizes
        act = "" if self.σ is identity else f", {_name(self.σ)}"
        nobias = "; bias=false" if self.bias is False else ""
        return f"Dense({n_in} => {n_out}{act}{nobias})"


def _is_size_pair(x):
    return isinstance(x, tuple) and len(x) == 2 and all(isinstance(s, numbers.Integral) for s in x)


def _name(f):
    if isinstance(f, Activation):
        return f.name
    return getattr(f, "__name__", repr(f))


class NamedLayers:
    """What Chain and Parallel share about their ``layers``: a tuple, or a dict when the layers are
    named, reachable by name as an attribute too (``c.enc``)."""

    @property
    def _sequence(self):
        layers = self.layers
        return tuple(layers.values()) if type(layers) is dict else layers

    def __len__(self):
        return len(self.layers)

    def keys(self):
        """The layers' names when they are named, else their positions 0, 1, ..."""
        return list(self.layers) if isinstance(self.layers, dict) else list(range(len(self.layers)))

    def __getattr__(self, name):
        layers = self.__dict__.get("layers")
        if isinstance(layers, dict) and name in layers:
            return layers[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")


class Chain(show.Shown, NamedLayers):
    """``Chain(layer1, layer2, ...)`` or ``Chain(name1=layer1, ...)``: applies the layers in order,
    ``Chain(f, g)(x) == g(f(x))``.

    Any callable can be a layer. ``c(x, y)`` passes the tuple ``(x, y)`` to the first layer. A Chain
    supports ``len``, iteration (over the layers) and indexing: ``c[0]``, ``c[-1]``; a slice or a
    list of positions returns a Chain (keeping names). Named layers are kept in a dict in
    ``c.layers`` and are also reached as ``c["enc"]`` and ``c.enc``; ``keys()`` lists the names
    (positions for an unnamed Chain). A layer may not be called ``layers``.

    >>> import pyflux as flux
    >>> flux.Chain(flux.Dense(2, 3, flux.sigmoid), flux.Dense(3, 2))
    Chain(
      Dense(2 => 3, σ),                     # 9 parameters
      Dense(3 => 2),                        # 8 parameters
    )                   # Total: 4 arrays, 17 parameters, 276 bytes.
    >>> print(flux.compact(flux.Chain(enc=flux.Dense(2, 3), dec=flux.Dense(3, 2))))
    Chain(enc = Dense(2 => 3), dec = Dense(3 => 2))
    """

    _fields = ("layers",)

    def __init__(self, *layers: Any, **named: Any) -> None:
        if layers and named:
            raise TypeError("Chain: give the layers either all by position or all by name")
        if "layers" in named:
            raise ValueError("a Chain cannot have a named layer called `layers`")
        for key, layer in (named.items() if named else enumerate(layers)):
            if not callable(layer):
                raise TypeError(f"Chain: layer {key} is not callable: {layer!r}")
        self.layers = dict(named) if named else tuple(layers)

    def _forward(self, *xs):
        """The chain's call in Python. ``__call__`` is compiled and does the same itself when the
        layers are a tuple or a dict, as the constructor makes them."""
        x = xs[0] if len(xs) == 1 else xs
        layers = self.layers
        for layer in (layers.values() if type(layers) is dict else layers):
            x = layer(x)
        return x

    __call__ = _forward  # replaced by the compiled call (_install_layer_calls, below)

    def __iter__(self):
        return iter(self._sequence)

    def __getitem__(self, i):
        if isinstance(i, str):
            if not isinstance(self.layers, dict):
                raise KeyError(f"Chain: no layer named {i!r}: the layers have no names")
            return self.layers[i]
        if isinstance(i, (slice, list)):
            keys = self.keys()
            picked = keys[i] if isinstance(i, slice) else [keys[j] for j in i]
            if isinstance(self.layers, dict):
                return Chain(**{k: self.layers[k] for k in picked})
            return Chain(*(self.layers[k] for k in picked))
        return self._sequence[i]


_core._install_layer_calls(Dense, Chain, Activation)


def _sizes_and_activation(args, what):
    """Leading integers, then an optional activation: ``(2, 3, relu)`` -> ((2, 3), relu)."""
    sizes = []
    for a in args:
        if not isinstance(a, numbers.Integral) or isinstance(a, bool):
            break
        sizes.append(check_size(what, "each size", a))
    rest = args[len(sizes):]
    if not sizes or len(rest) > 1 or (rest and not callable(rest[0])):
        raise TypeError(f"{what}: expected sizes followed by an optional activation, got {args!r}")
    return tuple(sizes), (rest[0] if rest else identity)


@shows_first_form
class Scale(show.Shown):
    """``Scale(size..., σ=identity; bias=True, init=ones32)`` or ``Scale(scale, bias=True, σ=identity)``.

    Elementwise affine map ``y = σ(scale * x + bias)``. ``scale`` and ``bias`` have shape ``size``
    (scale initialised by ``init``, default ones; bias zeros) and are broadcast against the
    leading dimensions of ``x`` as in Julia, so ``Scale(3)`` acts on ``(3,)`` and ``(3, N)`` inputs
    alike. ``bias=False`` leaves the bias out; an array gives it. Trainable: ``scale`` and ``bias``;
    ``prod(size) * 2`` parameters (``prod(size)`` without bias).

    >>> import pyflux as flux
    >>> flux.Scale(2)
    Scale(2)            # 4 parameters
    """

    _fields = ("scale", "bias", "σ")

    @overload
    def __init__(self, size: int, σ: ActivationFn = identity, /, *, bias: bool | ArrayLike = True,
                 init: Initialiser = ones32) -> None: ...
    @overload
    def __init__(self, *size_and_σ: int | ActivationFn, bias: bool | ArrayLike = True,
                 init: Initialiser = ones32) -> None: ...
    @overload
    def __init__(self, scale: ArrayLike, bias: bool | ArrayLike = True, σ: ActivationFn = identity, /) -> None: ...

    def __init__(self, *args: Any, bias: bool | ArrayLike = True, init: Initialiser = ones32) -> None:
        if args and not isinstance(args[0], numbers.Integral):
            if len(args) > 3:
                raise TypeError("Scale(scale, bias, σ): too many positional arguments")
            if np.ndim(args[0]) == 0:
                raise ValueError(f"Scale: expected sizes (positive integers) or a scale array of at least one "
                                 f"dimension, got {args[0]!r}")
            scale = args[0] if isinstance(args[0], Param) else Param(args[0])
            bias = args[1] if len(args) > 1 else bias
            act = args[2] if len(args) > 2 else identity
        else:
            size, act = _sizes_and_activation(args, "Scale")
            scale = Param(init(*size))
        self.scale = scale
        self.bias = make_bias(bias, scale.shape, scale.dtype, "Scale")
        self.σ = act
        self._warned_dtype = False

    def __call__(self, x: Input) -> Array:
        x = match_eltype(self, x, self.scale.dtype)
        shape, k = tuple(x.shape), self.scale.ndim
        if len(shape) < k:
            x = x.reshape(*shape, *(1,) * (k - len(shape)))
            shape = tuple(x.shape)
        lead = shape[:k]
        if any(a != b and 1 not in (a, b) for a, b in zip(lead, self.scale.shape)):
            raise ValueError(f"layer {self:c} expects an input of shape {self.scale.shape} + (batch...), "
                             f"got shape {shape}")
        trailing = (1,) * (len(shape) - k)
        y = x * (self.scale.reshape(*self.scale.shape, *trailing) if trailing else self.scale)
        if self.bias is not False:
            y = y + (self.bias.reshape(*self.bias.shape, *trailing) if trailing else self.bias)
        return y if self.σ is identity else self.σ(y)

    def _compact(self):
        act = "" if self.σ is identity else f", {show.name(self.σ)}"
        nobias = "; bias=false" if self.bias is False else ""
        return f"Scale({', '.join(str(s) for s in self.scale.shape)}{act}{nobias})"


@shows_first_form
class Embedding(show.Shown):
    """``Embedding(in, out; init=randn32)``, ``Embedding((in, out))`` or ``Embedding(weight)``.

    A lookup table: index ``i`` (0-based, ``0 <= i < in``; Flux counts from 1) gives column
    ``weight[:, i]``. ``weight`` has shape ``(out, in)`` and is initialised standard normal
    (``randn32``, not Glorot). An integer gives ``(out,)``, an integer array of any shape ``s``
    gives ``(out, *s)``. A one-hot array (bool or float, shape ``(in, batch...)``, e.g. from
    ``onehotbatch``) gives ``weight @ x`` of shape ``(out, batch...)``.

    Indices are looked up by the gather op (``flux.gather(weight, i, 1)``, ``weight[:, i]``): the cost
    grows with the number of indices, not with ``in``, and the gradient is a scatter-add into the used
    columns (an index used twice receives both gradients; the columns not used get zero). A one-hot
    input goes through the product ``weight @ x``. Trainable: ``weight``, ``in * out`` parameters.

    >>> import pyflux as flux
    >>> flux.Embedding(26, 4)
    Embedding(26 => 4)  # 104 parameters
    """

    _fields = ("weight",)

    @overload
    def __init__(self, in_: int, out: int, /, *, init: Initialiser = randn32) -> None: ...
    @overload
    def __init__(self, sizes: tuple[int, int], /, *, init: Initialiser = randn32) -> None: ...
    @overload
    def __init__(self, weight: ArrayLike, /) -> None: ...

    def __init__(self, *args: Any, init: Initialiser = randn32) -> None:
        if len(args) == 1 and isinstance(args[0], tuple):
            args = args[0]
        if len(args) == 2 and all(isinstance(a, numbers.Integral) for a in args):
            weight = Param(init(check_size("Embedding", "out", args[1]), check_size("Embedding", "in", args[0])))
        elif len(args) == 1:
            weight = args[0] if isinstance(args[0], Param) else Param(args[0])
        else:
            raise TypeError("Embedding needs sizes Embedding(in, out) or a weight Embedding(W)")
        if weight.ndim != 2:
            raise ValueError(f"Embedding: the weight must be a matrix (out, in), got shape {weight.shape}")
        self.weight = weight

    def __call__(self, x: Input) -> Array:
        out, n_in = self.weight.shape
        arr = x if isinstance(x, _core.Tensor) else np.asarray(x)
        if isinstance(arr, _core.Tensor) or arr.dtype.kind in "bf":
            shape = tuple(arr.shape)
            if not shape or shape[0] != n_in:
                raise ValueError(f"layer {self:c} expects one-hot input of shape ({n_in}, batch...), got shape {shape}")
            flat = arr.reshape(n_in, -1) if len(shape) > 2 else arr
            if not isinstance(flat, _core.Tensor):
                flat = flat.astype(self.weight.dtype)
            y = self.weight @ flat
            return y.reshape(out, *shape[1:]) if len(shape) > 2 else y
        if arr.dtype.kind not in "iu":
            raise TypeError(f"layer {self:c} expects integer indices or one-hot arrays, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= n_in):
            raise IndexError(f"layer {self:c} expects indices in 0..{n_in - 1} (counting from 0), "
                             f"got values from {arr.min()} to {arr.max()}")
        return _core.gather(self.weight, arr, 1)

    def _compact(self):
        out, n_in = self.weight.shape
        return f"Embedding({n_in} => {out})"
