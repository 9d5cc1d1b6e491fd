"""What every workload module declares: its cases, its implementations (one per peer and variant)
and the DESIGN §4 targets it is judged by.

A workload module provides

- ``NAME`` ("W2"), ``TITLE`` and ``cases(scale) -> [Case]`` for scale "full", "quick" or "smoke";
- ``setup(case) -> problem``: data and initial weights, seeded, shared by every implementation;
- ``IMPLS``: a list of :class:`Impl`, whose ``build(problem, steps) -> Runner`` converts the problem
  to the peer's own types (untimed) and returns a runner doing ``steps`` units of work per call;
- ``targets(case) -> [Target]``.

pyflux's captured path (``train(..., capture=True)``) is the ``Impl("pyflux", "captured", build)``
entry of the training workloads; targets name it as ``"pyflux captured"``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


class Skip(Exception):
    """Raised by ``setup`` or a build when the workload cannot run here; the message is the reason."""


@dataclass(frozen=True)
class Unit:
    """How seconds per step become the reported figure: ``factor * s`` or, with ``flops`` (per step),
    GFLOP/s."""

    name: str
    factor: float = 1.0
    flops: float = 0.0

    @property
    def higher_is_better(self):
        return self.flops > 0

    def value(self, seconds_per_step):
        if self.flops:
            return self.flops / seconds_per_step / 1e9
        return seconds_per_step * self.factor


US_PER_STEP = Unit("us/step", 1e6)
MS_PER_STEP = Unit("ms/step", 1e3)
US_PER_CALL = Unit("us/call", 1e6)


def s_per_epoch(batches):
    return Unit("s/epoch", float(batches))


def gflops(flops_per_step):
    return Unit("GFLOP/s", flops=float(flops_per_step))


@dataclass
class Case:
    name: str
    unit: Unit
    steps: int
    check_steps: int
    tol: float
    params: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


@dataclass(frozen=True)
class Impl:
    peer: str
    variant: str
    build: Callable

    @property
    def key(self):
        return f"{self.peer} {self.variant}" if self.variant else self.peer


@dataclass(frozen=True)
class Target:
    """One DESIGN §4 target. ``kind`` is "max" (the figure at most ``limit``), "min" (at least),
    "ratio" (``impl``'s time at most ``limit`` times ``peer``'s), "first" (first call at most
    ``limit`` seconds), and with ``--neighbours``: "loaded ratio" (the ratio of the times beside busy
    neighbours) or "slowdown" (``impl``'s slowdown from its quiet run at most ``limit`` times
    ``peer``'s); "extra" (the figure ``field`` of ``impl``'s extras at most ``limit``)."""

    impl: str
    kind: str
    limit: float
    peer: str = ""
    text: str = ""
    field: str = ""


SHORT_CALL = 100  # steps of a per-sample workload's short call


def per_sample_cases(steps, scale):
    """A per-sample workload's cases: one call of ``steps`` steps and, at full scale, a short call of
    SHORT_CALL steps, whose time per step shows what each library spends per call (a capture's
    trace, a dispatch, caches gone cold in the harness's pause) beside the long call's, which is
    mostly its steps. The targets apply to the long call."""
    out = [Case(f"{steps:,} steps", US_PER_STEP, steps=steps, check_steps=min(500, steps), tol=1e-4)]
    if scale == "full":
        out.append(Case(f"{SHORT_CALL} steps", US_PER_STEP, steps=SHORT_CALL, check_steps=SHORT_CALL, tol=1e-4,
                        params={"short": True}))
    return out


def glorot(rng, n_out, n_in):
    """Flux's glorot_uniform weights (out, in), float32, from a seeded generator."""
    bound = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-bound, bound, size=(n_out, n_in)).astype(np.float32)


def change(final, initial):
    """A training result as the change from the initial weights, so that comparing two peers
    compares what the steps did rather than the (equal) starting point."""
    return {name: np.asarray(final[name], dtype=np.float64) - np.asarray(initial[name], dtype=np.float64)
            for name in initial}


def relative_error(a, b):
    """Norm-wise relative error of a against the reference b (0 for two zero arrays)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    scale = np.linalg.norm(b)
    diff = np.linalg.norm(a - b)
    return float(diff / scale) if scale > 0 else float(diff)


def cycle(items, steps):
    """``steps`` items taken from ``items`` in order, starting again at the end."""
    return [items[i % len(items)] for i in range(steps)]
