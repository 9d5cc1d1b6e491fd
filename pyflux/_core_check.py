"""A clear message, instead of a bare "No module named 'pyflux._core'", when Python imports a source
folder of pyflux that holds no compiled core: typically ``python -m ...`` started in the repository
root after a non-editable install, which puts the uncompiled ``pyflux/`` folder first on the path."""

import importlib.util
import os

if importlib.util.find_spec("pyflux._core") is None:
    _here = os.path.dirname(os.path.abspath(__file__))
    raise ImportError(
        f"pyflux's compiled core (pyflux._core) is not in {_here}, the pyflux folder Python imported. To run "
        "pyflux from its source tree, install it in place once, in the repository root: "
        "python3 -m venv .venv && .venv/bin/pip install -e .", name="pyflux._core")
