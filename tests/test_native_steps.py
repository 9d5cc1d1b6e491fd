"""Native steps (pyflux.native): a captured step of small buffers built for its sizes. They run when
they are built, give the loops' results, stop at a NaN loss as the loops do, are cached by the
step's shape, and every failure (no compiler, a failing build, a damaged cache) leaves the loops."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyflux as flux
from pyflux import capture, native

from test_capture_flat import (BINARY, OPERANDS, SMALL_LOSSES, UNARY, _samples, _small_params, drawn_loss,
                               higham_chain)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("native-steps")


@pytest.fixture
def path(monkeypatch, cache):
    """Native steps built before the first replayed step, into a cache of this module; a list that
    receives, for each captured replay, how its last steps ran: "native", "loops" or "kernels"."""
    if native._compiler() is None:
        pytest.skip("no C++ compiler on the path: native steps are not built")
    assert native._include_dir() is not None, "pyflux's headers are neither installed nor beside the package"
    monkeypatch.setenv("PYFLUX_NATIVE_STEPS", "wait")
    monkeypatch.setenv("PYFLUX_CACHE_DIR", str(cache))
    flux._core._forget_known_natives()  # as in a new process: steps come from the cache folder
    seen = []
    replay = capture.CapturedTrain._replay

    def watched(self, program, feed, losses):
        out = replay(self, program, feed, losses)
        seen.append("native" if program.native_for(feed) else "loops" if program.tiny_for(feed) else "kernels")
        return out

    monkeypatch.setattr(capture.CapturedTrain, "_replay", watched)
    return seen


def _train(make, loss, data, rule, native_steps):
    """Trains make()'s parameters captured, natively or as loops; the losses and the parameters."""
    os.environ["PYFLUX_NATIVE_STEPS"] = "wait" if native_steps else "0"
    ps = make()
    losses = flux.train(lambda *a: loss(ps, *a), flux.params(*ps), data, rule, capture=True)
    return losses, [np.array(p) for p in ps]


def _assert_same(loops, native_, tol):
    np.testing.assert_allclose(native_[0], loops[0], **tol)
    for a, b in zip(loops[1], native_[1]):
        np.testing.assert_allclose(b, a, **tol)


def _tol(dtype):
    return dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)


def _both(make, loss, data, rule, path):
    loops = _train(make, loss, data, rule, False)
    out = _train(make, loss, data, rule, True)
    assert path == ["loops", "native"]
    return loops, out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", sorted(SMALL_LOSSES))
def test_small_losses_run_natively_and_match_the_loops(loss, dtype, path):
    x, y = _samples(30, dtype)
    y = np.abs(y)

    def loss_of(ps, x, y):
        return SMALL_LOSSES[loss](dict(zip("WbsV", ps)), x, y)

    loops, out = _both(lambda: list(_small_params(dtype).values()), loss_of, list(zip(x, y)), flux.Descent(0.01), path)
    _assert_same(loops, out, _tol(dtype))


@pytest.mark.parametrize("batch", [1, 4])
def test_higham_chains_run_natively_per_sample_and_in_shuffled_batches(batch, path):
    rng = np.random.default_rng(4)
    X, Y = rng.random((2, 24)), (rng.random((2, 24)) > 0.5).astype(float)

    def run(native_steps):
        model = higham_chain()
        data = list(zip(X.T, Y.T)) if batch == 1 else flux.DataLoader((X, Y), batchsize=batch, shuffle=True,
                                                                      rng=np.random.default_rng(1))
        os.environ["PYFLUX_NATIVE_STEPS"] = "wait" if native_steps else "0"
        losses = flux.train(lambda m, x, y: 0.5 * flux.sum((y - m(x)) ** 2), model, data,
                            flux.setup(flux.Descent(0.1), model), capture=True)
        return losses, [np.array(p) for p in flux.trainables(model)]

    loops, out = run(False), run(True)
    assert path == ["loops", "native"]
    _assert_same(loops, out, _tol(np.float64))


