"""The random generator that pyflux uses when no ``rng`` is given: by the initialisers (so by the
layers' default weights), by ``Dropout``'s masks and by a shuffling ``DataLoader``.

``seed(n)`` makes a script reproducible without passing ``rng=`` everywhere::

    flux.seed(0)
    model = flux.Chain(flux.Dense(784, 40, flux.relu), flux.Dense(40, 10))   # the same weights each run

An explicit ``rng`` (a numpy Generator) still takes precedence wherever one is accepted.
"""

import numbers

import numpy as np

_generator = np.random.default_rng()


def seed(n):
    """``seed(n)``: restarts the default generator from the integer ``n`` (Flux's ``Random.seed!``)."""
    global _generator
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {n!r}")
    _generator = np.random.default_rng(int(n))


def default_rng():
    """The default generator (a numpy Generator), as :func:`seed` last set it."""
    return _generator
