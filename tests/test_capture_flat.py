"""The compiled captured step (kernel calls over fixed buffers): which steps compile, and that a
compiled step and one replayed through the tape both give the general path's results."""

import numpy as np
import pytest

import pyflux as flux
from pyflux import capture


@pytest.fixture
def compiled(monkeypatch):
    """A list that receives, for each captured replay, whether it ran compiled."""
    seen = []
    replay = capture.CapturedTrain._replay

    def watched(self, program, feed, losses):
        seen.append(program.compiled_for(feed))
        return replay(self, program, feed, losses)

    monkeypatch.setattr(capture.CapturedTrain, "_replay", watched)
    return seen


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
