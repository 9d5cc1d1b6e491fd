"""Scale and Embedding (Flux's ``src/layers/basic.jl``), and input dtype matching shared by layers."""

import numbers
import warnings

import numpy as np

from pyflux import _core, show
from pyflux.activations import identity
from pyflux.initialise import ones32, randn32
from pyflux.param import Param


def match_eltype(layer, x, dtype):
    """``x`` as an array of the layer's float dtype: traced values pass unchanged; a numpy float64
    input to a float32 layer is converted with one warning per layer (as Flux does), integer and
    other inputs are converted silently."""
    if isinstance(x, _core.Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype == dtype:
        return arr
    if arr.dtype == np.float64 and dtype == np.float32 and not getattr(layer, "_warned_dtype", False):
        layer._warned_dtype = True
        warnings.warn(f"layer {layer!r} with float32 parameters got float64 input; the input will be converted, "
                      "but any earlier layers may be slow", stacklevel=3)
    return arr.astype(dtype)


def _sizes_and_activation(args, what):
    """Leading integers, then an optional activation: ``(2, 3, relu)`` -> ((2, 3), relu)."""
    sizes = []
    for a in args:
        if not isinstance(a, numbers.Integral):
            break
        sizes.append(int(a))
    rest = args[len(sizes):]
    if not sizes or len(rest) > 1 or (rest and not callable(rest[0])):
        raise TypeError(f"{what}: expected sizes followed by an optional activation, got {args!r}")
    return tuple(sizes), (rest[0] if rest else identity)


class Scale:
    """``Scale(size..., σ=identity; bias=True, init=ones32)`` or ``Scale(scale, bias=True, σ=identity)``.

    Elementwise affine map ``y = σ(scale * x + bias)``. ``scale`` and ``bias`` have shape ``size``
    (scale initialised by ``init``, default ones; bias zeros) and are broadcast against the
    leading dimensions of ``x`` as in Julia, so ``Scale(3)`` acts on ``(3,)`` and ``(3, N)`` inputs
    alike. ``bias=False`` leaves the bias out; an array gives it. Trainable: ``scale`` and ``bias``;
    ``prod(size) * 2`` parameters (``prod(size)`` without bias).

    >>> import pyflux as flux
    >>> flux.Scale(2)
    Scale(2)
    """

    _fields = ("scale", "bias", "σ")

    def __init__(self, *args, bias=True, init=ones32):
        if args and not isinstance(args[0], numbers.Integral):
            if len(args) > 3:
                raise TypeError("Scale(scale, bias, σ): too many positional arguments")
            scale = args[0] if isinstance(args[0], Param) else Param(args[0])
            bias = args[1] if len(args) > 1 else bias
            act = args[2] if len(args) > 2 else identity
        else:
            size, act = _sizes_and_activation(args, "Scale")
            scale = Param(init(*size))
        self.scale = scale
        self.bias = _make_bias(bias, scale)
        self.σ = act
        self._warned_dtype = False

    def __call__(self, x):
        x = match_eltype(self, x, self.scale.dtype)
        shape, k = tuple(x.shape), self.scale.ndim
        if len(shape) < k:
            x = x.reshape(*shape, *(1,) * (k - len(shape)))
            shape = tuple(x.shape)
        lead = shape[:k]
        if any(a != b and 1 not in (a, b) for a, b in zip(lead, self.scale.shape)):
            raise ValueError(f"layer {self!r} expects an input of shape {self.scale.shape} + (batch...), "
                             f"got shape {shape}")
        trailing = (1,) * (len(shape) - k)
        y = x * (self.scale.reshape(*self.scale.shape, *trailing) if trailing else self.scale)
        if self.bias is not False:
            y = y + (self.bias.reshape(*self.bias.shape, *trailing) if trailing else self.bias)
        return y if self.σ is identity else self.σ(y)

    def __repr__(self):
        act = "" if self.σ is identity else f", {show.name(self.σ)}"
        nobias = "; bias=false" if self.bias is False else ""
        return f"Scale({', '.join(str(s) for s in self.scale.shape)}{act}{nobias})"

    def __str__(self):
        return show.expanded(self)


def _make_bias(bias, scale):
    if bias is True:
        return Param(np.zeros(scale.shape, dtype=scale.dtype))
    if bias is False or bias is None:
        return False
    b = np.asarray(bias)
    if b.shape != scale.shape:
        raise ValueError(f"Scale: expected bias of shape {scale.shape}, got shape {b.shape}")
    return bias if isinstance(bias, Param) and bias.dtype == scale.dtype else Param(b, scale.dtype)


class Embedding:
    """``Embedding(in, out; init=randn32)``, ``Embedding((in, out))`` or ``Embedding(weight)``.

    A lookup table: index ``i`` (0-based, ``0 <= i < in``; Flux counts from 1) gives column
    ``weight[:, i]``. ``weight`` has shape ``(out, in)`` and is initialised standard normal
    (``randn32``, not Glorot). An integer gives ``(out,)``, an integer array of any shape ``s``
    gives ``(out, *s)``. A one-hot array (bool or float, shape ``(in, batch...)``, e.g. from
    ``onehotbatch``) gives ``weight @ x`` of shape ``(out, batch...)``.

    The lookup is computed as the product ``weight @ onehot`` with a constant one-hot matrix, so its
    gradient comes from the matrix product's (the columns of the gradient for indices not used are
    zero). Trainable: ``weight``, ``in * out`` parameters.

    >>> import pyflux as flux
    >>> flux.Embedding(26, 4)
    Embedding(26 => 4)
    """

    _fields = ("weight",)

    def __init__(self, *args, init=randn32):
        if len(args) == 1 and isinstance(args[0], tuple):
            args = args[0]
        if len(args) == 2 and all(isinstance(a, numbers.Integral) for a in args):
            weight = Param(init(int(args[1]), int(args[0])))
        elif len(args) == 1:
            weight = args[0] if isinstance(args[0], Param) else Param(args[0])
        else:
            raise TypeError("Embedding needs sizes Embedding(in, out) or a weight Embedding(W)")
        if weight.ndim != 2:
            raise ValueError(f"Embedding: the weight must be a matrix (out, in), got shape {weight.shape}")
        self.weight = weight

    def __call__(self, x):
        out, n_in = self.weight.shape
        arr = x if isinstance(x, _core.Tensor) else np.asarray(x)
        if isinstance(arr, _core.Tensor) or arr.dtype.kind in "bf":
            shape = tuple(arr.shape)
            if not shape or shape[0] != n_in:
                raise ValueError(f"layer {self!r} expects one-hot input of shape ({n_in}, batch...), got shape {shape}")
            flat = arr.reshape(n_in, -1) if len(shape) > 2 else arr
            if not isinstance(flat, _core.Tensor):
                flat = flat.astype(self.weight.dtype)
            y = self.weight @ flat
            return y.reshape(out, *shape[1:]) if len(shape) > 2 else y
        if arr.dtype.kind not in "iu":
            raise TypeError(f"layer {self!r} expects integer indices or one-hot arrays, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= n_in):
            raise IndexError(f"layer {self!r} expects indices in 0..{n_in - 1} (counting from 0), "
                             f"got values from {arr.min()} to {arr.max()}")
        onehot = np.zeros((n_in, arr.size), dtype=self.weight.dtype)
        onehot[arr.ravel(), np.arange(arr.size)] = 1
        y = self.weight @ onehot
        return y.reshape(out, *arr.shape)

    def __repr__(self):
        out, n_in = self.weight.shape
        return f"Embedding({n_in} => {out})"

    def __str__(self):
        return show.expanded(self)
