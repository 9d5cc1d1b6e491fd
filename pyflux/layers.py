"""Layers: Dense and Chain, with Flux's semantics (features x batch, weight (out, in))."""

import numbers
import warnings

import numpy as np

from pyflux import _core, show
from pyflux.activations import Activation, identity
from pyflux.initialise import glorot_uniform
from pyflux.param import Param


class Dense:
    """``Dense(in, out, σ=identity, *, bias=True, init=glorot_uniform)`` or ``Dense(W, b=True, σ=identity)``.

    ``y = σ(W @ x + b)``, with ``W`` of shape (out, in) and ``b`` of shape (out,). The input is one
    sample ``(in,)`` or a batch ``(in, N)`` (more trailing dimensions are batch dimensions too);
    a batch stored batch-first can be passed as ``X.T`` without a copy. ``bias=False`` leaves the
    bias out; an array gives it explicitly. Built-in activations are fused into the matrix
    product's output pass. float64 input to a float32 layer is converted (with one warning per
    layer); integer input is converted silently.

    >>> import pyflux as flux
    >>> flux.Dense(5, 2)
    Dense(5 => 2)
    """

    _fields = ("weight", "bias", "σ")

    def __init__(self, *args, bias=True, init=glorot_uniform):
        if not args:
            raise TypeError("Dense needs sizes Dense(in, out, σ) or a weight Dense(W, b, σ)")
        first = args[0]
        if isinstance(first, numbers.Integral) or _is_size_pair(first):
            sizes, rest = ((first, args[1]), args[2:]) if isinstance(first, numbers.Integral) else (first, args[1:])
            if len(rest) > 1:
                raise TypeError("Dense(in, out, σ): too many positional arguments")
            n_in, n_out = (int(s) for s in sizes)
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
        self.bias = _make_bias(bias, weight)
        self.σ = activation
        self._warned_dtype = False

    @property
    def sizes(self):
        out, n_in = self.weight.shape
        return n_in, out

    def __call__(self, x):
        n_in, n_out = self.sizes
        shape = getattr(x, "shape", None)
        if shape is None:
            x = np.asarray(x)
            shape = x.shape
        if len(shape) == 0 or shape[0] != n_in:
            raise ValueError(f"layer {self!r} expects an input of shape ({n_in},) or ({n_in}, batch...), "
                             f"got shape {tuple(shape)}")
        self._check_dtype(x)
        batch = shape[1:]
        if len(batch) > 1:
            x = x.reshape(n_in, -1)
        fused, param = (self.σ.code, self.σ.param) if isinstance(self.σ, Activation) else (0, None)
        bias = self.bias if isinstance(self.bias, Param) else None
        y = _core.dense(self.weight, bias, x, fused, param)
        if not isinstance(self.σ, Activation):
            y = self.σ(y)
        return y.reshape(n_out, *batch) if len(batch) > 1 else y

    def _check_dtype(self, x):
        dtype = getattr(x, "dtype", None)
        if dtype is None or dtype == self.weight.dtype or self._warned_dtype:
            return
        if dtype == np.float64 and self.weight.dtype == np.float32:
            self._warned_dtype = True
            warnings.warn(f"layer {self!r} with float32 parameters got float64 input; the input will be converted, "
                          "but any earlier layers may be slow", stacklevel=3)

    def __repr__(self):
        n_in, n_out = self.sizes
        act = "" if self.σ is identity else f", {_name(self.σ)}"
        nobias = "; bias=false" if self.bias is False else ""
        return f"Dense({n_in} => {n_out}{act}{nobias})"

    def __str__(self):
        return show.expanded(self)


def _is_size_pair(x):
    return isinstance(x, tuple) and len(x) == 2 and all(isinstance(s, numbers.Integral) for s in x)


def _make_bias(bias, weight):
    out = weight.shape[0]
    if bias is True:
        return Param(np.zeros(out, dtype=weight.dtype))
    if bias is False or bias is None:
        return False
    b = np.asarray(bias)
    if b.shape != (out,):
        raise ValueError(f"Dense: expected bias of shape ({out},), got shape {b.shape}")
    return bias if isinstance(bias, Param) and bias.dtype == weight.dtype else Param(b, weight.dtype)


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


class Chain(NamedLayers):
    """``Chain(layer1, layer2, ...)`` or ``Chain(name1=layer1, ...)``: applies the layers in order,
    ``Chain(f, g)(x) == g(f(x))``.

    Any callable can be a layer. ``c(x, y)`` passes the tuple ``(x, y)`` to the first layer. A Chain
    supports ``len``, iteration (over the layers) and indexing: ``c[0]``, ``c[-1]``; a slice or a
    list of positions returns a Chain (keeping names). Named layers are kept in a dict in
    ``c.layers`` and are also reached as ``c["enc"]`` and ``c.enc``; ``keys()`` lists the names
    (positions for an unnamed Chain). A layer may not be called ``layers``.

    >>> import pyflux as flux
    >>> flux.Chain(flux.Dense(2, 3, flux.sigmoid), flux.Dense(3, 2))
    Chain(Dense(2 => 3, σ), Dense(3 => 2))
    >>> flux.Chain(enc=flux.Dense(2, 3), dec=flux.Dense(3, 2))
    Chain(enc = Dense(2 => 3), dec = Dense(3 => 2))
    """

    _fields = ("layers",)

    def __init__(self, *layers, **named):
        if layers and named:
            raise TypeError("Chain: give the layers either all by position or all by name")
        if "layers" in named:
            raise ValueError("a Chain cannot have a named layer called `layers`")
        for key, layer in (named.items() if named else enumerate(layers)):
            if not callable(layer):
                raise TypeError(f"Chain: layer {key} is not callable: {layer!r}")
        self.layers = dict(named) if named else tuple(layers)

    def __call__(self, *xs):
        x = xs[0] if len(xs) == 1 else xs
        layers = self.layers
        for layer in (layers.values() if type(layers) is dict else layers):
            x = layer(x)
        return x

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

    def __repr__(self):
        return show.compact(self)

    def __str__(self):
        return show.expanded(self)
