"""The examples' command line: ``pyflux-examples [NAME ...] [--quick] [--out DIR] [--mnist DIR]``.

Each example module has ``main(quick=False, out=None, ...)`` that prints its progress and final
figures and returns those figures as a dict (None when it skipped for lack of data). This runner
times each one and ends with a summary of every example it ran.
"""

import argparse
import importlib
import os
import time

from pyflux.examples._plot import DEFAULT_OUT

EXAMPLES = ("keras_tape", "linear_regression", "higham", "exercises", "regression", "mnist_lecture", "mnist_keras",
            "mnist_sigmoid")


def _parser(prog, names):
    parser = argparse.ArgumentParser(prog=prog, description="Runs pyflux's course examples, printing progress, final "
                                     "figures and elapsed time; with matplotlib installed they also write PNGs.")
    if names:
        parser.add_argument("names", nargs="*", metavar="NAME",
                            help=f"examples to run (default: all, in this order): {', '.join(EXAMPLES)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer steps, the same code")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"folder for the PNGs (default: ./{DEFAULT_OUT})")
    parser.add_argument("--mnist", help="folder with the four MNIST IDX files (default: $PYFLUX_MNIST, else "
                        "../shared/data/mnist)")
    return parser


def _figures(figures):
    if figures is None:
        return "skipped"
    return ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items())


def run(names, *, quick=False, out=DEFAULT_OUT):
    """Runs the named examples in turn; returns {name: (figures, seconds)}."""
    results = {}
    for name in names:
        module = importlib.import_module(f"pyflux.examples.{name}")
        print(f"== {name}{' (quick)' if quick else ''}", flush=True)
        start = time.perf_counter()
        figures = module.main(quick=quick, out=out)
        seconds = time.perf_counter() - start
        print(f"-- {name}: {seconds:.1f} s", flush=True)
        results[name] = (figures, seconds)
    return results


def main(argv=None, *, only=None):
    """The entry point; ``only`` names the one example a module run as a script stands for."""
    prog = f"python -m pyflux.examples.{only}" if only else "pyflux-examples"
    parser = _parser(prog, names=only is None)
    args = parser.parse_args(argv)
    unknown = [name for name in getattr(args, "names", ()) if name not in EXAMPLES]
    if unknown:
        parser.error(f"no example named {', '.join(unknown)}; the examples are {', '.join(EXAMPLES)}")
    if args.mnist:
        os.environ["PYFLUX_MNIST"] = args.mnist
    names = [only] if only else (args.names or EXAMPLES)
    results = run(names, quick=args.quick, out=args.out)
    if len(results) > 1:
        print("== summary")
        for name, (figures, seconds) in results.items():
            print(f"{name:18} {seconds:7.1f} s  {_figures(figures)}")
        print(f"{'total':18} {sum(s for _, s in results.values()):7.1f} s")
    return 0
