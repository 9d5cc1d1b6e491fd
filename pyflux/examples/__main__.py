"""Runs the course examples: ``pyflux-examples [NAME ...] [--quick] [--out DIR]`` or ``python -m pyflux.examples``."""

import sys

from pyflux.examples._cli import main

if __name__ == "__main__":
    sys.exit(main())