def test_a_nan_loss_stops_at_its_item_as_the_loops_do(path):
    x, y = _samples(20)
    x[13, 1] = np.inf

    def make():
        return [flux.param(np.full((3, 3), 0.1)), flux.param(np.zeros(3))]

    def loss(ps, x, y):
        return flux.sum((y - (ps[0] @ x + ps[1])) ** 2)

    results = []
    for native_steps in (False, True):
        ps = make()
        os.environ["PYFLUX_NATIVE_STEPS"] = "wait" if native_steps else "0"
        with pytest.raises(ValueError, match="on data item 13"):
            flux.train(lambda *a: loss(ps, *a), flux.params(*ps), list(zip(x, y)), flux.Descent(0.01), capture=True)
        results.append([np.array(p) for p in ps])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-12)
    assert np.all(np.isfinite(results[1][0]))


def test_other_rules_and_every_step_callbacks(path):
    """Adam's update runs through its optimiser, so that step stays on the loops; a callback after
    every step takes the native step one step at a time, with the same results."""
    x, y = _samples(15)

    def make():
        return [flux.param(np.full((3, 3), 0.1)), flux.param(np.zeros(3))]

    def loss(ps, x, y):
        return flux.sum((y - (ps[0] @ x + ps[1])) ** 2)

    _train(make, loss, list(zip(x, y)), flux.Adam(0.01), True)
    assert path == ["loops"]
    path.clear()
    calls = []

    def run(native_steps):
        os.environ["PYFLUX_NATIVE_STEPS"] = "wait" if native_steps else "0"
        ps = make()
        losses = flux.train(lambda *a: loss(ps, *a), flux.params(*ps), list(zip(x, y)), flux.Descent(0.01),
                            capture=True, cb=lambda: calls.append(1))
        return losses, [np.array(p) for p in ps]

    loops, out = run(False), run(True)
    assert path == ["loops", "native"] and len(calls) == 30
    _assert_same(loops, out, _tol(np.float64))


def _lecture_step(native_steps, n=10):
    x, y = _samples(n)
    ps = [flux.param(np.full((3, 3), 0.1)), flux.param(np.zeros(3))]
    os.environ["PYFLUX_NATIVE_STEPS"] = native_steps
    flux.train(lambda x, y: flux.sum((y - (ps[0] @ x + ps[1])) ** 2), flux.params(*ps), list(zip(x, y)),
               flux.Descent(0.01), capture=True)
    return [np.array(p) for p in ps]


