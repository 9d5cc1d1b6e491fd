"""The contention rule (kernels/contention.hpp): threads of a parallel region that start more than
1 ms apart are a late start; two late starts within 0.1 s put kernels and BLAS on one thread for a
second, one alone does not."""

import time

import pytest

from pyflux import _core

LATE, ON_TIME = 3_000_000, 50_000  # spreads in ns


@pytest.fixture(autouse=True)
def clear():
    _core._clear_contention()
    yield
    _core._clear_contention()


def test_starts_on_time_keep_the_threads():
    for _ in range(20):
        _core._note_start_spread(ON_TIME)
    assert not _core._contended()


def test_one_late_start_alone_keeps_the_threads():
    _core._note_start_spread(LATE)
    assert not _core._contended()
    time.sleep(0.15)  # the next one comes after the window
    _core._note_start_spread(LATE)
    assert not _core._contended()


def test_two_late_starts_close_together_mean_one_thread():
    _core._note_start_spread(LATE)
    _core._note_start_spread(ON_TIME)
    _core._note_start_spread(LATE)
    assert _core._contended()


def test_one_thread_for_a_second_then_threads_again():
    _core._note_start_spread(LATE)
    _core._note_start_spread(LATE)
    assert _core._contended()
    time.sleep(1.05)
    assert not _core._contended()
