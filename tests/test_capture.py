"""train(..., capture=True): the captured program gives the general path's results, step for step."""

import contextlib
import io
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyflux as flux


def _weights(model):
    return [np.array(p) for p in flux.trainables(model)]


def _without_notice(f, *args):
    """f(*args), checking that a captured run did not fall back to the general path."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        result = f(*args)
    assert "falls back" not in err.getvalue(), err.getvalue()
    return result


def _both(make, run):
    """Runs `run(model)` on two fresh models, general then captured; returns both results and weights."""
    out = []
    for capture in (False, True):
        model = make()
        losses = _without_notice(run, model, capture)
        out.append((losses, _weights(model)))
    return out


def _assert_same(general, captured, rtol=1e-6, atol=1e-7):
    np.testing.assert_allclose(captured[0], general[0], rtol=rtol, atol=atol)
    for a, b in zip(general[1], captured[1]):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)


# --- the lecture's linear regression, implicit style --------------------------------------------

def _linear_problem(n=300):
    rng = np.random.default_rng(0)
    x = rng.random((n, 5))
    y = x @ np.arange(10.0).reshape(2, 5).T + 1.0
    return x, y


@pytest.mark.parametrize("form", ["list", "zip", "tuple"])
def test_lecture_linear_regression_replays(form):
    x, y = _linear_problem()

    def run(params, capture):
        W, b = params
        data = {"list": lambda: list(zip(x, y)), "zip": lambda: zip(x, y), "tuple": lambda: tuple(zip(x, y))}[form]()
        return flux.train(lambda x, y: flux.sum((y - (W @ x + b)) ** 2), flux.params(W, b), data,
                          flux.Descent(0.01), capture=capture)

    def make():
        return [flux.param(np.full((2, 5), 0.5)), flux.param(np.zeros(2))]

    general, captured = [(_without_notice(run, ps, c), [np.array(p) for p in ps]) for c in (False, True)
                         for ps in [make()]]
    assert len(captured[0]) == len(x)
    _assert_same(general, captured, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", ["rows", "float32 rows", "column slice", "fortran", "separate", "permuted",
                                    "one copied"])
def test_items_of_any_layout_replay(layout):
    # Items that are consecutive rows of C-ordered arrays are read in place; any other layout is
    # stacked into a copy first. Either way the captured run is the general path's.
    x, y = _linear_problem(60)
    dtype = np.float32 if layout == "float32 rows" else np.float64
    x, y = x.astype(dtype), y.astype(dtype)
    if layout == "column slice":
        x = np.hstack([x, x])[:, :5]
    elif layout == "fortran":
        x, y = np.asfortranarray(x), np.asfortranarray(y)
    items = list(zip(x, y))
    if layout == "separate":
        items = [(a.copy(), b.copy()) for a, b in items]
    elif layout == "permuted":
        items = [items[i] for i in np.random.default_rng(1).permutation(len(items))]
    elif layout == "one copied":
        items[30] = (items[30][0].copy(), items[30][1])
    del x, y  # the items alone keep their arrays alive

    def run(params, capture):
        W, b = params
        return flux.train(lambda x, y: flux.sum((y - (W @ x + b)) ** 2), flux.params(W, b), items,
                          flux.Descent(0.01), capture=capture)

    def make():
        return [flux.param(np.full((2, 5), 0.5, dtype)), flux.param(np.zeros(2, dtype))]

    general, captured = [(_without_notice(run, ps, c), [np.array(p) for p in ps]) for c in (False, True)
                         for ps in [make()]]
    assert len(captured[0]) == len(items)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    _assert_same(general, captured, rtol=tol, atol=tol)


def test_a_list_given_again_is_read_again_where_it_changed():
    # The per-epoch calls of a course loop give train the same list again: its feed is reused while
    # the list holds the same item objects, and made again when an item is replaced or added. New
    # values written into the arrays are read either way.
    from pyflux import capture as capture_module

    def epochs(capture):
        x, y = _linear_problem(40)
        items = list(zip(x, y))
        W, b = flux.param(np.full((2, 5), 0.5)), flux.param(np.zeros(2))
        ps, opt = flux.params(W, b), flux.Descent(0.01)
        entries, losses = [], []

        def epoch():
            losses.append(_without_notice(lambda: flux.train(lambda x, y: flux.sum((y - (W @ x + b)) ** 2), ps,
                                                             items, opt, capture=capture)))
            entries.append(capture_module._rows_cache[0] if capture_module._rows_cache else None)

        epoch()
        epoch()
        x[3] *= 2.0                                            # new values in place
        epoch()
        items[7] = (np.ones(5), np.zeros(2))                    # an item replaced
        epoch()
        items.append((x[0] + 1.0, y[0]))                        # an item added
        epoch()
        items[:] = list(zip(x[::-1].copy(), y[::-1].copy()))    # rows of other arrays
        epoch()
        return losses, [np.array(W), np.array(b)], entries

    general, captured = epochs(False), epochs(True)
    for a, b in zip(general[0], captured[0]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    _assert_same((general[0][-1], general[1]), (captured[0][-1], captured[1]), rtol=1e-12, atol=1e-12)
    entries = captured[2]
    assert entries[1] is entries[0] and entries[2] is entries[0]  # the same items: the feed is reused
    assert entries[5] is not entries[0]                           # other rows: checked and cached anew
    assert len(capture_module._rows_cache) <= capture_module._ROWS_CACHE_SIZE
    # A zip's items are new at every call: they are checked, not held.
    held = list(capture_module._rows_cache)
    x, y = _linear_problem(20)
    W, b = flux.param(np.zeros((2, 5))), flux.param(np.zeros(2))
    _without_notice(lambda: flux.train(lambda x, y: flux.sum((y - (W @ x + b)) ** 2), flux.params(W, b), zip(x, y),
                                       flux.Descent(0.01), capture=True))
    assert capture_module._rows_cache == held


def test_same_items_compares_by_identity():
    a, b = np.zeros(3), np.zeros(3)
    assert flux._core.same_items([a, b], (a, b))
    assert flux._core.same_items([], ())
    assert not flux._core.same_items([a, b], [a, b.copy()])   # equal values, another object
    assert not flux._core.same_items([a, b], [b, a])
    assert not flux._core.same_items([a], [a, a])
    with pytest.raises(TypeError, match="list or tuple"):
        flux._core.same_items(iter([a]), [a])


def test_captured_losses_are_the_losses_before_each_update():
    x, y = _linear_problem(5)
    W, b = flux.param(np.zeros((2, 5))), flux.param(np.zeros(2))
    losses = flux.train(lambda x, y: flux.sum((y - (W @ x + b)) ** 2), flux.params(W, b), list(zip(x, y)),
                        flux.Descent(0.0), capture=True)
    np.testing.assert_allclose(losses, np.sum(y ** 2, axis=1))


# --- explicit style, minibatches --------------------------------------------------------------

def _classification(n=230, features=6, classes=3, dtype=np.float32):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((features, n)).astype(dtype)
    Y = flux.onehotbatch(rng.integers(0, classes, n), range(classes)).astype(dtype)
    return X, Y


def _mlp(dtype=np.float32):
    flux.seed(3)
    m = flux.Chain(flux.Dense(6, 8, flux.relu), flux.Dense(8, 3))
    return flux.f64(m) if dtype == np.float64 else m


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batchsize", [1, 32, 230, -1])
def test_dataloader_batches_replay(shuffle, batchsize):
    X, Y = _classification()

    def run(model, capture):
        loader = flux.DataLoader((X, Y), batchsize=batchsize, shuffle=shuffle, rng=7)
        return flux.train(lambda m, x, y: flux.logitcrossentropy(m(x), y), model, loader,
                          flux.setup(flux.Adam(0.01), model), capture=capture)

    general, captured = _both(_mlp, run)
    _assert_same(general, captured, rtol=1e-5, atol=1e-6)


def test_fortran_ordered_data_replays():
    X, Y = _classification()
    X = np.asfortranarray(X)

    def run(model, capture):
        loader = flux.DataLoader((X, Y), batchsize=50, shuffle=True, rng=2)
        return flux.train(lambda m, x, y: flux.mse(m(x), y), model, loader, flux.setup(flux.Descent(0.1), model),
                          capture=capture)

    _assert_same(*_both(_mlp, run), rtol=1e-5, atol=1e-6)


def test_repeat_of_one_batch_replays():
    X, Y = _classification(n=40)

    def run(model, capture):
        return flux.train(lambda m, x, y: flux.mse(m(x), y), model, itertools.repeat((X, Y), 6),
                          flux.setup(flux.RMSProp(), model), capture=capture)

    general, captured = _both(_mlp, run)
    assert len(captured[0]) == 6
    _assert_same(general, captured, rtol=1e-5, atol=1e-6)


def test_last_item_of_another_shape_runs_on_the_general_path():
    X, Y = _classification(n=100)
    items = [(X[:, k:k + 30], Y[:, k:k + 30]) for k in range(0, 100, 30)]  # the last one holds 10

    def run(model, capture):
        return flux.train(lambda m, x, y: flux.mse(m(x), y), model, items, flux.setup(flux.Momentum(0.05), model),
                          capture=capture)

    _assert_same(*_both(_mlp, run), rtol=1e-5, atol=1e-6)


def test_constants_and_untracked_params_are_read_at_each_step():
    x, y = _linear_problem(50)
    scale = np.array([1.0, 2.0])
    frozen = flux.param(np.ones(2))

    def run(params, capture):
        W, b = params
        return flux.train(lambda x, y: flux.sum(scale * (y - (W @ x + b * frozen)) ** 2) / 2.0,
                          flux.params(W, b), list(zip(x, y)), flux.Descent(0.001), capture=capture)

    def make():
        return [flux.param(np.zeros((2, 5))), flux.param(np.zeros(2))]

    results = [(_without_notice(run, ps, c), [np.array(p) for p in ps]) for c in (False, True) for ps in [make()]]
    _assert_same(*results, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(frozen), np.ones(2))


# --- hypothesis-drawn models, losses, rules, batch sizes ---------------------------------------

ACTIVATIONS = [flux.identity, flux.relu, flux.sigmoid, flux.tanh, flux.elu, flux.swish, flux.softplus]
LOSSES = {
    "mse": lambda yhat, y: flux.mse(yhat, y),
    "mae": lambda yhat, y: flux.mae(yhat, y),
    "huber": lambda yhat, y: flux.huber_loss(yhat, y),
    "logitce": lambda yhat, y: flux.logitcrossentropy(yhat, y),
    "ce": lambda yhat, y: flux.crossentropy(flux.softmax(yhat), y),
    "logitbce": lambda yhat, y: flux.logitbinarycrossentropy(yhat, y),
}
RULES = [lambda: flux.Descent(0.05), lambda: flux.Momentum(0.01), lambda: flux.Nesterov(0.01),
         lambda: flux.Adam(0.01), lambda: flux.AdamW(0.01), lambda: flux.RMSProp(0.01), lambda: flux.AdaGrad(),
         lambda: flux.NAdam(), lambda: flux.RAdam(), lambda: flux.Lion(),
         lambda: flux.OptimiserChain(flux.ClipNorm(1.0), flux.Adam(0.01))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
       acts=st.lists(st.sampled_from(ACTIVATIONS), min_size=3, max_size=3),
       loss=st.sampled_from(sorted(LOSSES)), rule=st.integers(0, len(RULES) - 1),
       n=st.integers(1, 20), batchsize=st.sampled_from([1, 2, 3, 7, 20, -1]),
       shuffle=st.booleans(), f64=st.booleans(), seed=st.integers(0, 2**16))
def test_drawn_models_replay_as_the_general_path(sizes, acts, loss, rule, n, batchsize, shuffle, f64, seed):
    dtype = np.float64 if f64 else np.float32
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], n)).astype(dtype)
    Y = rng.random((sizes[-1], n)).astype(dtype)
    if loss in ("logitce", "ce"):
        Y = Y / Y.sum(axis=0)

    def make():
        flux.seed(seed)
        layers = [flux.Dense(a, b, f) for a, b, f in zip(sizes, sizes[1:], acts)]
        m = flux.Chain(*layers)
        return flux.f64(m) if f64 else m

    def run(model, capture):
        loader = flux.DataLoader((X, Y), batchsize=batchsize, shuffle=shuffle, rng=seed)
        f = LOSSES[loss]
        return flux.train(lambda m, x, y: f(m(x), y), model, loader, flux.setup(RULES[rule](), model),
                          capture=capture)

    tol = dict(rtol=1e-10, atol=1e-12) if f64 else dict(rtol=2e-4, atol=2e-5)
    _assert_same(*_both(make, run), **tol)


# --- stopping, falling back, callbacks, progress ---------------------------------------------

def test_nan_loss_stops_at_its_item_as_the_general_path_does():
    x, y = _linear_problem(10)
    y[6] = np.nan
    results = []
    for capture in (False, True):
        W, b = flux.param(np.zeros((2, 5))), flux.param(np.zeros(2))
        with pytest.raises(ValueError, match="data item 6"):
            flux.train(lambda x, y: flux.sum((y - (W @ x + b)) ** 2), flux.params(W, b), list(zip(x, y)),
                       flux.Descent(0.01), capture=capture)
        results.append(np.array(W))
    np.testing.assert_array_equal(results[0], results[1])


def test_other_data_falls_back_with_a_notice(capfd):
    x, y = _linear_problem(20)
    W, b = flux.param(np.zeros((2, 5))), flux.param(np.zeros(2))
    losses = flux.train(lambda x, y: flux.sum((y - (W @ x + b)) ** 2), flux.params(W, b),
                        ((x[i], y[i]) for i in range(20)), flux.Descent(0.01), capture=True)
    assert len(losses) == 20
    assert "falls back to the general path" in capfd.readouterr().err


def test_a_loss_that_reads_data_in_numpy_falls_back_with_a_notice(capfd):
    x, y = _linear_problem(20)

    def run(params, capture):
        W, b = params
        return flux.train(lambda x, y: flux.sum((np.asarray(y) - (W @ x + b)) ** 2), flux.params(W, b),
                          list(zip(x, y)), flux.Descent(0.01), capture=capture)

    def make():
        return [flux.param(np.zeros((2, 5))), flux.param(np.zeros(2))]

    results = [(run(ps, c), [np.array(p) for p in ps]) for c in (False, True) for ps in [make()]]
    assert "falls back to the general path" in capfd.readouterr().err
    _assert_same(*results, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layer", [flux.Dropout(0.5), flux.BatchNorm(8)])
def test_python_state_layers_are_refused_and_train_on_the_general_path(layer, capfd):
    X, Y = _classification(n=64)
    flux.seed(0)
    model = flux.Chain(flux.Dense(6, 8), layer, flux.Dense(8, 3))
    losses = flux.train(lambda m, x, y: flux.mse(m(x), y), model, flux.DataLoader((X, Y), batchsize=16),
                        flux.setup(flux.Descent(0.1), model), capture=True)
    assert len(losses) == 4
    err = capfd.readouterr().err
    assert "cannot be captured" in err and type(layer).__name__ in err


def test_callbacks_run_after_every_step_and_throttled_ones_when_they_fire():
    x, y = _linear_problem(200)
    W, b = flux.param(np.zeros((2, 5))), flux.param(np.zeros(2))
    calls, throttled = [], []
    cb = [lambda: calls.append(1), flux.throttle(lambda: throttled.append(1), 3600)]
    flux.train(lambda x, y: flux.sum((y - (W @ x + b)) ** 2), flux.params(W, b), list(zip(x, y)),
               flux.Descent(0.001), cb=cb, capture=True)
    assert len(calls) == 200 and len(throttled) == 1


def test_progress_counts_every_captured_step(capsys):
    X, Y = _classification(n=100)
    model = _mlp()
    bar = flux.progress.Progress(5, display=False)
    losses = flux.train(lambda m, x, y: flux.mse(m(x), y), model, flux.DataLoader((X, Y), batchsize=20),
                        flux.setup(flux.Descent(0.1), model), progress=bar, capture=True)
    assert bar.steps == 5 and bar.loss == pytest.approx(np.mean(losses))


def test_fit_with_capture_trains_as_fit_without():
    X, Y = _classification(n=200)
    histories = []
    for capture in (False, True):
        model = _mlp()
        histories.append(flux.fit(model, X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(0.01), epochs=2,
                                  batchsize=32, progress=False, capture=capture))
    np.testing.assert_allclose(histories[1].history["loss"], histories[0].history["loss"], rtol=1e-5)


@pytest.mark.parametrize("style", ["implicit", "explicit"])
def test_higham_network_replays_one_sample_per_step(style):
    rng = np.random.default_rng(4)
    x = rng.random((10, 2))
    y = flux.onehotbatch(rng.integers(0, 2, 10), range(2)).T.astype(np.float64)
    data = list(zip(np.tile(x, (20, 1)), np.tile(y, (20, 1))))

    def make():
        flux.seed(2)
        return flux.f64(flux.Chain(flux.Dense(2, 2, flux.sigmoid), flux.Dense(2, 3, flux.sigmoid),
                                   flux.Dense(3, 2, flux.sigmoid)))

    def run(model, capture):
        if style == "implicit":
            return flux.train(lambda x, y: 0.5 * flux.sum((y - model(x)) ** 2), flux.params(model), data,
                              flux.Descent(0.05), capture=capture)
        return flux.train(lambda m, x, y: 0.5 * flux.sum((y - m(x)) ** 2), model, data,
                          flux.setup(flux.Descent(0.05), model), capture=capture)

    _assert_same(*_both(make, run), rtol=1e-12, atol=1e-14)
