"""Busy neighbours: processes that spin on the CPU while the timed runs repeat, as another user's job
does on a laptop or shared server. A library whose threads wait for each other at every parallel
region slows down far more beside them than one whose work keeps going on the cores it gets."""

import contextlib
import subprocess
import sys

_SPIN = "while True:\n    pass\n"


@contextlib.contextmanager
def busy(count):
    """Runs ``count`` spinning Python processes for the duration of the block (none for 0)."""
    procs = [subprocess.Popen([sys.executable, "-c", _SPIN], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
             for _ in range(count)]
    try:
        yield procs
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
