"""Makes the BLAS library findable before the compiled core is imported.

An installed ``pyflux._core`` finds ``libscipy_openblas`` through its rpath (next to the installed
``scipy_openblas32`` package). A core loaded from a build folder (an editable install that rebuilds
on import) has no such neighbour, so the library is loaded here first, by its full path, when the
normal lookup would fail.
"""

import ctypes
import importlib.util
import os


def preload_blas():
    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        return  # a system BLAS build: the dynamic linker finds it
    lib_dir = os.path.join(spec.submodule_search_locations[0], "lib")
    try:
        names = [n for n in os.listdir(lib_dir) if n.startswith("libscipy_openblas") and ".so" in n]
    except OSError:
        return
    for name in names:
        ctypes.CDLL(os.path.join(lib_dir, name), mode=ctypes.RTLD_GLOBAL)


preload_blas()
