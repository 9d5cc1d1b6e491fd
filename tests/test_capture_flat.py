"""The compiled captured step (kernel calls over fixed buffers, or plain loops when its buffers are
small): which steps compile and how, and that a compiled step and one replayed through the tape both
give the general path's results."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyflux as flux
from pyflux import capture


def _watch(monkeypatch, path_of):
    seen = []
    replay = capture.CapturedTrain._replay

    def watched(self, program, feed, losses):
        seen.append(path_of(program, feed))
        return replay(self, program, feed, losses)

    monkeypatch.setattr(capture.CapturedTrain, "_replay", watched)
    return seen


@pytest.fixture
def compiled(monkeypatch):
    """A list that receives, for each captured replay, whether it ran compiled."""
    return _watch(monkeypatch, lambda program, feed: program.compiled_for(feed))


@pytest.fixture
def path(monkeypatch):
    """A list that receives, for each captured replay, how it ran: "loops" (a step of small buffers
    as plain loops), "kernels" (kernel calls over fixed buffers) or "tape"."""
    def path_of(program, feed):
        if program.tiny_for(feed):
            return "loops"
        return "kernels" if program.compiled_for(feed) else "tape"

    return _watch(monkeypatch, path_of)


def _train_both(make, loss, data, rule):
    """Trains two copies of make()'s parameters, general then captured; returns the losses and the
    parameters of each."""
    out = []
    for capture_ in (False, True):
        ps = make()
        losses = flux.train(lambda *a: loss(ps, *a), flux.params(*ps), data, rule, capture=capture_)
        out.append((losses, [np.array(p) for p in ps]))
    return out


def _assert_same(general, captured, rtol, atol=0.0):
    np.testing.assert_allclose(captured[0], general[0], rtol=rtol, atol=atol)
    for a, b in zip(general[1], captured[1]):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)


def _samples(n=40, dtype=np.float64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype(dtype)
    return x, (x @ rng.standard_normal((3, 3)).T).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_lecture_loss_compiles_and_matches(dtype, compiled):
    x, y = _samples(dtype=dtype)

    def make():
        return [flux.param(np.full((3, 3), 0.1, dtype)), flux.param(np.zeros(3, dtype))]

    def loss(ps, x, y):
        W, b = ps
        return flux.sum((y - (W @ x + b)) ** 2)

    general, captured = _train_both(make, loss, list(zip(x, y)), flux.Descent(0.01))
    assert compiled == [True]
    _assert_same(general, captured, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_a_value_used_twice_gets_both_gradients(compiled):
    """W appears twice (W (W x)) and the product d * d reads one value twice: the sweep adds."""
    x, y = _samples()

    def make():
        return [flux.param(np.eye(3) * 0.5 + 0.01)]

    def loss(ps, x, y):
        (W,) = ps
        d = W @ (W @ x) - y
        return flux.sum(d * d)

    general, captured = _train_both(make, loss, list(zip(x, y)), flux.Descent(0.005))
    assert compiled == [True]
    _assert_same(general, captured, rtol=1e-12, atol=1e-14)


def test_a_parameter_the_loss_ignores_is_left_alone(compiled):
    x, y = _samples()

    def make():
        return [flux.param(np.full((3, 3), 0.1)), flux.param(np.arange(3.0))]

    general, captured = _train_both(make, lambda ps, x, y: flux.sum((ps[0] @ x - y) ** 2), list(zip(x, y)),
                                    flux.Adam(0.01))
    assert compiled == [True]
    _assert_same(general, captured, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(captured[1][1], np.arange(3.0))


def test_broadcast_operands_sum_their_gradients(compiled):
    """A bias of shape (3, 1) against a batch (3, 8), and a constant row (1, 8) against it."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 3, 8))
    Y = rng.standard_normal((4, 3, 8))
    row = rng.standard_normal((1, 8))

    def make():
        return [flux.param(np.full((3, 3), 0.2)), flux.param(np.zeros((3, 1)))]

    def loss(ps, x, y):
        W, b = ps
        return flux.mean((W @ x + b + row - y) ** 2)

    general, captured = _train_both(make, loss, list(zip(X, Y)), flux.Momentum(0.05))
    assert compiled == [True]
    _assert_same(general, captured, rtol=1e-12, atol=1e-14)


