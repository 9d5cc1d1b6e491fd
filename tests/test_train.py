"""train (pyflux/train.py): one pass over the data, implicit and explicit style."""

import collections

import numpy as np
import pytest
from flux_helpers import linear_layer, linear_mse_grads, snapshot

import pyflux as flux

ETA = 0.05
Batch = collections.namedtuple("Batch", "x y")


@pytest.fixture
def problem():
    """A float64 linear layer and four (x, y) batches."""
    rng = np.random.default_rng(11)
    layer = linear_layer(rng)
    data = [(rng.standard_normal((3, 5)), rng.standard_normal((2, 5))) for _ in range(4)]
    return layer, data


def numpy_trajectory(layer, data, eta=ETA):
    """(W, b) after each item of one pass of p - eta * g over the data, in numpy."""
    W, b = np.array(layer.weight), np.array(layer.bias)
    out = []
    for x, y in data:
        gW, gb = linear_mse_grads(W, b, x, y)
        W, b = W - eta * gW, b - eta * gb
        out.append((W, b))
    return out


def numpy_losses(layer, data, trajectory):
    """The mse of each item under the weights before its step."""
    before = [(np.array(layer.weight), np.array(layer.bias))] + trajectory[:-1]
    return [np.mean((W @ x + b[:, None] - y) ** 2) for (W, b), (x, y) in zip(before, data)]


def assert_params(layer, expected):
    np.testing.assert_allclose(np.asarray(layer.weight), expected[0], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(layer.bias), expected[1], rtol=1e-12)


def multiplier_model():
    """A model whose loss c * sum(weight) has gradient c for each of its two weights (which start at 1)."""
    return flux.Dense(np.ones((1, 2)), False)


def run(style, loss_of_weight, model, data, eta=0.1):
    """train with a loss written as loss_of_weight(weight, *item), in either style."""
    if style == "implicit":
        return flux.train(lambda *item: loss_of_weight(model.weight, *item), flux.params(model), data,
                          flux.Descent(eta))
    return flux.train(lambda m, *item: loss_of_weight(m.weight, *item), model, data,
                      flux.setup(flux.Descent(eta), model))


# --- one pass of descent -------------------------------------------------------------------------

def test_implicit_train_follows_numpy(problem):
    layer, data = problem
    expected = numpy_trajectory(layer, data)
    losses_expected = numpy_losses(layer, data, expected)
    losses = flux.train(lambda x, y: flux.mse(layer(x), y), flux.params(layer), data, flux.Descent(ETA))
    np.testing.assert_allclose(losses, losses_expected, rtol=1e-12)
    assert_params(layer, expected[-1])


@pytest.mark.parametrize("opt", ["state", "rule"])
def test_explicit_train_follows_numpy(problem, opt):
    layer, data = problem
    expected = numpy_trajectory(layer, data)
    model = flux.Chain(layer)
    rule = flux.Descent(ETA)
    state = flux.setup(rule, model) if opt == "state" else rule
    losses_expected = numpy_losses(layer, data, expected)
    losses = flux.train(lambda m, x, y: flux.mse(m(x), y), model, data, state)
    np.testing.assert_allclose(losses, losses_expected, rtol=1e-12)
    assert_params(layer, expected[-1])


def test_train_consumes_an_iterator(problem):
    layer, data = problem
    expected = numpy_trajectory(layer, data)
    xs, ys = [x for x, _ in data], [y for _, y in data]
    flux.train(lambda x, y: flux.mse(layer(x), y), flux.params(layer), zip(xs, ys), flux.Descent(ETA))
    assert_params(layer, expected[-1])


@pytest.mark.parametrize("style", ["implicit", "explicit"])
def test_tuple_loss_differentiates_its_first_element(style):
    model = multiplier_model()
    run(style, lambda w, c: (c * flux.sum(w), w * np.nan, "aux"), model, [2.0, 3.0])
    np.testing.assert_allclose(np.asarray(model.weight), [[0.5, 0.5]])


# --- callbacks -----------------------------------------------------------------------------------

def test_callback_runs_after_each_update(problem):
    layer, data = problem
    expected = numpy_trajectory(layer, data)
    seen = []
    flux.train(lambda x, y: flux.mse(layer(x), y), flux.params(layer), data, flux.Descent(ETA),
               cb=lambda: seen.append(snapshot(flux.params(layer))))
    assert len(seen) == len(data)
    for got, want in zip(seen, expected):
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def test_callback_list_runs_in_order():
    model, calls = multiplier_model(), []
    flux.train(lambda c: c * flux.sum(model.weight), flux.params(model), [1.0, 2.0], flux.Descent(),
               cb=[lambda: calls.append("a"), lambda: calls.append("b")])
    assert calls == ["a", "b", "a", "b"]


def test_explicit_train_rejects_callbacks():
    model = multiplier_model()
    with pytest.raises(TypeError, match="callback"):
        flux.train(lambda m, c: c * flux.sum(m.weight), model, [1.0], flux.Descent(), cb=lambda: None)
    np.testing.assert_array_equal(np.asarray(model.weight), [[1.0, 1.0]])


