"""throttle (pyflux/callbacks.py).

Most tests drive the throttle's clock and timers by hand (deterministic and instant); a few use
real time to show the real timer thread at work, with long intervals (10 s: later calls certainly
fall inside) or short ones (0.05 s) awaited through an Event with a generous upper bound.
"""

import threading
import time

import numpy as np
import pytest

import pyflux as flux
from pyflux import callbacks

LONG = 10.0
SHORT = 0.05
WAIT = 5.0  # upper bound for a real trailing call to arrive; it normally takes SHORT


class Recorder:
    """A function that records its calls' arguments and times, and returns how many calls it has had."""

    def __init__(self):
        self.args = []
        self.kwargs = []
        self.times = []
        self.event = threading.Event()

    def __call__(self, *args, **kwargs):
        self.args.append(args)
        self.kwargs.append(kwargs)
        self.times.append(time.monotonic())
        self.event.set()
        return len(self.args)

    def wait(self):
        assert self.event.wait(WAIT), "the trailing call did not arrive"
        self.event.clear()


class FakeTimer:
    def __init__(self, interval, function, args=()):
        self.interval, self.function, self.args = interval, function, args
        self.started = self.cancelled = False
        self.daemon = False

    def start(self):
        self.started = True

    def cancel(self):
        self.cancelled = True

    def fire(self):
        assert self.started and not self.cancelled
        self.function(*self.args)


class Fakes:
    def __init__(self):
        self.now = 0.0
        self.timers = []

    def clock(self):
        return self.now

    def timer(self, *args, **kwargs):
        self.timers.append(FakeTimer(*args, **kwargs))
        return self.timers[-1]


@pytest.fixture
def fake(monkeypatch):
    fakes = Fakes()
    monkeypatch.setattr(callbacks, "_clock", fakes.clock)
    monkeypatch.setattr(callbacks, "_Timer", fakes.timer)
    return fakes


# ---------------------------------------------------------------------------------------------------
# leading (the default)


def test_leading_runs_the_first_call_then_one_per_interval(fake):
    f = Recorder()
    g = flux.throttle(f, 10)
    assert g(1) == 1
    fake.now = 9.999
    assert g(2) == 1  # inside the interval: f does not run, the latest result comes back
    fake.now = 10.0
    assert g(3) == 2
    fake.now = 15.0
    assert g(4) == 2
    fake.now = 25.0
    assert g(5, key="v") == 3
    assert f.args == [(1,), (3,), (5,)] and f.kwargs[-1] == {"key": "v"}
    assert fake.timers == []  # leading only needs no timer thread


def test_zero_seconds_runs_every_call(fake):
    f = Recorder()
    g = flux.throttle(f, 0)
    for i in range(5):
        g(i)
    assert len(f.args) == 5


def test_cancel_resets_a_leading_only_throttle(fake):
    f = Recorder()
    g = flux.throttle(f, 10)
    g(1)
    g(2)
    g.cancel()
    g(3)
    assert f.args == [(1,), (3,)]


def test_errors_in_a_leading_call_propagate():
    def f():
        raise KeyError("x")

    with pytest.raises(KeyError):
        flux.throttle(f, LONG)()


# ---------------------------------------------------------------------------------------------------
# trailing


def test_trailing_runs_the_last_suppressed_call_when_the_interval_ends(fake):
    f = Recorder()
    g = flux.throttle(f, 10, trailing=True)
    assert g(1) == 1
    (timer,) = fake.timers
    assert timer.interval == 10 and timer.started and timer.daemon
    assert g(2) == 1 and g(3, key=0) == 1
    assert f.args == [(1,)]
    timer.fire()
    assert f.args == [(1,), (3,)] and f.kwargs[-1] == {"key": 0}
    assert g(4) == 2  # the trailing call started a new interval; its result is the latest
    fake.timers[-1].fire()
    assert f.args[-1] == (4,)
    fake.timers[-1].fire()  # an interval with no calls: the throttle goes idle
    assert len(f.args) == 3 and len(fake.timers) == 3
    assert g(5) == 4  # idle: a leading call, at once
    assert len(fake.timers) == 4


def test_trailing_with_no_suppressed_call_adds_nothing(fake):
    f = Recorder()
    g = flux.throttle(f, 10, trailing=True)
    g(1)
    fake.timers[-1].fire()
    assert f.args == [(1,)]
    g(2)
    assert f.args == [(1,), (2,)]


