"""``python bench/run.py [options]``: the same as ``python -m bench`` from the repository root.

The repository root is appended to ``sys.path`` (not prepended), so that an installed pyflux is
still found before the repository's uncompiled ``pyflux/`` folder.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    # Python put this folder first on sys.path; its module names (report, data, ...) must not
    # shadow top-level modules of the peers.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.append(str(here.parent))
    from bench.__main__ import main

    sys.exit(main())
