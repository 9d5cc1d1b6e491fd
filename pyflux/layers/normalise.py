"""Dropout, BatchNorm and LayerNorm (Flux's ``src/layers/normalise.jl``).

Dropout and BatchNorm depend on the mode (see :mod:`pyflux.modes`): with ``active=None`` they act
as in training only while a gradient is being taken.
"""

from __future__ import annotations

import numbers
import operator
from functools import reduce

import numpy as np

from pyflux import _core
from pyflux._typing import Activation, Array, Initialiser, Input
from pyflux.activations import identity
from pyflux.initialise import ones32, zeros32
from pyflux.layers import show
from pyflux.layers.basic import Scale, _sizes_and_activation
from pyflux.layers.common import check_flag, check_positive, match_eltype
from pyflux.capture import refuse_if_capturing
from pyflux.modes import active_text, isactive
from pyflux.param import Param
from pyflux.random import default_rng


def _values(x):
    """The numbers held by x, as numpy, without recording anything (traced values are copied out)."""
    return np.asarray(_core.Tensor(x)) if getattr(x, "traced", False) else np.asarray(x)


def _prod(sizes):
    return reduce(operator.mul, sizes, 1)


class Dropout(show.Shown):
    """``Dropout(p; dims=None, rng=None, active=None)``: randomly zero entries with probability ``p``.

    While active, each entry of ``x`` (or each slice, see ``dims``) is kept with probability
    ``1 - p`` and scaled by ``1 / (1 - p)``, else set to 0 ("inverted dropout", so the expected
    value is unchanged); ``p = 1`` gives zeros. Inactive, it returns ``x`` unchanged. The mask is a
    constant numpy array drawn from ``rng`` (a numpy Generator; by default the generator that
    :func:`pyflux.seed` sets).

    ``dims`` (0-based axes, an int or a tuple; default ``None`` = every axis, Flux's ``:``) are the
    axes along which the mask varies: the mask has size 1 along the others, so for images
    ``(W, H, C, N)`` ``dims=2`` drops whole channels.

    Mode: ``active=None`` (default) is active only while a gradient is being taken; see
    :func:`pyflux.trainmode` / :func:`pyflux.testmode`. No parameters.

    >>> import pyflux as flux
    >>> flux.Dropout(0.4)
    Dropout(0.4)
    """

    _fields = ("p", "dims", "active", "rng")
    _has_mode = True
    _mutable = True
    _struct_bytes = 16

    def __init__(self, p: float, *, dims: int | tuple[int, ...] | None = None, rng: np.random.Generator | None = None,
                 active: bool | None = None) -> None:
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
            raise ValueError(f"Dropout expects 0 ≤ p ≤ 1, got p = {p!r}")
        check_flag("Dropout", "active", active, allow_none=True)
        self.p = float(p)
        self.dims = dims
        self.active = active
        self.rng = rng

    def __call__(self, x: Input) -> Array:
        if not isactive(self, x):
            return x
        if not isinstance(x, _core.Tensor):
            x = np.asarray(x)
            if x.dtype.kind != "f":
                x = x.astype(np.float32)
        if self.p == 0:
            return x
        refuse_if_capturing("Dropout's random mask")
        return x * self._mask(tuple(x.shape), x.dtype)

    def _mask(self, shape, dtype):
        if self.dims is None:
            mask_shape = shape
        else:
            dims = (self.dims,) if isinstance(self.dims, numbers.Integral) else tuple(self.dims)
            kept = {d % len(shape) for d in dims} if shape else set()
            mask_shape = tuple(s if i in kept else 1 for i, s in enumerate(shape))
        if self.p == 1:
            return np.zeros(mask_shape, dtype=dtype)
        keep = (self.rng or default_rng()).random(mask_shape) > self.p
        return keep.astype(dtype) * np.asarray(1 / (1 - self.p), dtype=dtype)

    def _compact(self):
        dims = "" if self.dims is None else f", dims={self.dims}"
        return f"Dropout({self.p:g}{dims}{active_text(self.active)})"