def test_batch_first_data_seen_features_by_batch_compile(compiled):
    """Batches given as x.T (Fortran-ordered views) are read where they are; the elementwise ops that
    read y.T get a contiguous copy of it."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 6)).astype(np.float32)
    Y = flux.onehotbatch(rng.integers(0, 3, 60), range(3)).T.astype(np.float32)
    batches = [(X[k:k + 20].T, Y[k:k + 20].T) for k in range(0, 60, 20)]

    def run(capture_):
        flux.seed(5)
        model = flux.Chain(flux.Dense(6, 5, flux.tanh), flux.Dense(5, 3))
        losses = flux.train(lambda m, x, y: flux.logitcrossentropy(m(x), y), model, batches,
                            flux.setup(flux.RMSProp(0.01), model), capture=capture_)
        return losses, [np.array(p) for p in flux.trainables(model)]

    general, captured = run(False), run(True)
    assert compiled == [True]
    _assert_same(general, captured, rtol=1e-5, atol=1e-6)


def test_a_step_with_an_op_that_has_no_flat_form_replays_through_the_tape(compiled):
    """Indexing has no flat form: the step replays op by op, with the same results."""
    x, y = _samples()

    def make():
        return [flux.param(np.full((3, 3), 0.1)), flux.param(np.zeros(3))]

    def loss(ps, x, y):
        W, b = ps
        return flux.sum(((W @ x + b) - y)[0:2] ** 2)

    general, captured = _train_both(make, loss, list(zip(x, y)), flux.Descent(0.01))
    assert compiled == [False]
    _assert_same(general, captured, rtol=1e-12, atol=1e-14)


def test_items_of_integers_and_numbers_are_stacked_as_floats(compiled):
    """Small items are stacked once: integer arrays become the parameters' float type, numbers
    0-d arrays; an item of another form ends the stack and trains on the general path."""
    rng = np.random.default_rng(3)
    xs = rng.integers(-3, 4, (30, 3))
    ys = rng.standard_normal(30)
    data = [(x, float(t)) for x, t in zip(xs, ys)] + [(xs[0].astype(np.float64), np.array([ys[0]]))]

    def make():
        return [flux.param(np.zeros(3)), flux.param(np.zeros(1))]

    def loss(ps, x, t):
        w, b = ps
        return flux.sum((w @ x + b - t) ** 2)

    general, captured = _train_both(make, loss, data, flux.Descent(0.01))
    assert compiled == [True]
    assert len(captured[0]) == len(data)
    _assert_same(general, captured, rtol=1e-12, atol=1e-14)


# --- small steps as plain loops ------------------------------------------------------------------

P = flux.param

ROW = np.array([[1.0, -2.0, 0.5]])  # against b (3,): the same number of elements, another shape

# Losses over a parameter set (W (3x3), b (3), s (a scalar), V (3x2)) covering each loop: every
# binary op with whole and one-value operands, unary math and activations, sums over all and over
# one axis, values read twice.
SMALL_LOSSES = {
    "lecture": lambda ps, x, y: flux.sum((y - (ps["W"] @ x + ps["b"])) ** 2),
    "arithmetic": lambda ps, x, y: flux.sum((ps["W"] @ x - y) * ps["s"] + ps["b"] / (2.0 + ps["b"] ** 2))
    + flux.mean(flux.maximum(ps["b"], y) - flux.minimum(x, ps["s"])) + flux.sum((ps["b"] * ROW) ** 2),
    "pow_and_xlogy": lambda ps, x, y: flux.sum(flux.xlogy(flux.sigmoid(x), 1.5 + flux.tanh(ps["W"] @ x)))
    + flux.sum((1.0 + ps["s"] ** 2) ** ps["b"]),
    "unary": lambda ps, x, y: flux.sum(flux.exp(-flux.abs(ps["b"] * x)) + flux.sin(ps["W"] @ y)
                                       + flux.softplus(ps["b"]) + flux.elu(ps["b"] - y) + flux.gelu(x * ps["s"])),
    "axes": lambda ps, x, y: flux.sum(flux.mean(ps["V"] * ps["V"], 1) * x) + flux.sum(flux.sum(ps["V"], 0) ** 2),
    "twice": lambda ps, x, y: flux.sum((ps["W"] @ (ps["W"] @ x) - y) ** 2) + flux.sum(ps["V"] * ps["V"]),
}


def _small_params(dtype):
    rng = np.random.default_rng(3)
    return {"W": P((rng.standard_normal((3, 3)) * 0.3).astype(dtype)), "b": P(rng.random(3).astype(dtype)),
            "s": P(np.array(0.7, dtype)), "V": P(rng.standard_normal((3, 2)).astype(dtype))}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", sorted(SMALL_LOSSES))
def test_small_steps_run_as_loops_and_match_the_general_path(loss, dtype, path):
    x, y = _samples(30, dtype)
    y = np.abs(y)

    def make():
        return list(_small_params(dtype).values())

    def loss_of(ps, x, y):
        return SMALL_LOSSES[loss](dict(zip("WbsV", ps)), x, y)

    general, captured = _train_both(make, loss_of, list(zip(x, y)), flux.Descent(0.01))
    assert path == ["loops"]
    _assert_same(general, captured, rtol=2e-5 if dtype == np.float32 else 1e-12, atol=1e-6 if dtype == np.float32 else 1e-14)


def higham_chain():
    """Higham's 2-2-3-2 network in float64, its middle layer relu without a bias, seeded."""
    flux.seed(7)
    return flux.f64(flux.Chain(flux.Dense(2, 2, flux.σ), flux.Dense(2, 3, flux.relu, bias=False),
                               flux.Dense(3, 2, flux.σ)))


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("rule", [lambda: flux.Descent(0.1), lambda: flux.Adam(0.01), lambda: flux.Momentum(0.05)])
def test_small_dense_chains_run_as_loops_with_any_rule(batch, rule, path):
    """Higham's 2-2-3-2 network (one layer without bias), per sample and in batches; the first
    layer's bias also enters the loss alone, so two ops add to its gradient."""
    rng = np.random.default_rng(4)
    X, Y = rng.random((2, 24)), (rng.random((2, 24)) > 0.5).astype(float)

    def run(capture_):
        model = higham_chain()
        data = list(zip(X.T, Y.T)) if batch == 1 else flux.DataLoader((X, Y), batchsize=batch)
        losses = flux.train(lambda m, x, y: 0.5 * flux.sum((y - m(x)) ** 2) + flux.sum(m[0].bias ** 2), model, data,
                            flux.setup(rule(), model), capture=capture_)
        return losses, [np.array(p) for p in flux.trainables(model)]

    general, captured = run(False), run(True)
    assert path == ["loops"]
    _assert_same(general, captured, rtol=1e-12, atol=1e-14)


