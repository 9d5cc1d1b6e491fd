"""Runs the selected workloads: for each case, the agreement check, then the timings, then the
targets. Produces the report as plain data (what :mod:`bench.report` prints and saves)."""

import gc
import sys
import traceback

from bench import peers as peer_registry
from bench.neighbours import busy
from bench.harness import call, measure
from bench.workloads import (w0_gemm, w1_linear, w2_higham, w3_mnist_adam, w4_mnist_rmsprop, w5_mnist_sigmoid,
                             w6_inference, w7_dense)
from bench.workloads.common import Skip, relative_error

ALL = (w0_gemm, w1_linear, w2_higham, w3_mnist_adam, w4_mnist_rmsprop, w5_mnist_sigmoid, w6_inference, w7_dense)


SHOW_TRACEBACKS = False  # set by --traceback


def log(message):
    print(message, file=sys.stderr, flush=True)


def _short(err):
    return f"{type(err).__name__}: {err}".splitlines()[0][:200]


def check(case, problem, impls):
    """Runs every implementation for ``case.check_steps`` steps from the same start and compares
    its result with the reference (numpy's, else the first). Returns ``{key: check entry}``."""
    results, entries = {}, {}
    for impl in impls:
        try:
            runner = impl.build(problem, case.check_steps)
            if runner is None:
                continue
            call(runner)
            results[impl.key] = runner.result()
        except Exception as err:
            entries[impl.key] = {"ok": False, "error": _short(err)}
            log(f"    {impl.key}: failed in the check run: {_short(err)}")
            if SHOW_TRACEBACKS:
                traceback.print_exc()
    if not results:
        return entries
    reference = next((k for k in results if k.startswith("numpy")), next(iter(results)))
    for key, result in results.items():
        ref = results[reference]
        missing = sorted(set(ref) ^ set(result))
        err = float("inf") if missing else max((relative_error(result[n], ref[n]) for n in ref), default=0.0)
        entries[key] = {"ok": err <= case.tol, "error": None if err <= case.tol else f"differs from {reference}",
                        "max_relative_error": err, "reference": reference, "tolerance": case.tol}
        if err > case.tol:
            log(f"    {key}: DISAGREES with {reference}: relative error {err:.2e} > {case.tol:.0e}")
    return entries


def run_case(case, problem, impls, warmup, repeats, pause, neighbours=0):
    log(f"  {case.name}: checking")
    checks = check(case, problem, impls)
    runners = {}
    for impl in impls:
        if impl.key not in checks:
            continue  # not applicable to this case
        if checks[impl.key].get("ok") is False and "max_relative_error" not in checks[impl.key]:
            continue  # failed to run at all
        try:
            runner = impl.build(problem, case.steps)
        except Exception as err:
            checks[impl.key] = {"ok": False, "error": _short(err)}
            continue
        if runner is not None:
            runners[impl.key] = runner
    log(f"  {case.name}: timing {', '.join(runners)}")
    extras = {}
    repeats *= case.params.get("repeat_factor", 1)
    timings, failures = measure(runners, warmup, repeats, pause=pause,
                                on_first=lambda k, r: extras.update({k: r.extras()} if r.extras else {}))
    loaded = {}
    if neighbours:
        log(f"  {case.name}: timing again beside {neighbours} busy process{'es' if neighbours > 1 else ''}")
        with busy(neighbours):
            loaded, _ = measure({k: r for k, r in runners.items() if k in timings}, warmup, repeats, pause=pause)
    entries = []
    for impl in impls:
        key = impl.key
        if key not in checks:
            continue
        entry = {"impl": key, "peer": impl.peer, "variant": impl.variant, "steps": case.steps,
                 "check": checks[key], "extras": extras.get(key, {})}
        if key in failures:
            entry["error"] = failures[key]
        elif key in timings:
            t = timings[key]
            entry.update(first_s=t.first, median_s=t.median, min_s=t.min, max_s=t.max, times_s=t.times)
            entry["value"] = {name: case.unit.value(getattr(t, name) / case.steps)
                              for name in ("median", "min", "max", "first")}
            if key in loaded:
                entry["loaded"] = {"neighbours": neighbours, "median_s": loaded[key].median,
                                   "times_s": loaded[key].times, "slowdown": loaded[key].median / t.median}
        entries.append(entry)
    del runners
    gc.collect()
    return entries


