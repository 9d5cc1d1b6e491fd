"""Training callbacks: ``throttle`` (Flux's rate limiter for callbacks such as printing the loss)."""

import functools
import math
import numbers
import threading
import time

# Looked up at each use, so that tests can drive the clock and the timers.
_clock = time.monotonic
_Timer = threading.Timer


class Throttled:
    """The callable that ``throttle`` returns; see ``throttle`` for the rules.

    ``flush()`` runs a pending trailing call now (in the caller's thread) and ends the interval;
    ``cancel()`` drops it and ends the interval, so that the next call runs at once.
    """

    def __init__(self, f, seconds, leading, trailing):
        self._f = f
        self.seconds = seconds
        self.leading = leading
        self.trailing = trailing
        self._lock = threading.Lock()
        self._until = -math.inf  # leading only: end of the current interval, in _clock() seconds
        self._active = False  # trailing: an interval is under way (its timer is set, or a trailing call runs)
        self._pending = None  # trailing: (args, kwargs) of the last call made during the interval
        self._timer = None
        self._generation = 0  # bumped by cancel/flush so that a timer already firing does not start a new interval
        self._result = None
        self._error = None
        functools.update_wrapper(self, f, updated=())

    def __call__(self, *args, **kwargs):
        self._reraise()
        if not self.trailing:
            with self._lock:
                now = _clock()
                if now < self._until:
                    return self._result
                self._until = now + self.seconds
            self._result = self._f(*args, **kwargs)
            return self._result
        with self._lock:
            if self._active or not self.leading:
                self._pending = (args, kwargs)
                if not self._active:
                    self._start_interval()
                return self._result
            self._start_interval()
        self._result = self._f(*args, **kwargs)
        return self._result

    def _start_interval(self):
        # Called with the lock held.
        self._active = True
        self._timer = _Timer(self.seconds, self._interval_end, args=(self._generation,))
        self._timer.daemon = True
        self._timer.start()

    def _end_interval(self):
        # Called with the lock held.
        self._generation += 1
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._active = False
        self._until = -math.inf

    def _interval_end(self, generation):
        """Runs on the timer's thread when an interval ends: the pending call, if any, then a new interval."""
        with self._lock:
            if generation != self._generation:
                return
            pending, self._pending = self._pending, None
            if pending is None:
                self._end_interval()
                return
        try:
            self._result = self._f(*pending[0], **pending[1])
        except Exception as error:  # noqa: BLE001  kept for the caller's thread: see _reraise
            with self._lock:
                self._error = error
                if generation == self._generation:
                    self._pending = None
                    self._end_interval()
            return
        with self._lock:
            if generation == self._generation:
                self._start_interval()

    def _reraise(self):
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def flush(self):
        """Runs the pending trailing call now, if there is one, ends the interval and returns the latest result."""
        self._reraise()
        with self._lock:
            pending, self._pending = self._pending, None
            self._end_interval()
        if pending is not None:
            self._result = self._f(*pending[0], **pending[1])
        return self._result

    def cancel(self):
        """Drops the pending trailing call, if any, and ends the interval: the next call runs at once."""
        with self._lock:
            self._pending = None
            self._end_interval()

    def __repr__(self):
        name = getattr(self._f, "__qualname__", None) or repr(self._f)
        options = "" if self.leading else ", leading=False"
        options += ", trailing=True" if self.trailing else ""
        return f"throttle({name}, {self.seconds!r}{options})"


def throttle(f, seconds, *, leading=True, trailing=False):
    """``throttle(f, seconds, *, leading=True, trailing=False)``: ``f`` rate-limited to one call per interval.

    The first call starts an interval of ``seconds`` and, with ``leading=True``, runs ``f`` at once.
    Calls during the interval do not run ``f`` and return the latest result of ``f`` (None before
    the first run). With ``trailing=True`` the last of those calls is remembered and run, with its
    arguments, when the interval ends; that run starts a new interval. With ``leading=False,
    trailing=True`` every run happens at the end of an interval.

    The trailing run happens on a timer thread (a daemon: a pending call is dropped when the
    program exits; call ``.flush()`` after training to run it). An exception it raises is raised
    again by the next call, ``flush()`` included. ``leading=False, trailing=False`` would never
    run ``f`` (Flux accepts it silently) and raises ValueError.

    Typical use, with ``train``'s callback::

        cb = throttle(lambda: print(loss(x, y)), 10)
        train(loss, params(model), data, opt, cb=cb)
    """
    if not callable(f):
        raise TypeError(f"throttle: f must be callable, got {f!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or not math.isfinite(seconds) \
            or seconds < 0:
        raise ValueError(f"throttle: seconds must be a finite number >= 0, got {seconds!r}")
    if not (leading or trailing):
        raise ValueError("throttle: with leading=False and trailing=False f would never run")
    return Throttled(f, float(seconds), bool(leading), bool(trailing))
