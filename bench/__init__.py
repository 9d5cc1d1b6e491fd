"""pyflux's benchmark suite: the workloads of DESIGN §4, timed against peer libraries in one run.

Run ``python -m bench`` (or ``python bench/run.py``) from the repository root; ``--help`` lists the
options. Nothing here imports a numerical library at import time: the thread counts are pinned
through the environment first (see :mod:`bench.threads`).
"""
