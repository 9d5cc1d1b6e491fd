"""W0: float32 GEMM at the MNIST models' shapes and at 2048^3, in GFLOP/s.

C (M x N) = A (M x K) @ B (K x N), row-major, each call allocating its result except the BLAS
reference, which writes into a preallocated C. The pyflux figure is ``Param @ array`` outside
gradient: the same matmul op the tape records.
"""

import ctypes
import os

import numpy as np

from bench.harness import Runner
from bench.workloads.common import Case, Impl, Target, gflops

NAME = "W0"
TITLE = "GEMM float32, C = A @ B"

SHAPES = {  # (M, K, N)
    "full": [(512, 784, 128), (10, 512, 128), (40, 784, 100), (2048, 2048, 2048)],
    "quick": [(512, 784, 128), (10, 512, 128), (40, 784, 100), (1024, 1024, 1024)],
    "smoke": [(8, 16, 4)],
}


def cases(scale):
    out = []
    for m, k, n in SHAPES[scale]:
        flops = 2.0 * m * k * n
        steps = 1 if scale == "smoke" else max(1, int(1e9 / flops))  # about 20 ms per run
        out.append(Case(f"({m}x{k})@({k}x{n})", gflops(flops), steps=steps, check_steps=1, tol=1e-5,
                        params=dict(m=m, k=k, n=n, large=m * k * n >= 1024**3)))
    return out


def setup(case):
    rng = np.random.default_rng(0)
    p = case.params
    return dict(A=rng.standard_normal((p["m"], p["k"]), dtype=np.float32),
                B=rng.standard_normal((p["k"], p["n"]), dtype=np.float32))


def _runner(matmul, steps, finish=lambda c: c):
    box = {}

    def run():
        for _ in range(steps):
            box["C"] = matmul()
        box["C"] = finish(box["C"])

    return Runner(run=run, result=lambda: {"C": np.asarray(box["C"])})


def build_pyflux(problem, steps):
    import pyflux as flux
    A, B = flux.param(problem["A"]), problem["B"]
    return _runner(lambda: A @ B, steps)


def build_numpy(problem, steps):
    A, B = problem["A"], problem["B"]
    return _runner(lambda: A @ B, steps)


def build_blas(problem, steps):
    import scipy_openblas32 as sob
    lib = ctypes.CDLL(os.path.join(sob.get_lib_dir(), f"lib{sob.get_library()}.so"))
    # scipy-openblas32 prefixes its symbols with "scipy_" (DESIGN §5); a plain build would not.
    sgemm = getattr(lib, "scipy_cblas_sgemm", None) or lib.cblas_sgemm
    sgemm.restype = None
    i, f, p = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
    sgemm.argtypes = [i, i, i, i, i, i, f, p, i, p, i, f, p, i]
    A, B = problem["A"], problem["B"]
    (m, k), n = A.shape, B.shape[1]
    C = np.empty((m, n), dtype=np.float32)
    args = (101, 111, 111, m, n, k, 1.0, A.ctypes.data, k, B.ctypes.data, n, 0.0, C.ctypes.data, n)  # RowMajor, NoTrans

    def gemm():
        sgemm(*args)
        return C

    return _runner(gemm, steps)


def build_torch(problem, steps):
    import torch
    A, B = torch.from_numpy(problem["A"]), torch.from_numpy(problem["B"])
    return _runner(lambda: torch.mm(A, B), steps, finish=lambda c: c.numpy())


def build_jax(problem, steps):
    import jax
    import jax.numpy as jnp
    A, B = jnp.asarray(problem["A"]), jnp.asarray(problem["B"])
    matmul = jax.jit(jnp.matmul)
    return _runner(lambda: matmul(A, B).block_until_ready(), steps)


IMPLS = [
    Impl("pyflux", "", build_pyflux),
    Impl("numpy", "", build_numpy),
    Impl("blas", "", build_blas),
    Impl("torch", "", build_torch),
    Impl("jax", "jit", build_jax),
]


def targets(case):
    return [Target("pyflux", "ratio", 1 / 0.9, peer="blas", text="within 10% of the BLAS's own GFLOP/s")]