def test_small_batch_first_data_run_as_loops(path):
    """Batches seen features x batch through .T (Fortran-ordered views): the products read them where
    they are, the elementwise ops a contiguous copy."""
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((12, 3)), rng.standard_normal((12, 2))
    batches = [(X[k:k + 4].T, Y[k:k + 4].T) for k in range(0, 12, 4)]

    def make():
        return [P(np.full((2, 3), 0.1)), P(np.zeros((2, 1)))]

    def loss(ps, x, y):
        W, b = ps
        return flux.sum((W @ x - y) ** 2) + flux.sum(flux.tanh(x) * 0.1) * flux.sum(b)

    general, captured = _train_both(make, loss, batches, flux.Descent(0.05))
    assert path == ["loops"]
    _assert_same(general, captured, rtol=1e-12, atol=1e-14)


def test_steps_past_the_loop_sizes_call_the_kernels(path):
    """A 20x20 layer over a batch of 16 has buffers of 320 elements: kernel calls, same results."""
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((20, 32)), rng.standard_normal((20, 32))

    def run(capture_):
        flux.seed(2)
        model = flux.f64(flux.Dense(20, 20, flux.tanh))
        losses = flux.train(lambda m, x, y: flux.mse(m(x), y), model, flux.DataLoader((X, Y), batchsize=16),
                            flux.setup(flux.Descent(0.1), model), capture=capture_)
        return losses, [np.array(p) for p in flux.trainables(model)]

    general, captured = run(False), run(True)
    assert path == ["kernels"]
    _assert_same(general, captured, rtol=1e-12, atol=1e-14)



OPERANDS = {
    "Wx": lambda ps, x: ps["W"] @ x,
    "b": lambda ps, x: ps["b"],
    "s": lambda ps, x: ps["s"],
    "x": lambda ps, x: x,
    "const": lambda ps, x: 0.5,
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.5 + flux.abs(b)), "pow": lambda a, b: (1.0 + flux.abs(a)) ** 2,
    "maximum": flux.maximum, "minimum": flux.minimum,
}
UNARY = [flux.tanh, flux.sigmoid, flux.softplus, flux.elu, flux.swish, flux.gelu, flux.relu, flux.leakyrelu,
         lambda v: flux.exp(-flux.abs(v))]


def drawn_loss(left, right, op, unary, mean):
    """A binary op over two of OPERANDS, an activation of UNARY, a sum or mean, and a lecture term."""
    reduce = flux.mean if mean else flux.sum

    def loss(ps, x, y):
        named = dict(zip("WbsV", ps))
        v = BINARY[op](OPERANDS[left](named, x), OPERANDS[right](named, x))
        return reduce(UNARY[unary](v)) + 0.1 * flux.sum((named["W"] @ x - y) ** 2)

    return loss


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(left=st.sampled_from(sorted(OPERANDS)), right=st.sampled_from(sorted(OPERANDS)),
       op=st.sampled_from(sorted(BINARY)), unary=st.integers(0, len(UNARY) - 1), mean=st.booleans(),
       f64=st.booleans())
def test_drawn_small_losses_run_as_loops_and_match(left, right, op, unary, mean, f64, path):
    """Every binary op over whole, one-value and constant operands, then an activation and a sum or
    mean: the loops give the general path's parameters and losses."""
    dtype = np.float64 if f64 else np.float32
    x, y = _samples(12, dtype)
    path.clear()
    general, captured = _train_both(lambda: list(_small_params(dtype).values()),
                                    drawn_loss(left, right, op, unary, mean), list(zip(x, y)),
                                    flux.Descent(0.02))
    assert path == ["loops"]
    tol = dict(rtol=1e-12, atol=1e-13) if f64 else dict(rtol=2e-5, atol=2e-6)
    _assert_same(general, captured, **tol)
