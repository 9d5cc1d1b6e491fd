"""How pyflux is found: a source folder without the compiled core says how to install it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pyflux

SOURCE = Path(pyflux.__file__).resolve().parent


def test_a_source_folder_without_the_core_names_the_install_command(tmp_path):
    shutil.copytree(SOURCE, tmp_path / "pyflux", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    # -S: no site-packages, so nothing but the copied folder can provide pyflux._core
    run = subprocess.run([sys.executable, "-S", "-c", "import pyflux"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: pyflux's compiled core (pyflux._core) is not in ")
    assert str(tmp_path / "pyflux") in last and "pip install -e ." in last