def evaluate(target, results):
    """A target's status against one case's results: "met", "not met" or "not run"."""
    by_impl = {r["impl"]: r for r in results if "median_s" in r}
    mine = by_impl.get(target.impl)
    out = {"text": target.text, "impl": target.impl, "kind": target.kind, "limit": target.limit, "peer": target.peer}
    needs_peer = target.kind in ("ratio", "loaded ratio", "slowdown")
    if mine is None or (needs_peer and target.peer not in by_impl):
        missing = target.impl if mine is None else target.peer
        return dict(out, status="not run", reason=f"no result for {missing}")
    if target.kind == "extra":
        value = mine.get("extras", {}).get(target.field)
        if value is None:
            return dict(out, status="not run", reason=f"no {target.field} for {target.impl}")
        met = value <= target.limit
    elif target.kind in ("loaded ratio", "slowdown"):
        if "loaded" not in mine or "loaded" not in by_impl[target.peer]:
            return dict(out, status="not run", reason="no run beside busy neighbours (--neighbours)")
        field = "median_s" if target.kind == "loaded ratio" else "slowdown"
        value = mine["loaded"][field] / by_impl[target.peer]["loaded"][field]
        met = value <= target.limit
    elif target.kind == "ratio":
        value = mine["median_s"] / by_impl[target.peer]["median_s"]
        met = value <= target.limit
    elif target.kind == "first":
        value = mine["first_s"]
        met = value <= target.limit
    else:
        value = mine["value"]["median"]
        met = value <= target.limit if target.kind == "max" else value >= target.limit
    return dict(out, value=value, status="met" if met else "not met")


def run(workloads, peers, scale, warmup, repeats, pause=0.0, neighbours=0):
    """The whole run; returns ``(report_body, ok)`` where ok is False if any check failed."""
    available, skipped, peer_info = [], {}, {}
    for name in peers:
        version, reason = peer_registry.probe(name)
        if version is None:
            skipped[name] = reason
            log(f"peer skipped: {reason}")
        else:
            available.append(name)
            peer_info[name] = {"version": version, "threads": peer_registry.thread_info(name)}
    body = []
    if "pyflux" not in available:
        log("pyflux cannot be imported: nothing to compare (" + skipped.get("pyflux", "not selected") + ")")
        return {"peers": {"available": available, "skipped": skipped, "info": peer_info}, "workloads": body}, False
    ok = True
    for module in workloads:
        log(f"{module.NAME} {module.TITLE}")
        entry = {"name": module.NAME, "title": module.TITLE, "doc": (module.__doc__ or "").strip().splitlines()[0],
                 "cases": []}
        body.append(entry)
        for case in module.cases(scale):
            try:
                problem = module.setup(case)
            except Skip as reason:
                entry["skipped"] = str(reason)
                log(f"  skipped: {reason}")
                break
            impls = [impl for impl in module.IMPLS if impl.peer in available]
            results = run_case(case, problem, impls, warmup, repeats, pause, neighbours)
            ok = ok and all(r["check"].get("ok") and "error" not in r for r in results)
            entry["cases"].append({
                "name": case.name, "unit": case.unit.name, "higher_is_better": case.unit.higher_is_better,
                "steps": case.steps, "params": case.params, "notes": case.notes, "results": results,
                "targets": [evaluate(t, results) for t in module.targets(case)],
            })
            del problem
    return {"peers": {"available": available, "skipped": skipped, "info": peer_info}, "workloads": body}, ok


def select(names):
    """Workload modules by name ("W0", "w3", "all")."""
    if not names or names == ["all"]:
        return list(ALL)
    wanted = {n.upper() for n in names}
    unknown = wanted - {m.NAME for m in ALL}
    if unknown:
        raise SystemExit(f"unknown workloads {sorted(unknown)}; choose from {[m.NAME for m in ALL]}")
    return [m for m in ALL if m.NAME in wanted]
