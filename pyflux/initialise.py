"""Weight initialisers. Each returns a float32 array and accepts ``rng`` (a numpy Generator);
called without sizes it returns the initialiser with its keywords fixed, as Flux's do."""

import functools

import numpy as np

_default_rng = np.random.default_rng()


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
    u = (rng or _default_rng).random(dims, dtype=np.float32)
    return ((u - np.float32(0.5)) * np.float32(scale)).astype(np.float32)
