"""A process forked after parallel kernels and BLAS ran (multiprocessing's default start method on
Linux, data-loader workers) computes correctly instead of waiting forever for the parent's threads.
Each check runs in a fresh interpreter under a timeout, so a hang fails the test."""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

_PARENT = """
import multiprocessing, os
import numpy as np
import pyflux as flux

flux.set_num_threads(2)
x = np.random.default_rng(0).random((1000, 1000)).astype(np.float32)
W = flux.param(x)
flux.gradient(lambda W: flux.sum(flux.relu(W @ W)), W)  # OpenMP kernels and threaded GEMM
expected = float(np.sum(np.maximum(x @ x, 0), dtype=np.float64))


def work(_):
    g = flux.gradient(lambda W: flux.sum(flux.relu(W @ W)), W)[0]
    return float(flux.sum(flux.relu(x @ x))), float(np.abs(g).sum())
"""


def _run(body):
    code = textwrap.dedent(_PARENT) + textwrap.dedent(body)
    try:
        # From the tests folder, so that the installed pyflux is imported (not the source folder).
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              cwd=os.path.dirname(__file__))
    except subprocess.TimeoutExpired:
        pytest.fail("a forked child hung after parallel kernels had run in its parent")
    assert done.returncode == 0, done.stdout + done.stderr


def test_forked_child_computes_after_parallel_kernels_ran():
    _run("""
        pid = os.fork()
        if pid == 0:
            total, _ = work(0)
            os._exit(0 if abs(total - expected) <= 1e-4 * expected else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        assert abs(work(0)[0] - expected) <= 1e-4 * expected  # the parent keeps its threads
    """)


def test_multiprocessing_fork_pool_workers_compute():
    _run("""
        with multiprocessing.get_context("fork").Pool(2) as pool:
            results = pool.map(work, range(4))
        for total, gsum in results:
            assert abs(total - expected) <= 1e-4 * expected
            assert gsum > 0
    """)


def test_set_num_threads_in_a_forked_child_stays_safe():
    _run("""
        pid = os.fork()
        if pid == 0:
            flux.set_num_threads(4)
            total, _ = work(0)
            os._exit(0 if abs(total - expected) <= 1e-4 * expected else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
    """)
