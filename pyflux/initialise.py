"""Weight initialisers with Flux's formulas and defaults (Flux's ``src/utils.jl``).

Each returns a float32 array of the given dims. The random ones accept ``rng`` (a numpy
Generator; by default the generator that :func:`pyflux.seed` sets) and, called without sizes,
return the initialiser with its keywords fixed, as Flux's do:
``Dense(2, 3, init=kaiming_normal(gain=1))``. Fans follow Flux's ``nfan``: a vector ``(n,)``
has fan_in 1 and fan_out n, a weight ``(out, in)`` fan_in ``in`` and fan_out ``out``, and a
kernel ``(k..., cin, cout)`` ``prod(k) * cin`` and ``prod(k) * cout``."""

import functools
import math
import statistics
import warnings

import numpy as np

from pyflux.random import default_rng


def _fans(dims):
    """Flux's nfan: (n,) -> (1, n); (out, in) -> (in, out)."""
    if len(dims) == 1:
        return 1, dims[0]
    if len(dims) == 2:
        return dims[1], dims[0]
    receptive = int(np.prod(dims[:-2]))
    return dims[-2] * receptive, dims[-1] * receptive


def glorot_uniform(*dims, gain=1.0, rng=None):
    """``glorot_uniform(out, in; gain=1)``: uniform on [-a, a] with a = gain * sqrt(6 / (fan_in + fan_out)).

    Dense's default initialiser (Glorot & Bengio, 2010). For a weight (out, in), fan_in = in and
    fan_out = out.
    """
    if not dims:
        return functools.partial(glorot_uniform, gain=gain, rng=rng)
    fan_in, fan_out = _fans(dims)
    scale = gain * np.sqrt(24.0 / (fan_in + fan_out))
    u = _rng(rng).random(dims, dtype=np.float32)
    return ((u - np.float32(0.5)) * np.float32(scale)).astype(np.float32)


def _rng(rng):
    return rng or default_rng()


def glorot_normal(*dims, gain=1.0, rng=None):
    """``glorot_normal(out, in; gain=1)``: normal with mean 0 and std = gain * sqrt(2 / (fan_in + fan_out)).

    Glorot & Bengio (2010), the normal variant; fans as for :func:`glorot_uniform`.
    """
    if not dims:
        return functools.partial(glorot_normal, gain=gain, rng=rng)
    fan_in, fan_out = _fans(dims)
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    return (_rng(rng).standard_normal(dims, dtype=np.float32) * np.float32(std)).astype(np.float32)


def kaiming_uniform(*dims, gain=np.sqrt(2.0), rng=None):
    """``kaiming_uniform(out, in; gain=√2)``: uniform on [-b, b] with b = gain * sqrt(3 / fan_in).

    He et al. (2015); the default gain √2 suits relu layers.
    """
    if not dims:
        return functools.partial(kaiming_uniform, gain=gain, rng=rng)
    fan_in, _ = _fans(dims)
    bound = gain * np.sqrt(3.0 / fan_in)
    u = _rng(rng).random(dims, dtype=np.float32)
    return ((u - np.float32(0.5)) * np.float32(2 * bound)).astype(np.float32)


def kaiming_normal(*dims, gain=np.sqrt(2.0), rng=None):
    """``kaiming_normal(out, in; gain=√2)``: normal with mean 0 and std = gain / sqrt(fan_in) (He et al., 2015)."""
    if not dims:
        return functools.partial(kaiming_normal, gain=gain, rng=rng)
    fan_in, _ = _fans(dims)
    std = gain / np.sqrt(fan_in)
    return (_rng(rng).standard_normal(dims, dtype=np.float32) * np.float32(std)).astype(np.float32)


def _norm_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


_inverse_norm_cdf = np.vectorize(statistics.NormalDist().inv_cdf, otypes=[np.float64])


def truncated_normal(*dims, mean=0.0, std=1.0, lo=-2.0, hi=2.0, rng=None):
    """``truncated_normal(dims...; mean=0, std=1, lo=-2, hi=2)``: normal(mean, std) restricted to [lo, hi].

    The limits are absolute values, not multiples of std. Sampled by the inverse CDF, as Flux does:
    a uniform draw in [Φ((lo - mean)/std), Φ((hi - mean)/std)] mapped through Φ⁻¹, scaled, shifted
    and clamped to [lo, hi]. Warns when the mean is more than 2 std outside the limits.
    """
    if not dims:
        return functools.partial(truncated_normal, mean=mean, std=std, lo=lo, hi=hi, rng=rng)
    if mean < lo - 2 * std or mean > hi + 2 * std:
        warnings.warn("truncated_normal: the mean is more than 2 std outside the limits, so the distribution of "
                      "values may be inaccurate", stacklevel=2)
    lower, upper = _norm_cdf((lo - mean) / std), _norm_cdf((hi - mean) / std)
    u = _rng(rng).random(dims)
    p = np.clip(lower + u * (upper - lower), np.finfo(np.float64).tiny, 1 - np.finfo(np.float64).eps)
    return np.clip(_inverse_norm_cdf(p) * std + mean, lo, hi).astype(np.float32)


def orthogonal(*dims, gain=1.0, rng=None):
    """``orthogonal(dims...; gain=1)``: a (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014).

    For (rows, cols) with rows >= cols the columns are orthonormal, otherwise the rows are: a
    standard normal matrix's QR factor Q, with each column's sign fixed by R's diagonal. With
    more than 2 dims, the result reshaped to (prod(dims[:-1]), dims[-1]) in column-major (Julia's)
    order is that matrix. Needs at least 2 dims.
    """
    if not dims:
        return functools.partial(orthogonal, gain=gain, rng=rng)
    if len(dims) < 2:
        raise ValueError(f"orthogonal: needs at least 2 dimensions, got {dims}")
    rows, cols = int(np.prod(dims[:-1])), dims[-1]
    if rows < cols:
        mat = orthogonal(cols, rows, gain=gain, rng=rng).T
    else:
        q, r = np.linalg.qr(_rng(rng).standard_normal((rows, cols)))
        mat = q * np.sign(np.diag(r)) * gain
    return np.asarray(mat, dtype=np.float32).reshape(dims, order="F")


def zeros32(*dims):
    """``zeros32(dims...)``: a float32 array of zeros (Flux's bias initialiser)."""
    return np.zeros(dims, dtype=np.float32)


def ones32(*dims):
    """``ones32(dims...)``: a float32 array of ones."""
    return np.ones(dims, dtype=np.float32)


def rand32(*dims, rng=None):
    """``rand32(dims...)``: float32 uniform on [0, 1); without dims, the initialiser with ``rng`` fixed."""
    if not dims:
        return functools.partial(rand32, rng=rng)
    return _rng(rng).random(dims, dtype=np.float32)


def randn32(*dims, rng=None):
    """``randn32(dims...)``: float32 standard normal (Embedding's default); without dims, the
    initialiser with ``rng`` fixed."""
    if not dims:
        return functools.partial(randn32, rng=rng)
    return _rng(rng).standard_normal(dims, dtype=np.float32)
