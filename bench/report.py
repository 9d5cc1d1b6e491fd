"""The report: a table for the terminal, the JSON file with every figure, and a PNG chart of the
ratios when matplotlib is installed.

Ratios are always of times, ``pyflux time / peer time``: below 1, pyflux is faster (also for
GFLOP/s rows, where a ratio of 0.5 means twice the peer's GFLOP/s).
"""

import json
import math
from pathlib import Path


def fmt(v):
    """A figure with 3 to 4 significant digits and no exponent for the usual ranges."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    if a >= 0.001:
        return f"{v:.3f}"
    return f"{v:.2e}"


def fmt_seconds(s):
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} us"


def _pyflux_rows(results):
    return [r for r in results if r["peer"] == "pyflux" and "median_s" in r]


def ratios(case):
    """``{(pyflux impl, peer impl): pyflux median / peer median}`` for one case."""
    out = {}
    for mine in _pyflux_rows(case["results"]):
        for other in case["results"]:
            if other["peer"] != "pyflux" and "median_s" in other:
                out[(mine["impl"], other["impl"])] = mine["median_s"] / other["median_s"]
    return out


def _check_cell(r):
    c = r["check"]
    if "error" in r:
        return "failed: " + r["error"]
    if c.get("ok"):
        err = c.get("max_relative_error", 0.0)
        return "reference" if c.get("reference") == r["impl"] else f"ok {err:.0e}"
    if "max_relative_error" in c:
        return f"DIFFERS {c['max_relative_error']:.1e} > {c['tolerance']:.0e}"
    return "failed: " + str(c.get("error"))


def _case_lines(case):
    pyflux_rows = _pyflux_rows(case["results"])
    pyflux_impls = [r["impl"] for r in pyflux_rows]
    ratio = ratios(case)
    variants = " | ".join(r["variant"] or "pyflux" for r in pyflux_rows)
    rheader = "pyflux/peer" + (f" ({variants})" if len(pyflux_impls) > 1 else "")
    width = max(14, len(rheader))
    nw = max([26, len(case["name"]) + 1] + [len(r["impl"]) + 1 for r in case["results"]])
    header = (f"    {case['name']:<{nw}}{case['unit']:>9} median {'min':>9} {'max':>9} {'first call':>11}  "
              f"{rheader:<{width}} check")
    lines = [header]
    for r in case["results"]:
        if "median_s" not in r:
            lines.append(f"    {r['impl']:<{nw}}  {_check_cell(r)}")
            continue
        v = r["value"]
        low, high = sorted((v["min"], v["max"]))
        cell = " | ".join(fmt(ratio.get((p, r["impl"]))) for p in pyflux_impls) if r["peer"] != "pyflux" else ""
        lines.append(f"    {r['impl']:<{nw}}{fmt(v['median']):>16} {fmt(low):>9} {fmt(high):>9} "
                     f"{fmt_seconds(r['first_s']):>11}  {cell:<{width}} {_check_cell(r)}")
    for t in case["targets"]:
        detail = f"({fmt(t['value'])})" if "value" in t else f"({t.get('reason', '')})"
        lines.append(f"      target {t['impl']}: {t['text']}: {t['status'].upper()} {detail}")
    project = case["params"].get("project_steps")
    if project:
        cells = [f"{r['impl']} {fmt_seconds(r['median_s'] / r['steps'] * project)}"
                 for r in case["results"] if "median_s" in r]
        lines.append(f"      projected for {project:,} steps: " + ", ".join(cells))
    loaded = [r for r in case["results"] if "loaded" in r]
    if loaded:
        n = loaded[0]["loaded"]["neighbours"]
        cells = [f"{r['impl']} {fmt(r['loaded']['slowdown'])}x" for r in loaded]
        lines.append(f"      slowdown beside {n} busy process{'es' if n > 1 else ''} (median / quiet median): "
                     + ", ".join(cells))
    accuracy = [f"{r['impl']} {r['extras']['test_accuracy']:.4f}" for r in case["results"]
                if "test_accuracy" in r.get("extras", {})]
    if accuracy:
        lines.append("      test accuracy after the first run: " + ", ".join(accuracy))
    memory = [f"{r['impl']} {r['extras']['peak_memory']['footprint'] / 2**20:.0f} MiB "
              f"({fmt(r['extras']['peak_memory_ratio'])}x)" for r in case["results"] if "peak_memory" in r.get("extras", {})]
    if memory:
        budget = next(r["extras"]["peak_memory"]["budget"] for r in case["results"] if "peak_memory" in r.get("extras", {}))
        lines.append(f"      peak memory of a full epoch in a fresh process, above its imports (budget {budget / 2**20:.0f} "
                     "MiB: data + parameters + one batch's activations and gradients): " + ", ".join(memory))
    for note in case["notes"]:
        lines.append(f"      {note}")
    return lines


def _marginal_lines(workload):
    """For a per-sample workload with a short call (bench.workloads.common.per_sample_cases): each
    implementation's time per step beyond the short call, (long - short) / (long steps - short
    steps), which leaves out what a call costs once (a trace, a dispatch, caches gone cold in the
    harness's pause) and so compares the steps themselves."""
    cases = workload["cases"]
    short = next((c for c in cases if c["params"].get("short")), None)
    long = next((c for c in cases if not c["params"].get("short")), None)
    if short is None or long is None:
        return []
    timed = {r["impl"]: r for r in short["results"] if "median_s" in r}
    per_step = {}
    for r in long["results"]:
        s = timed.get(r["impl"])
        if "median_s" in r and s is not None and r["steps"] > s["steps"]:
            per_step[r["impl"]] = (r["median_s"] - s["median_s"]) / (r["steps"] - s["steps"])
    if not per_step:
        return []
    cells = [f"{impl} {fmt(seconds * 1e9)}" for impl, seconds in per_step.items()]
    lines = [f"    per step beyond the {short['name']} call, ns (long - short) / (steps apart): " + ", ".join(cells)]
    peers = {impl: t for impl, t in per_step.items() if not impl.startswith("pyflux") and t > 0}
    if peers:
        best = min(peers, key=peers.get)
        cells = [f"{impl} {fmt(t / peers[best])}" for impl, t in per_step.items() if impl.startswith("pyflux")]
        lines.append(f"      ratio to the fastest peer per step ({best}): " + ", ".join(cells))
    return lines


def table(report):
    meta = report["meta"]
    pf = meta.get("pyflux", {})
    peers = report["peers"]
    allowed = meta.get("cpu_affinity")
    cpus = f"{meta['cpu_count']} CPUs" + (f" (this run on CPUs {allowed})" if allowed and len(allowed) != meta[
        "cpu_count"] else "")
    lines = [
        f"pyflux {pf.get('version')} benchmarks, {meta['date']}, git {meta.get('git')}",
        f"machine: {meta['cpu']}, {cpus}, {meta['memory_gib']} GiB, {meta['platform']}, "
        f"load {meta['load_average_start']} -> {report.get('load_average_end')}",
        f"threads: {meta['threads']}; BLAS: {pf.get('blas')}; OpenMP {pf.get('openmp')}",
        "peers: " + ", ".join(f"{n} {i['version']}" for n, i in peers["info"].items()),
    ]
    lines += [f"skipped: {reason}" for reason in peers["skipped"].values()]
    cfg = report["config"]
    lines.append(f"scale {cfg['scale']}, {cfg['warmup']} warm-up and {cfg['repeats']} timed runs per case, "
                 "interleaved; median [min, max]; ratio = pyflux time / peer time (below 1: pyflux faster)")
    for w in report["workloads"]:
        lines += ["", f"{w['name']}  {w['title']}"]
        if w.get("skipped"):
            lines.append(f"    skipped: {w['skipped']}")
        for case in w["cases"]:
            lines += _case_lines(case)
        lines += _marginal_lines(w)
    return "\n".join(lines)


def targets_summary(report):
    rows = [(w["name"], c["name"], t) for w in report["workloads"] for c in w["cases"] for t in c["targets"]]
    if not rows:
        return ""
    lines = ["", "DESIGN §4 targets"]
    for name, case, t in rows:
        value = fmt(t["value"]) if "value" in t else "-"
        lines.append(f"    {name} {case:<28} {t['impl']:<16} {t['text']:<44} {value:>9}  {t['status']}")
    return "\n".join(lines)


def write_json(report, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return path


def write_chart(report, path):
    """A bar per (case, pyflux impl, peer) ratio, log scale; silently nothing without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels, values = [], []
    for w in report["workloads"]:
        for case in w["cases"]:
            for (mine, peer), r in ratios(case).items():
                labels.append(f"{w['name']} {case['name']}: {mine} / {peer}")
                values.append(r)
    if not values:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.24 * len(values) + 1.5))
    colors = ["tab:green" if v <= 1 else "tab:red" for v in values]
    ax.barh(range(len(values)), values, color=colors)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(values)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("pyflux time / peer time (below 1: pyflux faster)")
    ax.set_title(f"pyflux vs peers, {report['meta']['threads']} threads, {report['meta']['date']}", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
