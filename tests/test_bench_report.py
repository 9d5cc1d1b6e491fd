"""bench.report's derived figures, on a made-up report."""

from bench.report import _marginal_lines


def _case(name, steps, seconds, short=False):
    return {"name": name, "params": {"short": True} if short else {},
            "results": [{"impl": impl, "steps": steps, "median_s": s} for impl, s in seconds.items()]}


def test_time_per_step_beyond_the_short_call_leaves_out_the_cost_of_a_call():
    # A call costs 300 us once for each; pyflux's steps take 20 ns, JAX's 40 ns.
    workload = {"cases": [
        _case("10,000 steps", 10_000, {"pyflux captured": 300e-6 + 10_000 * 20e-9, "jax scan": 300e-6 + 10_000 * 40e-9}),
        _case("100 steps", 100, {"pyflux captured": 300e-6 + 100 * 20e-9, "jax scan": 300e-6 + 100 * 40e-9}, short=True),
    ]}
    per_step, ratio = _marginal_lines(workload)
    assert "pyflux captured 20.0" in per_step and "jax scan 40.0" in per_step
    assert ratio.endswith("(jax scan): pyflux captured 0.500")


def test_no_figure_without_a_short_call():
    assert _marginal_lines({"cases": [_case("10,000 steps", 10_000, {"pyflux captured": 1e-3, "jax scan": 1e-3})]}) == []