class BatchNorm(show.Shown):
    """``BatchNorm(channels, λ=identity; init_beta=zeros32, init_gamma=ones32, affine=True,
    track_stats=True, active=None, eps=1e-5, momentum=0.1)``: batch normalisation.

    The channel axis is the second-to-last (Flux's): the rows of a ``(channels, N)`` batch, ``C``
    of ``(W, H, C, N)`` images. Statistics are taken per channel over every other axis; ``m`` is the
    number of values per channel. Active (training)::

        μ = mean(x), σ² = mean((x - μ)²)            (uncorrected)
        y = λ(γ * (x - μ) / sqrt(σ² + eps) + β)

    and, with ``track_stats``, the running statistics (non-trainable numpy arrays ``μ``, ``σ2``,
    starting at 0 and 1) are updated in place::

        μ_run  <- (1 - momentum) * μ_run  + momentum * μ
        σ2_run <- (1 - momentum) * σ2_run + momentum * m / (m - 1) * σ²

    Inactive (testing), ``μ_run`` and ``σ2_run`` replace the batch statistics (batch statistics are
    always used when ``track_stats=False``). Training on one value per channel raises ValueError.
    Trainable: ``β`` (zeros) and ``γ`` (ones), ``2 * channels`` parameters, none when
    ``affine=False``; ``μ`` and ``σ2`` (Flux's ``σ²``) are saved by :func:`pyflux.state`.

    Mode: ``active=None`` (default) is active only while a gradient is being taken; see
    :func:`pyflux.trainmode` / :func:`pyflux.testmode`. ``momentum`` weights the new batch
    (PyTorch's convention; Keras' 0.99 weights the old value).

    >>> import pyflux as flux
    >>> flux.BatchNorm(3, flux.relu)
    BatchNorm(3, relu)  # 6 parameters, plus 6 non-trainable
    """

    _fields = ("λ", "β", "γ", "μ", "σ2", "ε", "momentum", "affine", "track_stats", "active", "chs")
    _has_mode = True
    _mutable = True
    _struct_bytes = 56

    def __init__(self, channels: int, λ: Activation = identity, *, init_beta: Initialiser = zeros32,
                 init_gamma: Initialiser = ones32, affine: bool = True, track_stats: bool = True,
                 active: bool | None = None, eps: float = 1e-5, momentum: float = 0.1) -> None:
        if not isinstance(channels, numbers.Integral) or channels < 1:
            raise ValueError(f"BatchNorm: channels must be a positive integer, got {channels!r}")
        if not callable(λ):
            raise TypeError(f"BatchNorm: the activation must be callable, got {λ!r}")
        for what, flag in (("affine", affine), ("track_stats", track_stats)):
            check_flag("BatchNorm", what, flag)
        check_flag("BatchNorm", "active", active, allow_none=True)
        check_positive("BatchNorm", "eps", eps)
        if not isinstance(momentum, numbers.Real) or isinstance(momentum, bool) or not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm: momentum must be a number in [0, 1], got {momentum!r}")
        self.λ = λ
        self.β = Param(init_beta(channels)) if affine else None
        self.γ = Param(init_gamma(channels)) if affine else None
        self.μ = zeros32(channels)
        self.σ2 = ones32(channels)
        self.ε = float(eps)
        self.momentum = float(momentum)
        self.affine = bool(affine)
        self.track_stats = bool(track_stats)
        self.active = active
        self.chs = int(channels)
        self._warned_dtype = False

    @property
    def dtype(self):
        return self.γ.dtype if self.affine else self.μ.dtype

    def __call__(self, x: Input) -> Array:
        x = match_eltype(self, x, self.dtype)
        shape = tuple(x.shape)
        if len(shape) < 2 or shape[-2] != self.chs:
            raise ValueError(f"layer {self:c} expects an input of shape (..., {self.chs}, batch) with the channels "
                             f"second to last, got shape {shape}")
        c = self.chs
        x3 = x.reshape(_prod(shape[:-2]), c, shape[-1])
        m = x3.shape[0] * x3.shape[2]
        active = isactive(self, x)
        if active or not self.track_stats:
            if active and m == 1:
                raise ValueError(f"BatchNorm expected more than 1 value per channel when training, got input of "
                                 f"shape {shape}")
            μ = x3.mean(2).mean(0)
            centred = x3 - μ.reshape(1, c, 1)
            σ2 = (centred * centred).mean(2).mean(0)
            if active and self.track_stats:
                refuse_if_capturing("BatchNorm's running statistics (track_stats=True)")
                self._track(_values(μ), _values(σ2), m)
        else:
            centred = x3 - self.μ.reshape(1, c, 1)
            σ2 = self.σ2
        y = centred / ((σ2 + self.ε) ** 0.5).reshape(1, c, 1)
        if self.affine:
            y = y * self.γ.reshape(1, c, 1) + self.β.reshape(1, c, 1)
        y = y.reshape(*shape)
        return y if self.λ is identity else self.λ(y)

    def _track(self, μ, σ2, m):
        keep = 1 - self.momentum
        self.μ[...] = keep * self.μ + self.momentum * μ
        self.σ2[...] = keep * self.σ2 + self.momentum * (m / (m - 1)) * σ2

    def _compact(self):
        act = "" if self.λ is identity else f", {show.name(self.λ)}"
        affine = "" if self.affine else ", affine=false"
        return f"BatchNorm({self.chs}{act}{affine}{active_text(self.active)})"


