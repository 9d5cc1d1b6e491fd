"""Peak memory of one W4 epoch, measured in a fresh process (DESIGN §4: within 1.2x of data +
parameters + one batch's activations and gradients).

The child process imports numpy and pyflux and reads its resident size (the base), loads the
MNIST training set as the course examples do (``load_mnist``, ``onehotbatch``), builds the
784-512-10 model and RMSProp state, resets the kernel's peak-RSS counter (``/proc/self/clear_refs``)
and trains one epoch with ``DataLoader(batchsize=128, shuffle=True)``, either captured or general.
The footprint is the epoch's peak resident size less the base, and the budget is what the epoch
has to hold:

- the data: images (784, N) and one-hot targets (10, N), float32;
- each parameter three times: itself, its gradient and RMSProp's state;
- one batch's activations and their gradients: the input batch, both layers' pre-activations
  and outputs, twice.

``python -m bench.memory`` prints both modes; W4 reports them as extras and checks the target.
Linux only (it reads /proc); elsewhere :func:`measure` returns None.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES, BATCH = (784, 512, 10), 128
LIMIT = 1.2


def _status_bytes(field):
    """A size from /proc/self/status (``VmRSS``, ``VmHWM``) in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def budget_bytes(n_images, sizes=SIZES, batch=BATCH, itemsize=4):
    """Data + three copies of the parameters + one batch's activations and their gradients."""
    data = (sizes[0] + sizes[-1]) * n_images * itemsize
    params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:])) * itemsize
    batch_values = (sizes[0] + 2 * sum(sizes[1:])) * min(batch, n_images) * itemsize
    return data + 3 * params + 2 * batch_values


def _child(mode, folder):
    """Runs in the fresh process: one epoch, then prints the figures as one JSON line."""
    import numpy as np

    import pyflux as flux
    from pyflux.datasets import load_mnist

    base = _status_bytes("VmRSS")
    X, labels = load_mnist(folder, "train")
    Y = flux.onehotbatch(labels, range(10))
    del labels
    init = flux.glorot_uniform(rng=np.random.default_rng(0))
    model = flux.Chain(flux.Dense(SIZES[0], SIZES[1], flux.relu, init=init), flux.Dense(SIZES[1], SIZES[2], init=init))
    state = flux.setup(flux.RMSProp(0.001), model)
    loader = flux.DataLoader((X, Y), batchsize=BATCH, shuffle=True, rng=0)
    before = _status_bytes("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
    flux.train(lambda m, x, y: flux.logitcrossentropy(m(x), y), model, loader, state, capture=(mode == "captured"))
    peak = _status_bytes("VmHWM")
    n = X.shape[1]
    print(json.dumps({"mode": mode, "images": n, "base": base, "before_epoch": before, "peak": peak,
                      "footprint": peak - base, "budget": budget_bytes(n)}))


def measure(mode, folder, timeout=600):
    """``{"footprint", "budget", "ratio", ...}`` in bytes for mode "captured" or "general", measured
    in a fresh process; None where /proc is missing. Raises RuntimeError if the child fails."""
    if not Path("/proc/self/clear_refs").exists():
        return None
    # Run as a file from an empty folder, so that the child imports the installed pyflux, never a
    # source tree's pyflux/ folder beside the working directory (uncompiled in a non-editable install).
    run_file = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    with tempfile.TemporaryDirectory() as empty:
        proc = subprocess.run([sys.executable, "-c", run_file, __file__, "--child", mode, str(folder)], cwd=empty,
                              capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"the {mode} memory run failed: {proc.stderr.strip().splitlines()[-1:]}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["ratio"] = figures["footprint"] / figures["budget"]
    return figures


def describe(figures):
    mb = 1 / 2**20
    return (f"{figures['mode']}: peak {figures['footprint'] * mb:.0f} MiB above the imports' "
            f"{figures['base'] * mb:.0f} MiB (the epoch itself added {(figures['peak'] - figures['before_epoch']) * mb:.0f}), "
            f"budget {figures['budget'] * mb:.0f} MiB, ratio {figures['ratio']:.2f} (target at most {LIMIT})")


def main(argv):
    if argv[:1] == ["--child"]:
        _child(argv[1], argv[2])
        return 0
    from bench.data import mnist_dir
    folder = Path(argv[0]) if argv else mnist_dir()
    for mode in ("general", "captured"):
        figures = measure(mode, folder)
        print(describe(figures) if figures else "peak memory needs Linux's /proc")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