def test_implicit_train_needs_a_rule():
    model = multiplier_model()
    with pytest.raises(TypeError):
        flux.train(lambda c: c * flux.sum(model.weight), flux.params(model), [1.0], flux.setup(flux.Descent(), model))


# --- how data items reach the loss ---------------------------------------------------------------

ITEMS = [
    ((1.0, 2.0), (1.0, 2.0)),  # a plain tuple is splatted
    ((), ()),
    (np.array([1.0, 2.0]), None),  # anything else is passed whole
    (Batch(1.0, 2.0), None),
    ([1.0, 2.0], None),
    (3.0, None),
]


@pytest.mark.parametrize("style", ["implicit", "explicit"])
@pytest.mark.parametrize("item, splatted", ITEMS, ids=["tuple", "empty-tuple", "array", "namedtuple", "list", "number"])
def test_only_plain_tuples_are_splatted(style, item, splatted):
    received = []

    def loss(w, *args):
        received.append(args)
        return flux.sum(w)

    run(style, loss, multiplier_model(), [item])
    (args,) = received
    if splatted is not None:
        assert args == splatted
    else:
        assert len(args) == 1 and args[0] is item


# --- stopping on a non-finite loss ---------------------------------------------------------------

@pytest.mark.parametrize("style", ["implicit", "explicit"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_loss_stops_before_its_update(style, bad):
    model = multiplier_model()
    with pytest.raises(ValueError, match=r"data item 3\b") as err:
        run(style, lambda w, c: c * flux.sum(w), model, [1.0, 2.0, 3.0, bad, 4.0])
    assert str(bad).lstrip("-") in str(err.value).lower()
    # items 0-2 were applied (gradient c per weight, eta 0.1); item 3 and later were not
    np.testing.assert_allclose(np.asarray(model.weight), [[1.0 - 0.1 * 6.0] * 2], rtol=1e-15)


def test_non_finite_first_item_leaves_params_untouched(problem):
    layer, data = problem
    before = snapshot(flux.params(layer))
    bad = [(x * np.inf, y) for x, y in data[:1]] + data[1:]
    with pytest.raises(ValueError, match="data item 0"):
        flux.train(lambda x, y: flux.mse(layer(x), y), flux.params(layer), bad, flux.Descent(ETA))
    for got, want in zip(snapshot(flux.params(layer)), before):
        np.testing.assert_array_equal(got, want)


def test_namedtuple_loss_differentiates_its_first_element():
    model = multiplier_model()
    Out = collections.namedtuple("Out", "loss extra")
    run("implicit", lambda w, c: Out(c * flux.sum(w), w * 2), model, [2.0])
    np.testing.assert_allclose(np.asarray(model.weight), [[0.8, 0.8]])


# --- the pass without Python between steps (no progress, no callbacks) --------------------------

@pytest.mark.parametrize("style", ["implicit", "explicit"])
def test_a_pass_with_and_without_a_callback_takes_the_same_steps(style, problem):
    """Without progress or callbacks the pass runs as one C++ loop; a callback brings back the Python
    loop. Both give the same parameters and losses."""
    results = []
    for cb in (None, lambda: None):
        layer, data = problem
        layer = flux.Dense(np.array(layer.weight), np.array(layer.bias))
        if style == "implicit":
            losses = flux.train(lambda x, y: flux.mse(layer(x), y), flux.params(layer), data, flux.Adam(0.01), cb=cb)
        else:
            state = flux.setup(flux.Adam(0.01), layer)
            losses = flux.train(lambda m, x, y: flux.mse(m(x), y), layer, data, state, progress=cb is not None)
        results.append((losses, np.array(layer.weight), np.array(layer.bias)))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_an_error_in_the_loss_stops_the_pass_with_the_earlier_steps_taken():
    model = multiplier_model()

    def loss(w, c):
        if c < 0:
            raise RuntimeError("bad item")
        return c * flux.sum(w)

    with pytest.raises(RuntimeError, match="bad item"):
        run("implicit", loss, model, [1.0, 2.0, -1.0, 4.0])
    np.testing.assert_allclose(np.asarray(model.weight), [[1.0 - 0.1 * 3.0] * 2], rtol=1e-15)
    # no tape is left recording: a gradient taken now works as usual
    g = flux.gradient(lambda w: flux.sum(w * w), model.weight)[0]
    np.testing.assert_allclose(g, 2 * np.asarray(model.weight))


def test_a_loss_that_ignores_the_parameters_leaves_them_alone():
    model = multiplier_model()
    losses = run("implicit", lambda w, c: c * 2.0, model, [1.0, 2.5])
    np.testing.assert_array_equal(losses, [2.0, 5.0])
    np.testing.assert_array_equal(np.asarray(model.weight), [[1.0, 1.0]])


def test_a_loss_that_is_not_a_scalar_is_refused():
    model = multiplier_model()
    with pytest.raises(ValueError, match="scalar"):
        run("implicit", lambda w, c: c * w, model, [1.0])
