"""The workloads W0-W7, one module each (the list is ``bench.suite.ALL``). Each module declares its
cases, setup, implementations (one per peer, side by side) and targets; see
:mod:`bench.workloads.common`."""
