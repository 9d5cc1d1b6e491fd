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
    losses = flux.train(lambda x, y: flux.mse(layer(x), y), flux.params(layer), data, flux.Descent(ETA))
    assert losses.shape == (len(data),) and np.all(np.diff(losses) < 0)
    assert_params(layer, expected[-1])


@pytest.mark.parametrize("opt", ["state", "rule"])
def test_explicit_train_follows_numpy(problem, opt):
    layer, data = problem
    expected = numpy_trajectory(layer, data)
    model = flux.Chain(layer)
    rule = flux.Descent(ETA)
    state = flux.setup(rule, model) if opt == "state" else rule
    losses = flux.train(lambda m, x, y: flux.mse(m(x), y), model, data, state)
    assert losses.shape == (len(data),)
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
