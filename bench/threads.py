"""Thread pinning. ``pin`` must run before numpy, pyflux, torch or jax is imported: most of them
read their thread count from the environment once, when their library loads."""

import os
import sys

# Variables read by OpenMP (libgomp, also torch's), OpenBLAS (pyflux's scipy-openblas32 and numpy's
# scipy-openblas64), MKL (torch's BLAS on x86), Apple Accelerate and numexpr.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                    "NUMEXPR_NUM_THREADS")
NUMERICAL_MODULES = ("numpy", "pyflux", "torch", "jax", "autograd", "scipy_openblas32")


def xla_flags(threads, existing=""):
    """XLA's CPU flags for ``threads`` intra-op threads, keeping any other flags already set."""
    kept = [f for f in existing.split() if not f.startswith(("--xla_cpu_multi_thread_eigen",
                                                             "intra_op_parallelism_threads"))]
    multi = "true" if threads > 1 else "false"
    return " ".join(kept + [f"--xla_cpu_multi_thread_eigen={multi}", f"intra_op_parallelism_threads={threads}"])


def pin(threads, affinity=False):
    """Sets every thread variable to ``threads``; refuses if a numerical library is already loaded.

    XLA has no flag for an intra-op pool of N > 1 threads: its pool has one thread per CPU the
    process may run on. ``affinity=True`` therefore also restricts the process to its first
    ``threads`` CPUs (Linux), which makes JAX's thread count match on a machine with more cores.
    """
    loaded = [m for m in NUMERICAL_MODULES if m in sys.modules]
    if loaded:
        raise RuntimeError(f"bench.threads.pin: {', '.join(loaded)} already imported; pin the threads first")
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    os.environ["XLA_FLAGS"] = xla_flags(threads, os.environ.get("XLA_FLAGS", ""))
    if affinity and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])


def environment():
    """The thread variables as this process sees them (for the JSON report)."""
    return {name: os.environ.get(name) for name in THREAD_VARIABLES + ("XLA_FLAGS", "OMP_WAIT_POLICY",
                                                                       "GOMP_SPINCOUNT")}
