"""``python -m bench``: runs the benchmark suite and reports it (see bench/README.md).

The command line is parsed and the threads pinned before anything imports numpy, pyflux or a peer.
"""

import argparse
import datetime
import sys
from pathlib import Path

from bench import threads

RESULTS = Path(__file__).resolve().parent / "results"
PEER_NAMES = ("pyflux", "numpy", "blas", "torch", "jax", "autograd")


def _names(text):
    return [n for part in text for n in part.replace(",", " ").split() if n]


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m bench", description="Runs the benchmark suite (see bench/README.md).")
    p.add_argument("-w", "--workloads", nargs="+", default=["all"], metavar="W",
                   help="workloads to run, e.g. W0 W2 or W1,W3 (default: all)")
    p.add_argument("-p", "--peers", nargs="+", default=list(PEER_NAMES), metavar="PEER",
                   help=f"peers to compare, from {', '.join(PEER_NAMES)} (default: all installed; pyflux always runs)")
    p.add_argument("-r", "--repeats", type=int, default=5, help="timed runs per implementation (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs after the first call (default 1)")
    p.add_argument("--pause", type=float, default=0.1,
                   help="seconds of sleep before each timed run, so that the previous library's threads stop "
                        "spinning (default 0.1; 0 in --smoke)")
    p.add_argument("-t", "--threads", default="2",
                   help="threads for every library (default 2); a list such as 1,2 runs the suite once per "
                        "count, each in its own process, and adds a scaling table")
    p.add_argument("--affinity", action="store_true",
                   help="also restrict the process to its first N CPUs (JAX's thread pool follows the CPUs, not a "
                        "flag; needed where the machine has more cores than --threads)")
    p.add_argument("-n", "--neighbours", type=int, default=0, metavar="N",
                   help="time every case a second time beside N busy processes (one spinning Python process "
                        "each) and report each library's slowdown against its own quiet run (default 0)")
    p.add_argument("--quick", action="store_true", help="shorter runs: fewer steps, partial epochs (projected)")
    p.add_argument("--smoke", action="store_true",
                   help="every workload once at tiny size with pyflux and numpy only, checking that they agree")
    p.add_argument("--json", metavar="PATH", help="where to write the JSON (default bench/results/<time>.json)")
    p.add_argument("--no-json", action="store_true", help="write no JSON")
    p.add_argument("--chart", metavar="PATH", help="where to write the PNG chart (default beside the JSON)")
    p.add_argument("--no-chart", action="store_true", help="make no chart")
    p.add_argument("--traceback", action="store_true", help="print tracebacks of implementations that fail")
    p.add_argument("--list", action="store_true", help="list the workloads and peers, then exit")
    args = p.parse_args(argv)
    args.workloads = _names(args.workloads)
    args.peers = _names(args.peers)
    unknown = set(args.peers) - set(PEER_NAMES)
    if unknown:
        p.error(f"unknown peers {sorted(unknown)}; choose from {', '.join(PEER_NAMES)}")
    try:
        args.thread_counts = [int(n) for n in args.threads.replace(",", " ").split()]
    except ValueError:
        p.error(f"--threads takes counts such as 2 or 1,2, not {args.threads!r}")
    if not args.thread_counts or min(args.thread_counts) < 1:
        p.error("--threads must be at least 1")
    if args.neighbours < 0:
        p.error("--neighbours must be at least 0")
    if args.repeats < 1 or args.warmup < 0:
        p.error("--repeats must be at least 1 and --warmup at least 0")
    if args.smoke:
        args.peers, args.repeats, args.warmup, args.pause, args.neighbours = ["pyflux", "numpy"], 1, 0, 0.0, 0
        args.thread_counts = args.thread_counts[:1]
    elif "pyflux" not in args.peers:
        args.peers.insert(0, "pyflux")
    return args


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    if len(args.thread_counts) > 1:
        from bench import sweep
        return sweep.main(args)
    threads.pin(args.thread_counts[0], affinity=args.affinity)

    from bench import machine, peers, report, suite  # numerical imports start here
    if args.list:
        for module in suite.ALL:
            print(f"{module.NAME}  {module.TITLE}")
        for name in PEER_NAMES:
            print(f"{name:<9} {peers.PEERS[name].describe} ({peers.PEERS[name].install})")
        return 0
    for name in args.peers:
        if peers.probe(name)[0] is not None:
            peers.configure(name, args.thread_counts[0])
    suite.SHOW_TRACEBACKS = args.traceback
    scale = "smoke" if args.smoke else "quick" if args.quick else "full"
    meta = machine.describe(args.thread_counts[0])
    body, ok = suite.run(suite.select(args.workloads), args.peers, scale, args.warmup, args.repeats,
                         args.pause, args.neighbours)
    result = {"meta": meta,
              "config": {"scale": scale, "workloads": args.workloads, "peers": args.peers, "repeats": args.repeats,
                         "warmup": args.warmup, "pause_s": args.pause, "neighbours": args.neighbours,
                         "threads": args.thread_counts[0], "argv": sys.argv[1:]},
              **body, "load_average_end": machine.load_average()}
    print(report.table(result))
    print(report.targets_summary(result))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    default_json = None if args.no_json or args.smoke else RESULTS / f"{stamp}-t{args.thread_counts[0]}.json"
    json_path = args.json or default_json
    if json_path:
        print(f"\nJSON: {report.write_json(result, json_path)}")
    if not (args.no_chart or args.smoke):
        chart = report.write_chart(result, args.chart or Path(json_path or RESULTS / stamp).with_suffix(".png"))
        if chart:
            print(f"chart: {chart}")
    if not ok:
        print("\nsome implementations failed or disagree with the reference (see above)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