def test_trailing_only_runs_at_the_end_of_each_interval(fake):
    f = Recorder()
    g = flux.throttle(f, 10, leading=False, trailing=True)
    assert g(1) is None and g(2) is None
    assert f.args == []
    fake.timers[-1].fire()
    assert f.args == [(2,)]
    assert g(3) == 1
    fake.timers[-1].fire()
    assert f.args == [(2,), (3,)]


def test_flush_runs_the_pending_call_now(fake):
    f = Recorder()
    g = flux.throttle(f, 10, trailing=True)
    g(1)
    g(2)
    assert g.flush() == 2
    assert f.args == [(1,), (2,)]
    assert fake.timers[0].cancelled
    assert g.flush() == 2  # nothing pending
    assert g(3) == 3  # flush ended the interval


def test_cancel_drops_the_pending_call(fake):
    f = Recorder()
    g = flux.throttle(f, 10, trailing=True)
    g(1)
    g(2)
    g.cancel()
    assert fake.timers[0].cancelled
    fake.timers[0].function(*fake.timers[0].args)  # a timer already firing when cancel came
    assert f.args == [(1,)] and len(fake.timers) == 1
    g(3)
    assert f.args == [(1,), (3,)]


def test_an_error_in_a_trailing_call_is_raised_by_the_next_call(fake):
    def f(x):
        if x == "bad":
            raise RuntimeError("trailing failure")
        return x

    g = flux.throttle(f, 10, trailing=True)
    g("ok")
    g("bad")
    fake.timers[-1].fire()  # the error stays on the timer's side until the next call
    with pytest.raises(RuntimeError, match="trailing failure"):
        g("next")
    assert g("again") == "again"  # the error ended the interval: this is a leading call


# ---------------------------------------------------------------------------------------------------
# real time


def test_real_time_a_call_after_the_interval_runs():
    f = Recorder()
    g = flux.throttle(f, SHORT)
    g("a")
    time.sleep(3 * SHORT)
    g("c")
    assert f.args[0] == ("a",) and f.args[-1] == ("c",)
    g = flux.throttle(f, LONG)
    assert [g(i) for i in range(100)] == [3] * 100


def test_real_time_trailing_call_arrives_from_the_timer_thread():
    f = Recorder()
    g = flux.throttle(f, SHORT, trailing=True)
    start = time.monotonic()
    g(1)
    f.wait()
    g(2)
    g(3)
    f.wait()
    while f.args[-1] != (3,):  # a stalled machine may have let g(2) start an interval of its own
        f.wait()
    assert f.args[0] == (1,) and f.times[-1] - start >= 0.9 * SHORT
    g.cancel()


# ---------------------------------------------------------------------------------------------------
# arguments, printing, use with train


@pytest.mark.parametrize("args, kwargs, error", [
    ((42, 1.0), {}, TypeError),
    ((print, -1), {}, ValueError),
    ((print, float("inf")), {}, ValueError),
    ((print, "1"), {}, ValueError),
    ((print, True), {}, ValueError),
    ((print, 1.0), {"leading": False}, ValueError),
])
def test_bad_arguments(args, kwargs, error):
    with pytest.raises(error):
        flux.throttle(*args, **kwargs)


def test_wraps_f_and_prints_its_settings():
    def show_loss():
        """Prints the loss."""

    g = flux.throttle(show_loss, 10)
    assert g.__name__ == "show_loss" and g.__doc__ == "Prints the loss." and g.__wrapped__ is show_loss
    assert repr(g) == "throttle(test_wraps_f_and_prints_its_settings.<locals>.show_loss, 10.0)"
    assert repr(flux.throttle(show_loss, 1, leading=False, trailing=True)).endswith(
        "show_loss, 1.0, leading=False, trailing=True)")


def test_as_a_train_callback():
    model = flux.Dense(2, 1)
    x, y = np.ones((2, 4), np.float32), np.zeros((1, 4), np.float32)
    f = Recorder()
    flux.train(lambda x, y: flux.mse(model(x), y), flux.params(model), [(x, y)] * 20, flux.Descent(0.01),
               cb=flux.throttle(f, LONG))
    assert f.args == [()]
