"""The training progress line (pyflux/progress.py)."""

import io
import math
import sys

import numpy as np
import pytest

from pyflux import progress
from pyflux.progress import Progress, duration, observations


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def clock(monkeypatch):
    """A clock that stands still until a test moves it."""
    class Clock:
        now = 100.0

        def __call__(self):
            return self.now

    c = Clock()
    monkeypatch.setattr(progress, "_clock", c)
    return c


def on_terminal(monkeypatch):
    """Makes sys.stdout a terminal for the rest of the test (set in the test itself: pytest's capture
    sets sys.stdout again after the fixtures ran)."""
    t = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", t)
    return t


@pytest.mark.parametrize("seconds, text", [
    (0.04, "0.0s"), (4.25, "4.2s"), (59.9, "59.9s"), (65, "1:05"), (3599.4, "59:59"), (7384, "2:03:04"),
    (math.inf, "?"),
])
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_observations_counts_the_last_axis_of_the_first_array():
    assert observations((np.zeros((784, 32)), np.zeros(32))) == 32
    assert observations(np.zeros((3, 7))) == 7
    assert observations((1.5, 2.0)) == 1
    assert observations(np.float32(1)) == 1


def test_the_running_loss_weights_each_step_by_its_observations():
    bar = Progress(2, display=False)
    assert math.isnan(bar.loss)
    bar.step(1.0, (np.zeros((2, 3)), np.zeros(3)))
    bar.step(3.0, (np.zeros((2, 1)), np.zeros(1)))
    assert bar.loss == pytest.approx(1.5) and bar.steps == 2


def test_a_silent_progress_writes_nothing(monkeypatch):
    terminal = on_terminal(monkeypatch)
    bar = Progress(3, display=False)
    bar.step(1.0)
    bar.finish({"loss": 1.0})
    assert terminal.getvalue() == ""


def test_redraws_on_a_terminal_at_most_every_tenth_of_a_second(monkeypatch, clock):
    terminal = on_terminal(monkeypatch)
    bar = Progress(10, title="Epoch 1/1")
    bar.step(2.0)
    clock.now += 0.06
    bar.step(2.0)  # too soon: not drawn
    clock.now += 0.06
    bar.step(2.0)
    frames = terminal.getvalue().split("\r")[1:]
    assert frames[0] == "Epoch 1/1  1/10  [==                  ]  loss 2"  # no time has passed: no rate, no ETA
    assert frames[1].startswith("Epoch 1/1  3/10  [======              ]  25.0 steps/s  loss 2  ETA 0.3s")
    assert len(frames) == 2


def test_the_summary_covers_a_longer_line_and_ends_it(monkeypatch, clock):
    terminal = on_terminal(monkeypatch)
    bar = Progress(100)
    clock.now += 1
    bar.step(0.123456)
    clock.now += 1
    bar.finish({"loss": 0.5})
    running, summary = terminal.getvalue().split("\r")[1:]
    assert running == "1/100  [                    ]  1.0 steps/s  loss 0.1235  ETA 1:39"
    text = "1/100  2.0s  0.5 steps/s  loss 0.5"
    assert summary == text + " " * (len(running) - len(text)) + "\n"


def test_not_a_terminal_prints_only_the_summary(monkeypatch, clock):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    bar = Progress(None)
    for _ in range(3):
        clock.now += 1
        bar.step(1.0)
    bar.finish()
    assert out.getvalue() == "3 steps  3.0s  1.0 steps/s  loss 1\n"
