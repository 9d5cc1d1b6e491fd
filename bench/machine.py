"""What the run ran on: CPU, memory, load, Python, pyflux's BLAS and OpenMP, threads, git revision."""

import datetime
import os
import platform
import subprocess
import sys

from bench import threads
from bench.data import REPO


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _git_revision():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                             timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return f"{rev}{' (modified)' if dirty else ''}" if rev else None
    except (OSError, subprocess.SubprocessError):
        return None


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def pyflux_info():
    try:
        import pyflux
        from pyflux import _core
    except ImportError as err:
        return {"error": str(err)}
    return {"version": pyflux.__version__, "file": pyflux.__file__, "blas": _core.blas_info(),
            "openmp": getattr(_core, "openmp_version", None), "num_threads": pyflux.get_num_threads()}


def describe(requested_threads):
    """The machine section of the JSON report."""
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "memory_gib": _memory_gib(),
        "load_average_start": load_average(),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "git": _git_revision(),
        "threads": requested_threads,
        "thread_environment": threads.environment(),
        "pyflux": pyflux_info(),
    }
