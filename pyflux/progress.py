"""The training progress line: steps done, rate, running loss and time left.

On a terminal the line is redrawn in place (at most every 0.1 s) while the steps run, and ends
with the pass's summary; when output is not a terminal (a file, a pipe, a notebook) only the
summary line is printed. ``train(..., progress=True)`` shows one for its pass over the data and
``fit`` one per epoch. Anything with a ``step(loss, item)`` method can take a Progress's place
in ``train``: it is called after each step with the step's loss (a float, taken before the
update) and its data item.
"""

import math
import sys
import time

import numpy as np

# Looked up at each use, so that tests can drive the clock.
_clock = time.monotonic
_REDRAW_SECONDS = 0.1
_BAR_WIDTH = 20


def observations(item):
    """How many observations a data item holds: the length of the last axis of its first array
    (features x batch), 1 for a scalar. Used to weight each step's loss in the running mean."""
    first = item[0] if type(item) is tuple and item else item
    shape = getattr(first, "shape", None)
    return int(shape[-1]) if shape else 1


def duration(seconds):
    """``4.2s`` under a minute, ``1:05`` under an hour, else ``2:03:04``."""
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_logs(logs):
    """``loss 0.3121  accuracy 0.9123``: each value with 4 significant digits."""
    return "  ".join(f"{key} {value:.4g}" for key, value in logs.items())


class Progress:
    """``Progress(total=None, *, title="", display=True)``: the running mean of the loss over one
    pass, and its display on ``sys.stdout``.

    ``total`` is the number of steps expected (None when unknown: no bar and no time left);
    ``title`` starts the line (``Epoch 2/5``); ``display=False`` shows nothing but still keeps
    the mean. :meth:`step` records a step, :meth:`finish` prints the summary line.
    """

    def __init__(self, total=None, *, title="", display=True):
        self.total = total
        self.title = title
        self.steps = 0
        self._sum = 0.0
        self._count = 0
        self._stream = sys.stdout if display else None
        self._tty = display and _isatty(self._stream)
        self._start = _clock()
        self._drawn = -math.inf
        self._width = 0  # length of the line on screen, so that a shorter one can cover it

    @property
    def loss(self):
        """The mean loss so far, each step weighted by its number of observations (NaN before any step)."""
        return self._sum / self._count if self._count else math.nan

    def step(self, loss, item=None):
        """Records a step's loss for ``item`` (see :func:`observations`) and redraws the line on a terminal."""
        n = 1 if item is None else observations(item)
        self.steps += 1
        self._sum += float(loss) * n
        self._count += n
        self._redraw_if_due()

    def steps_done(self, losses, n):
        """Records several steps at once: their losses (a sequence of floats), each for ``n`` observations."""
        self.steps += len(losses)
        self._sum += float(np.sum(losses)) * n
        self._count += len(losses) * n
        self._redraw_if_due()

    def _redraw_if_due(self):
        if self._tty:
            now = _clock()
            if now - self._drawn >= _REDRAW_SECONDS:
                self._drawn = now
                self._draw(self._running_text(now - self._start))

    def finish(self, logs=None):
        """Prints the summary line: steps, time taken, rate and ``logs`` (default: the mean loss)."""
        if self._stream is None:
            return
        elapsed = _clock() - self._start
        logs = {"loss": self.loss} if logs is None else logs
        parts = [self._steps_text(), duration(elapsed), self._rate_text(elapsed), format_logs(logs)]
        self._draw("  ".join(p for p in parts if p))
        self._stream.write("\n")
        self._stream.flush()

    def _running_text(self, elapsed):
        parts = [self._steps_text()]
        if self.total:
            done = round(_BAR_WIDTH * min(self.steps, self.total) / self.total)
            parts.append("[" + "=" * done + " " * (_BAR_WIDTH - done) + "]")
        parts += [self._rate_text(elapsed), f"loss {self.loss:.4g}"]
        if self.total and self.steps and elapsed > 0:
            parts.append(f"ETA {duration(elapsed / self.steps * max(self.total - self.steps, 0))}")
        return "  ".join(p for p in parts if p)

    def _steps_text(self):
        steps = f"{self.steps}/{self.total}" if self.total else f"{self.steps} steps"
        return f"{self.title}  {steps}" if self.title else steps

    def _rate_text(self, elapsed):
        return f"{self.steps / elapsed:.1f} steps/s" if elapsed > 0 and self.steps else ""

    def _draw(self, text):
        if self._tty:
            cover = " " * max(0, self._width - len(text))
            self._stream.write("\r" + text + cover)
            self._width = len(text)
        else:
            self._stream.write(text)
        self._stream.flush()


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
