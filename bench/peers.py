"""The libraries compared, each optional except pyflux and numpy: how to find them, how to install
them, and how to give them the run's thread count once imported."""

import importlib
import importlib.metadata
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Peer:
    name: str
    module: str
    install: str
    describe: str


PEERS = {
    "pyflux": Peer("pyflux", "pyflux", "pip install -e . (this repository)", "pyflux, the library under test"),
    "numpy": Peer("numpy", "numpy", "installed with pyflux", "numpy with forward and backward written by hand"),
    "blas": Peer("blas", "scipy_openblas32", "installed with pyflux",
                 "cblas_sgemm of pyflux's own OpenBLAS (scipy-openblas32), called through ctypes"),
    "torch": Peer("torch", "torch", "pip install torch==2.13.0", "PyTorch on the CPU, eager mode with autograd"),
    "jax": Peer("jax", "jax", "pip install jax jaxlib", "JAX on the CPU: jax.jit, and lax.scan where noted"),
    "autograd": Peer("autograd", "autograd", "pip install autograd", "HIPS autograd over numpy"),
}
DEFAULT = tuple(PEERS)
SMOKE = ("pyflux", "numpy")


def probe(name):
    """``(version, None)`` if the peer imports, else ``(None, one-line reason)``."""
    peer = PEERS[name]
    try:
        module = importlib.import_module(peer.module)
    except ImportError as err:
        return None, f"{name} not installed ({peer.install}): {err}"
    except Exception as err:  # a broken install should skip the peer, not end the run
        return None, f"{name} failed to import: {type(err).__name__}: {err}"
    if name == "blas":
        return _blas_version(module)
    return getattr(module, "__version__", None) or _distribution_version(peer.module), None


def _distribution_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _blas_version(module):
    path = os.path.join(module.get_lib_dir(), f"lib{module.get_library()}.so")
    if not os.path.exists(path):
        return None, f"blas: no shared library at {path}"
    return module.get_openblas_config().strip(), None


def configure(name, threads):
    """Gives an imported peer the thread count (the environment covers the others)."""
    if name == "pyflux":
        import pyflux
        pyflux.set_num_threads(threads)
    elif name == "torch":
        import torch
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:  # allowed once, before any parallel work
            pass


def thread_info(name):
    """The peer's own view of its threads, for the JSON report."""
    if name == "pyflux":
        import pyflux
        return {"num_threads": pyflux.get_num_threads()}
    if name == "torch":
        import torch
        return {"num_threads": torch.get_num_threads(), "num_interop_threads": torch.get_num_interop_threads(),
                "parallel_info": torch.__config__.parallel_info()}
    if name == "jax":
        import jax
        return {"devices": [str(d) for d in jax.devices()], "XLA_FLAGS": os.environ.get("XLA_FLAGS")}
    if name == "numpy":
        import numpy
        try:
            return {"blas": numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]}
        except Exception:  # show_config's layout differs between numpy versions
            return {}
    return {}