class LayerNorm(show.Shown):
    """``LayerNorm(size..., λ=identity; affine=True, eps=1e-5)``: normalise each sample over its
    leading ``len(size)`` axes, with that input's own statistics (no running statistics, no
    train/test difference).

    Flux 0.16.11's definition (``NNlib.normalise``), for x of shape ``(*size, batch...)``::

        μ = mean(x), σ² = mean((x - μ)²)   over the axes of size
        y = (x - μ) / sqrt(σ² + eps)

    Flux 0.15 - 0.16.10 used ``sqrt(σ² + eps²)`` and Flux <= 0.14 ``(x - μ) / (σ + eps)``. With
    ``affine=True`` the result goes through ``diag = Scale(size..., λ)`` (trainable scale, ones, and
    bias, zeros: ``2 * prod(size)`` parameters); with ``affine=False``, ``λ`` is applied directly.
    Always printed on one line.

    >>> import pyflux as flux
    >>> flux.LayerNorm(3)
    LayerNorm(3)        # 6 parameters
    """

    _fields = ("λ", "diag", "ε", "size", "affine")
    _noexpand = True

    def __init__(self, *size_act: int | Activation, affine: bool = True, eps: float = 1e-5) -> None:
        size, λ = _sizes_and_activation(size_act, "LayerNorm")
        check_flag("LayerNorm", "affine", affine)
        check_positive("LayerNorm", "eps", eps)
        self.λ = λ
        self.diag = Scale(*size, λ) if affine else None
        self.ε = float(eps)
        self.size = size
        self.affine = bool(affine)

    def __call__(self, x: Input) -> Array:
        if self.affine:
            x = match_eltype(self.diag, x, self.diag.scale.dtype)
        elif not isinstance(x, _core.Tensor):
            x = np.asarray(x)
            x = x if x.dtype.kind == "f" else x.astype(np.float32)
        shape, k = tuple(x.shape), len(self.size)
        if shape[:k] != self.size:
            raise ValueError(f"layer {self:c} expects an input of shape {self.size} + (batch...), got shape {shape}")
        n = _prod(shape[k:])
        x2 = x.reshape(_prod(self.size), n)
        centred = x2 - x2.mean(0).reshape(1, n)
        σ2 = (centred * centred).mean(0).reshape(1, n)
        y = (centred / (σ2 + self.ε) ** 0.5).reshape(*shape)
        if self.affine:
            return self.diag(y)
        return y if self.λ is identity else self.λ(y)

    def _compact(self):
        act = "" if self.λ is identity else f", {show.name(self.λ)}"
        affine = "" if self.affine else ", affine=false"
        return f"LayerNorm({', '.join(str(s) for s in self.size)}{act}{affine})"
