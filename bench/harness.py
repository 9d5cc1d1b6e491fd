"""Timing: a first call, warm-up runs, then repeated runs interleaved across implementations.

A workload builds one :class:`Runner` per implementation (the setup, never timed). ``Runner.run``
is the timed call; it does ``steps`` units of work and returns only when the work is done (JAX
runners block on their results). ``prepare``, when given, runs untimed before every timed call
(for example to record the forward pass whose backward is timed).

The repeats of the implementations of one case are interleaved, in a rotating order, so that a
neighbour's burst of load on a shared machine hits all of them alike; compare medians.
"""

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Runner:
    run: Callable[[], None]
    result: Callable[[], dict] | None = None
    prepare: Callable[[], None] | None = None
    extras: Callable[[], dict] | None = None


@dataclass
class Timing:
    """Seconds per run: the first call (compile and cache warm-up included) and the repeats."""

    first: float
    times: list = field(default_factory=list)

    @property
    def median(self):
        return statistics.median(self.times) if self.times else self.first

    @property
    def min(self):
        return min(self.times) if self.times else self.first

    @property
    def max(self):
        return max(self.times) if self.times else self.first


def call(runner):
    """One untimed ``prepare`` (if any) and ``run``."""
    if runner.prepare is not None:
        runner.prepare()
    runner.run()


def time_once(runner, pause=0.0):
    """Seconds taken by one ``runner.run()``; garbage from earlier runs is collected beforehand so
    that one run does not pay for another's, but the collector stays on during the run.

    ``pause`` seconds of sleep before the run let the thread pools of the implementation that ran
    before go idle: OpenBLAS's threads spin for about 0.1 s after their last job, and spinning
    threads of one library slow down the next one on a machine with few cores.
    """
    gc.collect()
    if pause:
        time.sleep(pause)
    if runner.prepare is not None:  # right before the run, as a forward pass precedes its backward
        runner.prepare()
    start = time.perf_counter()
    runner.run()
    return time.perf_counter() - start


def measure(runners, warmup, repeats, on_first=None, pause=0.0):
    """Times every runner of a dict ``{key: Runner}``: the first call, ``warmup`` untimed runs each,
    then ``repeats`` timed runs each, interleaved. ``on_first(key, runner)`` is called right after
    a runner's first call (to read figures such as accuracy after exactly one run). ``pause``: see
    :func:`time_once`.

    Returns ``({key: Timing}, {key: error message})``: a runner that raises is dropped from the
    rest of the measurement and reported instead of ending it.
    """
    timings, failures = {}, {}

    def attempt(key, action, *args):
        try:
            return action(*args)
        except Exception as err:
            failures[key] = f"{type(err).__name__}: {err}".splitlines()[0][:200]
            timings.pop(key, None)
            return None

    for key, runner in runners.items():
        first = attempt(key, time_once, runner, pause)
        if first is not None:
            timings[key] = Timing(first=first)
            if on_first is not None:
                attempt(key, on_first, key, runner)
    for rep in range(warmup + repeats):
        keys = [k for k in runners if k in timings]
        shift = rep % len(keys) if keys else 0
        for key in keys[shift:] + keys[:shift]:
            seconds = attempt(key, time_once, runners[key], pause)
            if seconds is not None and rep >= warmup:
                timings[key].times.append(seconds)
    return timings, failures
