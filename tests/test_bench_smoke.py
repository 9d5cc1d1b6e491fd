"""The benchmark suite cannot rot: ``python -m bench --smoke`` runs every workload once at tiny size
with pyflux and numpy and checks that they agree. Nothing here looks at a timing."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKLOADS = ("W0", "W1", "W2", "W3", "W4", "W5", "W6", "W7")


def test_smoke_run_passes_and_names_every_workload(tmp_path):
    # An empty folder with only a link to bench/: the subprocess imports the installed pyflux, never
    # the repository's pyflux/ folder (uncompiled in a non-editable install).
    (tmp_path / "bench").symlink_to(REPO / "bench", target_is_directory=True)
    results = REPO / "bench" / "results"
    before = set(results.iterdir()) if results.is_dir() else set()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name in WORKLOADS:
        assert f"\n{name}  " in done.stdout, f"{name} missing from the smoke run's table"
    assert "DIFFERS" not in done.stdout and "failed" not in done.stdout
    after = set(results.iterdir()) if results.is_dir() else set()
    assert after == before, "the smoke run must not write results"


def test_smoke_run_fails_when_an_implementation_disagrees(tmp_path):
    # The same machinery, with one implementation of a toy workload off by a little: the run must
    # report it and exit non-zero, or the smoke test above would prove nothing.
    (tmp_path / "bench").symlink_to(REPO / "bench", target_is_directory=True)
    script = """
import sys
import numpy as np
from bench import suite
from bench.harness import Runner
from bench.workloads.common import US_PER_CALL, Case, Impl

def build(offset):
    def make(problem, steps):
        out = {}
        return Runner(run=lambda: out.update(y=problem["x"] + offset), result=lambda: dict(out))
    return make

toy = type(sys)("toy")
toy.NAME, toy.TITLE, toy.__doc__ = "T0", "toy", "toy"
toy.cases = lambda scale: [Case("one", US_PER_CALL, steps=1, check_steps=1, tol=1e-6)]
toy.setup = lambda case: {"x": np.ones(4)}
toy.IMPLS = [Impl("pyflux", "", build(0.0)), Impl("numpy", "", build(1e-3))]
toy.targets = lambda case: []
body, ok = suite.run([toy], ["pyflux", "numpy"], "smoke", 0, 1)
sys.exit(0 if not ok and body["workloads"][0]["cases"][0]["results"][0]["check"]["ok"] is False else 1)
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "DISAGREES" in done.stderr