def test_built_steps_are_cached_by_shape(path, monkeypatch, tmp_path):
    monkeypatch.setenv("PYFLUX_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(native, "_built", {})
    first = _lecture_step("wait")
    built = list((tmp_path / "steps").glob("*.so"))
    assert len(built) == 1
    # Another process finds it on disk: nothing is built again.
    monkeypatch.setattr(native, "_built", {})
    monkeypatch.setattr(native, "_start_build", lambda *a: pytest.fail("built again"))
    second = _lecture_step("wait")
    assert path == ["native", "native"]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_a_step_loaded_in_this_process_is_attached_at_once(path, monkeypatch, tmp_path):
    first = _lecture_step("wait")
    # Another cache folder, empty, and no builds: the step loaded above serves the next capture.
    monkeypatch.setenv("PYFLUX_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(native, "_built", {})
    monkeypatch.setattr(native, "_start_build", lambda *a: pytest.fail("built again"))
    second = _lecture_step("wait")
    assert path == ["native", "native"]
    assert not (tmp_path / "steps").exists()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # Turned off, it is not used.
    _lecture_step("0")
    assert path[-1] == "loops"


def test_a_background_build_is_taken_up_by_a_later_capture(path, monkeypatch, tmp_path):
    monkeypatch.setenv("PYFLUX_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(native, "_built", {})
    _lecture_step("background")
    for thread in list(native._building.values()):
        thread.join()
    _lecture_step("background")
    assert path[-1] == "native"


def test_a_damaged_cached_step_is_built_again(path, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PYFLUX_CACHE_DIR", str(tmp_path / "first"))
    monkeypatch.setattr(native, "_built", {})
    expected = _lecture_step("0")
    _lecture_step("wait")
    (built,) = (tmp_path / "first" / "steps").glob("*.so")
    # Another cache holds a damaged file of that name (a library is never rewritten in place: a
    # build replaces it whole).
    damaged = tmp_path / "second" / "steps" / built.name
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not a library")
    monkeypatch.setenv("PYFLUX_CACHE_DIR", str(tmp_path / "second"))
    monkeypatch.setattr(native, "_built", {})
    flux._core._forget_known_natives()  # as another process would
    got = _lecture_step("wait")
    assert "did not load and runs as loops" in capsys.readouterr().err
    assert not damaged.exists()
    again = _lecture_step("wait")
    assert damaged.exists()
    assert path == ["loops", "native", "loops", "native"]
    for a, b, c in zip(expected, got, again):
        np.testing.assert_allclose(b, a, rtol=1e-12)
        np.testing.assert_allclose(c, a, rtol=1e-12)


@pytest.mark.parametrize("cxx", ["/nonexistent/c++", "false"])
def test_without_a_working_compiler_the_loops_run(cxx, path, monkeypatch, tmp_path):
    monkeypatch.setenv("PYFLUX_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CXX", cxx)
    monkeypatch.setattr(native, "_built", {})
    monkeypatch.setattr(native, "_last_error", None)
    expected = _lecture_step("0")
    got = _lecture_step("wait")
    assert path == ["loops", "loops"]
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)
    assert (native.last_error() is None) == (cxx != "false")
    assert not list(Path(tmp_path).glob("steps/*.so"))


def test_turned_off_the_loops_run(path):
    _lecture_step("0")
    _lecture_step("off")
    assert path == ["loops", "loops"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(left=st.sampled_from(sorted(OPERANDS)), right=st.sampled_from(sorted(OPERANDS)),
       op=st.sampled_from(sorted(BINARY)), unary=st.integers(0, len(UNARY) - 1), mean=st.booleans(),
       f64=st.booleans())
def test_drawn_small_losses_run_natively_and_match(left, right, op, unary, mean, f64, path):
    dtype = np.float64 if f64 else np.float32
    x, y = _samples(12, dtype)
    path.clear()
    loops, out = _both(lambda: list(_small_params(dtype).values()), drawn_loss(left, right, op, unary, mean),
                       list(zip(x, y)), flux.Descent(0.02), path)
    _assert_same(loops, out, _tol(dtype))


def test_a_build_outlives_a_process_that_exits_first(path, tmp_path):
    """A short script exits while its step builds: the build finishes on its own, the cache gets
    the whole library and no build folder stays."""
    script = """
import numpy as np, pyflux as flux
x, y = np.ones((20, 5)), np.ones((20, 3))
W, b = flux.param(np.full((3, 5), 0.1)), flux.param(np.zeros(3))
flux.train(lambda x, y: flux.sum((y - flux.tanh(W @ x + b)) ** 2), flux.params(W, b), list(zip(x, y)),
           flux.Descent(0.001), capture=True)
"""
    env = {**os.environ, "PYFLUX_CACHE_DIR": str(tmp_path), "PYFLUX_NATIVE_STEPS": "1"}
    subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, check=True, timeout=120)
    steps = tmp_path / "steps"
    for _ in range(600):
        if list(steps.glob("*.so")) and not list(steps.glob(".build-*")):
            break
        time.sleep(0.1)
    assert len(list(steps.glob("*.so"))) == 1
    assert not list(steps.glob(".build-*"))


def _captured(loss, ps, x, y, frozen=()):
    """The program captured from loss on the items of x and y with Descent updating ps (but those
    whose indices are in frozen), its feed and the optimisers' states."""
    rule = flux.Descent(0.01)
    states = [rule._implicit_state(p) for p in ps]
    for k in frozen:
        states[k].frozen = True
    plan = capture.plan_data(list(zip(x, y)), x.dtype.type)
    train = capture.CapturedTrain(loss, list(ps), states, plan.feed, (), None, [])
    return train._capture(plan.feed, plan.splat), plan.feed, states


def test_the_source_follows_the_step_shape_and_its_descents():
    # The source depends on the step's shape and its Descent updates only: alternating shapes, each
    # capture gets its own again, and a parameter left out of the update changes it.
    def source(features, update_bias=True):
        rng = np.random.default_rng(features)
        W, b = flux.param(rng.random((2, features))), flux.param(np.zeros(2))
        x, y = rng.random((8, features)), rng.random((8, 2))
        program, feed, states = _captured(lambda x, y: flux.sum((y - (W @ x + b)) ** 2), [W, b], x, y,
                                          frozen=() if update_bias else (1,))
        return program.native_source(feed, states)

    three, four = source(3), source(4)
    assert three and four and three != four
    assert "Fixed<TinyInstr::Code(7), false, 1, 2, 3," in three  # W x: one column, 2 rows, 3 features
    assert source(3) == three and source(4) == four
    without_bias = source(3, update_bias=False)
    assert without_bias and without_bias != three and without_bias.count("descent<") == 1
    assert source(3) == three


def test_small_constants_are_written_into_the_source(path):
    # An exponent is a constant of the step's code (so that a square needs no pow), so two losses
    # that differ by it have their own sources, and each gives the loops' results.
    x, y = _samples(12)

    def make():
        return [flux.param(np.full((3, 3), 0.1)), flux.param(np.zeros(3))]

    sources = {}
    for power in (2, 3):
        W, b = make()
        program, feed, states = _captured(lambda x, y: flux.sum(flux.abs(y - (W @ x + b)) ** power), [W, b], x, y)
        sources[power] = program.native_source(feed, states)
        loops, out = _both(make, lambda ps, x, y: flux.sum(flux.abs(y - (ps[0] @ x + ps[1])) ** power),
                           list(zip(x, y)), flux.Descent(0.01), path)
        _assert_same(loops, out, _tol(np.float64))  # pow(a, 3) may be a product there: rounding apart
        path.clear()
    assert "(0x1p+1)" in sources[2] and "(0x1.8p+1)" in sources[3]
    assert sources[2].replace("0x1p+1", "0x1.8p+1") == sources[3]


def test_a_datum_that_is_a_parameter_is_read_as_the_loops_read_it(path):
    # The native step keeps the parameters apart while it runs; data read in place from a
    # parameter's memory see each update, as on the loops, because those steps take the loops.
    def run(native_steps):
        os.environ["PYFLUX_NATIVE_STEPS"] = "wait" if native_steps else "0"
        W, b = flux.param(np.full((40, 3), 0.1)), flux.param(np.zeros(40))
        y = np.random.default_rng(0).random((40, 40))
        losses = flux.train(lambda x, y: flux.sum((y - (W @ x + b)) ** 2), flux.params(W, b),
                            list(zip(np.asarray(W), y)), flux.Descent(0.001), capture=True)
        return losses, np.array(W), np.array(b)

    loops, out = run(False), run(True)
    assert path == ["loops", "native"]
    for a, b in zip(loops, out):
        np.testing.assert_array_equal(b, a)


def test_a_constant_changed_while_the_step_runs_is_read_as_the_loops_read_it(path):
    # A parameter left out of params is a constant of the step, which a callback may change: the
    # native step has its value in its code, so once it changes the steps take the loops.
    x, y = _samples(20)

    def run(native_steps):
        os.environ["PYFLUX_NATIVE_STEPS"] = "wait" if native_steps else "0"
        W, b, scale = flux.param(np.full((3, 3), 0.1)), flux.param(np.zeros(3)), flux.param(np.array([2.0]))

        def bump():
            np.asarray(scale)[0] += 0.5

        losses = flux.train(lambda x, y: flux.sum(scale * (y - (W @ x + b)) ** 2), flux.params(W, b),
                            list(zip(x, y)), flux.Descent(0.001), capture=True, cb=bump)
        return losses, np.array(W), np.array(b)

    loops, out = run(False), run(True)
    assert path == ["loops", "native"]
    assert loops[0][-1] != loops[0][0]
    for a, b in zip(loops, out):
        np.testing.assert_array_equal(b, a)


def test_a_step_whose_arrays_are_too_large_keeps_its_loops(path):
    # Each buffer is small enough for the loops, but a native step would hold more than 64 KiB of
    # them on the stack: it has no source, and training runs as loops.
    rng = np.random.default_rng(3)
    model = flux.Chain(*[flux.Dense(16, 16, flux.tanh) for _ in range(40)])
    x, y = rng.random((6, 16), np.float32), rng.random((6, 16), np.float32)
    ps = flux.params(model)
    program, feed, states = _captured(lambda x, y: flux.sum((y - model(x)) ** 2), ps, x, y)
    assert program.tiny_for(feed) and program.native_source(feed, states) == ""
    before = [np.array(p) for p in ps]
    losses = flux.train(lambda x, y: flux.sum((y - model(x)) ** 2), ps, list(zip(x, y)), flux.Descent(0.01),
                        capture=True)
    assert path == ["loops"] and np.all(np.isfinite(losses))
    assert all(not np.array_equal(a, np.array(p)) for a, p in zip(before, ps))
