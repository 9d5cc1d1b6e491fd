"""``--threads 1,2``: the suite once per thread count, each in a fresh process (a library fixes its
thread count when it loads), then a table of the speed-ups over the smallest count and the
DESIGN §4 target "2 threads at least 1.8x one thread on large batches"."""

import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCALING_TARGET = 1.8  # DESIGN §4, for twice the threads on the cases marked large


def child_argv(args, threads, json_path):
    argv = ["--threads", str(threads), "--json", str(json_path), "--no-chart", "--repeats", str(args.repeats),
            "--warmup", str(args.warmup), "--pause", str(args.pause), "--neighbours", str(args.neighbours),
            "--workloads", *args.workloads,
            "--peers", *args.peers]
    return argv + ["--quick"] * args.quick + ["--traceback"] * args.traceback + ["--affinity"] * args.affinity


def scaling(runs):
    """Rows ``(workload, case, impl, {threads: median_s}, speed-up, status)`` against the smallest count."""
    counts = sorted(runs)
    base, rows = counts[0], []
    for w in runs[base]["workloads"]:
        for case in w["cases"]:
            for r in case["results"]:
                medians = {}
                for n in counts:
                    match = _find(runs[n], w["name"], case["name"], r["impl"])
                    if match is not None:
                        medians[n] = match["median_s"]
                if len(medians) < 2 or base not in medians:
                    continue
                top = max(medians)
                speedup = medians[base] / medians[top]
                status = None
                if case["params"].get("large") and r["peer"] == "pyflux" and top == 2 * base:
                    status = "met" if speedup >= SCALING_TARGET else "not met"
                rows.append((w["name"], case["name"], r["impl"], medians, speedup, status))
    return rows


def _find(report, workload, case_name, impl):
    for w in report["workloads"]:
        if w["name"] != workload:
            continue
        for case in w["cases"]:
            if case["name"] == case_name:
                for r in case["results"]:
                    if r["impl"] == impl and "median_s" in r:
                        return r
    return None


def table(rows, counts):
    lines = ["", f"Scaling with threads: median seconds per run at {', '.join(map(str, counts))} threads; "
             f"speed-up = time at {counts[0]} / time at {counts[-1]}; target for pyflux on large cases: "
             f"at least {SCALING_TARGET}x"]
    for name, case, impl, medians, speedup, status in rows:
        times = "  ".join(f"{medians.get(n, float('nan')):9.4g}" for n in counts)
        lines.append(f"    {name} {case:<34} {impl:<24} {times}  {speedup:5.2f}x  {status or ''}")
    return "\n".join(lines)


def main(args):
    counts = sorted(set(args.thread_counts))
    runs, rc = {}, 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in counts:
            path = Path(tmp) / f"threads-{n}.json"
            print(f"\n=== {n} thread{'s' * (n > 1)} ===", flush=True)
            rc = max(rc, subprocess.call([sys.executable, str(HERE / "run.py"), *child_argv(args, n, path)]))
            if path.exists():
                runs[n] = json.loads(path.read_text())
    if len(runs) < 2:
        print("scaling: fewer than two runs finished", file=sys.stderr)
        return rc or 1
    rows = scaling(runs)
    print(table(rows, counts))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.json) if args.json else HERE / "results" / f"{stamp}-threads-{'-'.join(map(str, counts))}.json"
    if not args.no_json:
        out.parent.mkdir(parents=True, exist_ok=True)
        merged = {"runs": {str(n): r for n, r in runs.items()},
                  "scaling": [dict(workload=w, case=c, impl=i, median_s={str(n): t for n, t in m.items()},
                                   speedup=s, target=st) for w, c, i, m, s, st in rows]}
        out.write_text(json.dumps(merged, indent=1, default=str) + "\n")
        print(f"\nJSON: {out}")
    return rc
