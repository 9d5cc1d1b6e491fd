"""fit, evaluate, predict, History and accuracy (pyflux/fit.py)."""

import io
import sys

import numpy as np
import pytest

import pyflux as flux
from pyflux import progress


def quadrants(n, seed=0):
    """Points of the plane labelled by whether x * y > 0: (2, n) float32 inputs, one-hot (2, n) targets."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, n)).astype(np.float32)
    labels = (X[0] * X[1] > 0).astype(np.int64)
    return X, flux.onehotbatch(labels, range(2)), labels


def small_model(seed=0, hidden=16):
    rng = np.random.default_rng(seed)
    return flux.Chain(flux.Dense(2, hidden, flux.relu, init=flux.glorot_uniform(rng=rng)),
                      flux.Dense(hidden, 2, init=flux.glorot_uniform(rng=rng)))


@pytest.fixture
def data():
    return quadrants(400)


# --- learning ------------------------------------------------------------------------------------

def test_fit_learns_a_nonlinear_problem(data):
    X, Y, _ = data
    model = small_model()
    history = flux.fit(model, X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(0.01), epochs=15,
                       metrics=["accuracy"], progress=False)
    loss, acc = history.history["loss"], history.history["accuracy"]
    assert len(loss) == len(acc) == 15
    assert loss[-1] < 0.6 * loss[0]
    assert acc[-1] > 0.9 and acc[-1] > acc[0]
    assert flux.evaluate(model, X, Y, loss=flux.logitcrossentropy, metrics="accuracy")["accuracy"] > 0.9


def test_fit_is_train_over_a_dataloader(data):
    """Without shuffling, fit takes exactly the steps of train over DataLoader((X, Y), batchsize)."""
    X, Y, _ = data
    a, b = small_model(), small_model()
    flux.fit(a, X, Y, loss=flux.logitcrossentropy, opt=flux.Descent(0.1), epochs=2, batchsize=50, shuffle=False,
             progress=False)
    state = flux.setup(flux.Descent(0.1), b)
    for _ in range(2):
        flux.train(lambda m, x, y: flux.logitcrossentropy(m(x), y), b, flux.DataLoader((X, Y), batchsize=50), state)
    for p, q in zip(flux.trainables(a), flux.trainables(b)):
        np.testing.assert_array_equal(np.asarray(p), np.asarray(q))


def test_a_state_from_setup_carries_over_between_calls(data):
    X, Y, _ = data
    a, b = small_model(), small_model()
    kwargs = dict(loss=flux.logitcrossentropy, batchsize=40, shuffle=False, progress=False)
    flux.fit(a, X, Y, opt=flux.Adam(0.01), epochs=2, **kwargs)
    state = flux.setup(flux.Adam(0.01), b)
    flux.fit(b, X, Y, opt=state, epochs=1, **kwargs)
    flux.fit(b, X, Y, opt=state, epochs=1, **kwargs)
    for p, q in zip(flux.trainables(a), flux.trainables(b)):
        np.testing.assert_array_equal(np.asarray(p), np.asarray(q))


def test_training_loss_and_metrics_are_the_epoch_means_before_each_update(data):
    """With a zero learning rate the model never changes, so the epoch's running means equal evaluate's."""
    X, Y, labels = data
    model = small_model()
    history = flux.fit(model, X, Y, loss=flux.logitcrossentropy, opt=flux.Descent(0.0), batchsize=37,
                       metrics=["accuracy"], progress=False)
    expected = flux.evaluate(model, X, Y, loss=flux.logitcrossentropy, metrics=["accuracy"])
    assert history.history["loss"][0] == pytest.approx(expected["loss"], rel=1e-5)
    assert history.history["accuracy"][0] == pytest.approx(expected["accuracy"], abs=1e-12)
    assert expected["accuracy"] == pytest.approx(np.mean(flux.onecold(model(X)) == labels))


def test_custom_metric_is_reported_under_its_name(data):
    X, Y, _ = data

    def mean_score(yhat, y):
        return float(np.mean(yhat))

    model = small_model()
    history = flux.fit(model, X, Y, loss=flux.logitcrossentropy, opt=flux.Descent(0.0), metrics=[mean_score],
                       validation_split=0.25, progress=False)
    assert list(history.history) == ["loss", "mean_score", "val_loss", "val_mean_score"]
    assert history.history["val_mean_score"][0] == pytest.approx(float(np.mean(model(X[:, 300:]))), rel=1e-5)


# --- validation ----------------------------------------------------------------------------------

class Recorder:
    """A layer that remembers the observations it saw while a gradient was taken (training steps)."""

    _fields = ("inner",)

    def __init__(self, inner):
        self.inner = inner
        self.trained_on = []

    def __call__(self, x):
        if flux.modes.within_gradient():
            self.trained_on.extend(np.asarray(x)[0].tolist())
        return self.inner(x)


def test_validation_split_holds_out_the_last_fraction(data):
    X, Y, _ = data
    X = X.copy()
    X[0] = np.arange(X.shape[1])  # each observation tagged by its index
    model = Recorder(small_model())
    history = flux.fit(model, X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(0.01), validation_split=0.1,
                       metrics=["accuracy"], progress=False)
    assert sorted(model.trained_on) == list(range(360))
    held_out = flux.evaluate(model, X[:, 360:], Y[:, 360:], loss=flux.logitcrossentropy, metrics=["accuracy"])
    assert history.history["val_loss"] == [pytest.approx(held_out["loss"], rel=1e-6)]
    assert history.history["val_accuracy"] == [pytest.approx(held_out["accuracy"])]


def test_validation_split_rounds_the_training_part_down():
    X, Y, _ = quadrants(10)
    model = Recorder(small_model())
    X[0] = np.arange(10)
    flux.fit(model, X, Y, loss=flux.logitcrossentropy, opt=flux.Descent(0.0), validation_split=0.25, progress=False)
    assert sorted(model.trained_on) == list(range(7))  # floor(10 * 0.75)


def test_validation_data_is_evaluated_after_each_epoch(data):
    X, Y, _ = data
    Xv, Yv, _ = quadrants(50, seed=1)
    seen = []
    model = small_model()

    def record(epoch, logs):
        seen.append((epoch, logs, flux.evaluate(model, Xv, Yv, loss=flux.logitcrossentropy)["loss"]))

    history = flux.fit(model, X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(0.01), epochs=3,
                       validation_data=(Xv, Yv), callbacks=[record], progress=False)
    assert [e for e, _, _ in seen] == history.epoch == [1, 2, 3]
    assert [logs["val_loss"] for _, logs, _ in seen] == pytest.approx([v for _, _, v in seen], rel=1e-6)
    assert history.history["val_loss"] == [logs["val_loss"] for _, logs, _ in seen]
    assert list(history.history) == ["loss", "val_loss"]


# --- callbacks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["return", "raise"])
def test_a_callback_stops_training_and_the_others_still_run(data, how):
    X, Y, _ = data
    calls = []

    def stopper(epoch, logs):
        calls.append(("stopper", epoch))
        if epoch == 2:
            if how == "raise":
                raise StopIteration
            return True

    def watcher(epoch, logs):
        calls.append(("watcher", epoch))
        return False

    history = flux.fit(small_model(), X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(), epochs=5,
                       callbacks=[stopper, watcher], progress=False)
    assert history.epoch == [1, 2]
    assert calls == [("stopper", 1), ("watcher", 1), ("stopper", 2), ("watcher", 2)]


def test_callbacks_get_a_copy_of_the_logs(data):
    X, Y, _ = data
    history = flux.fit(small_model(), X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(), epochs=2,
                       callbacks=lambda epoch, logs: logs.clear(), progress=False)
    assert len(history.history["loss"]) == 2


def test_zero_epochs_gives_an_empty_history(data):
    X, Y, _ = data
    model = small_model()
    before = [np.array(p) for p in flux.trainables(model)]
    history = flux.fit(model, X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(), epochs=0, progress=False)
    assert history.history == {} and history.epoch == []
    assert all(np.array_equal(b, np.asarray(p)) for b, p in zip(before, flux.trainables(model)))


# --- evaluate, predict, accuracy -----------------------------------------------------------------

def test_evaluate_does_not_depend_on_the_batch_size(data):
    X, Y, labels = data
    model = small_model()
    whole = flux.evaluate(model, X, Y, loss=flux.logitcrossentropy, metrics=["accuracy"], batchsize=400)
    batched = flux.evaluate(model, X, Y, loss=flux.logitcrossentropy, metrics=["accuracy"], batchsize=7)
    assert list(whole) == ["loss", "accuracy"]
    assert batched["loss"] == pytest.approx(whole["loss"], rel=1e-5)
    assert batched["accuracy"] == pytest.approx(whole["accuracy"])
    assert whole["loss"] == pytest.approx(float(flux.logitcrossentropy(model(X), Y)), rel=1e-6)


def test_predict_joins_the_batches_along_the_last_axis(data):
    X, _, _ = data
    model = small_model()
    out = flux.predict(model, X, batchsize=33)
    assert out.shape == (2, 400) and isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, model(X), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(flux.predict(model, X[:, :5]), model(X[:, :5]))


def test_evaluate_and_predict_run_the_model_in_inference_mode():
    model = flux.Chain(flux.Dense(np.eye(3, dtype=np.float32), False), flux.Dropout(0.9))
    X = np.ones((3, 20), np.float32)
    np.testing.assert_array_equal(flux.predict(model, X), X)
    assert flux.evaluate(model, X, X, loss=flux.mse)["loss"] == 0


def test_accuracy_with_one_hot_and_integer_labels():
    yhat = np.array([[0.9, 0.1, 0.2, 0.3], [0.1, 0.8, 0.7, 0.1], [0.0, 0.0, 0.9, 0.0]])
    labels = np.array([0, 1, 1, 2])
    assert flux.accuracy(yhat, labels) == 0.5
    assert flux.accuracy(yhat, flux.onehotbatch(labels, range(3))) == 0.5


@pytest.mark.parametrize("yhat, y, message", [
    (np.zeros((3, 4)), np.zeros(5, int), "targets of shape \\(5,\\)"),
    (np.zeros((3, 4)), np.zeros((2, 4)), "match neither"),
    (np.zeros((1, 4)), np.zeros(4, int), "2 or more classes"),
    (np.zeros(4), np.zeros(4, int), "2 or more classes"),
])
def test_accuracy_rejects_mismatched_shapes(yhat, y, message):
    with pytest.raises(ValueError, match=message):
        flux.accuracy(yhat, y)


# --- History -------------------------------------------------------------------------------------

def test_history_plot_draws_training_and_validation_curves(data):
    pytest.importorskip("matplotlib")
    X, Y, _ = data
    history = flux.fit(small_model(), X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(0.01), epochs=3,
                       validation_split=0.2, metrics=["accuracy"], progress=False)
    assert repr(history) == "History(epochs=3, keys=['loss', 'accuracy', 'val_loss', 'val_accuracy'])"
    fig = history.plot()
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
    (train_line, val_line) = loss_ax.get_lines()
    assert list(train_line.get_xdata()) == [1, 2, 3]
    assert list(train_line.get_ydata()) == history.history["loss"]
    assert list(val_line.get_ydata()) == history.history["val_loss"]
    fig.savefig(io.BytesIO(), format="png")


def test_history_plot_without_matplotlib_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    history = flux.History()
    history.append(1, {"loss": 1.0})
    with pytest.raises(ImportError, match="pip install matplotlib"):
        history.plot()


# --- progress ------------------------------------------------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    """A clock that advances by `tick` seconds at each reading."""

    def __init__(self, tick):
        self.now, self.tick = 0.0, tick

    def __call__(self):
        self.now += self.tick
        return self.now


def test_fit_without_progress_prints_nothing(data, capsys):
    X, Y, _ = data
    flux.fit(small_model(), X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(), epochs=2, validation_split=0.1,
             progress=False)
    assert capsys.readouterr().out == ""


def test_fit_prints_one_plain_line_per_epoch_when_not_a_terminal(data, capsys):
    X, Y, _ = data
    history = flux.fit(small_model(), X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(), epochs=3,
                       batchsize=100, validation_split=0.25, metrics=["accuracy"])
    lines = capsys.readouterr().out.split("\n")
    assert lines[-1] == "" and len(lines) == 4
    for epoch, line in enumerate(lines[:-1], start=1):
        assert line.startswith(f"Epoch {epoch}/3  3/3  ")
        assert "\r" not in line and "ETA" not in line
        assert f"val_accuracy {history.history['val_accuracy'][epoch - 1]:.4g}" in line
        assert f"  loss {history.history['loss'][epoch - 1]:.4g}" in line


def test_fit_redraws_one_line_per_epoch_on_a_terminal(data, monkeypatch):
    X, Y, _ = data
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(progress, "_clock", Clock(0.25))
    flux.fit(small_model(), X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(), epochs=2, batchsize=100)
    out = terminal.getvalue()
    epochs = out.split("\n")
    assert len(epochs) == 3 and epochs[-1] == ""
    for n, text in enumerate(epochs[:-1], start=1):
        frames = text.split("\r")[1:]
        assert len(frames) == 5  # a redraw after each of the 4 steps, then the summary
        assert frames[0].startswith(f"Epoch {n}/2  1/4  [=====               ]")
        assert "steps/s" in frames[0] and "loss " in frames[0] and "ETA" in frames[0]
        assert frames[-1].startswith(f"Epoch {n}/2  4/4  ") and "ETA" not in frames[-1]


def test_train_progress_prints_a_summary_and_feeds_a_step_hook(data, capsys):
    X, Y, _ = data
    model = small_model()
    loader = flux.DataLoader((X, Y), batchsize=100)
    loss = lambda m, x, y: flux.logitcrossentropy(m(x), y)
    flux.train(loss, model, loader, flux.setup(flux.Descent(0.0), model), progress=True)
    line = capsys.readouterr().out
    expected = float(flux.logitcrossentropy(model(X), Y))
    assert line.startswith("4/4  ") and line.endswith(f"loss {expected:.4g}\n")

    class Hook:
        def __init__(self):
            self.seen = []

        def step(self, value, item):
            self.seen.append((value, item[0].shape))

    hook = Hook()
    flux.train(loss, model, loader, flux.setup(flux.Descent(0.0), model), progress=hook)
    assert [shape for _, shape in hook.seen] == [(2, 100)] * 4
    assert hook.seen[0][0] == pytest.approx(float(flux.logitcrossentropy(model(X[:, :100]), Y[:, :100])))
    assert capsys.readouterr().out == ""


def test_train_rejects_a_bad_progress_argument(data):
    X, Y, _ = data
    model = small_model()
    with pytest.raises(TypeError, match="progress must be True, False or an object"):
        flux.train(lambda m, x, y: flux.mse(m(x), y), model, [(X, Y)], flux.setup(flux.Descent(0.1), model),
                   progress="yes")


# --- bad arguments -------------------------------------------------------------------------------

@pytest.mark.parametrize("change, error, message", [
    (dict(loss="mse"), TypeError, "loss must be a function"),
    (dict(opt=None), TypeError, "opt must be a rule such as Adam"),
    (dict(opt=0.01), TypeError, "opt must be a rule"),
    (dict(epochs=-1), ValueError, "epochs must be an integer >= 0"),
    (dict(epochs=2.5), ValueError, "epochs must be an integer"),
    (dict(batchsize=0), ValueError, "batchsize must be an integer >= 1"),
    (dict(batchsize=True), ValueError, "batchsize must be an integer"),
    (dict(validation_split=1.0), ValueError, "validation_split must be a number in \\[0, 1\\)"),
    (dict(validation_split=-0.1), ValueError, "validation_split must be"),
    (dict(validation_split=0.999), ValueError, "leaves 0 for training and 400 for validation"),
    (dict(validation_split=0.2, validation_data=(np.zeros((2, 3)), np.zeros((2, 3)))), ValueError, "not both"),
    (dict(validation_data=np.zeros((2, 3))), TypeError, "validation_data must be a pair"),
    (dict(validation_data=(np.zeros((2, 3)), np.zeros((2, 4)))), ValueError, "validation_data's X and Y"),
    (dict(metrics=["precision"]), ValueError, "unknown metric 'precision'"),
    (dict(metrics=[3]), TypeError, "a metric must be"),
    (dict(metrics=["accuracy", "acc"]), ValueError, "distinct"),
    (dict(callbacks=[print, 3]), TypeError, "each callback must be a function"),
    (dict(progress="yes"), TypeError, "progress must be True or False"),
])
def test_fit_rejects_bad_arguments(data, change, error, message):
    X, Y, _ = data
    kwargs = dict(loss=flux.logitcrossentropy, opt=flux.Adam(), progress=False) | change
    with pytest.raises(error, match=message):
        flux.fit(small_model(), X, Y, **kwargs)


def test_fit_rejects_a_state_for_another_model(data):
    X, Y, _ = data
    with pytest.raises(TypeError, match="a state from setup\\(rule, model\\) for this model"):
        flux.fit(small_model(), X, Y, loss=flux.logitcrossentropy, opt=flux.setup(flux.Adam(), flux.Dense(3, 1)))


@pytest.mark.parametrize("call, message", [
    (lambda X, Y: flux.fit(small_model(), X, Y[:, :-1], loss=flux.mse, opt=flux.Adam()),
     "fit: X and Y must have the same number of observations .* got shapes \\(2, 400\\) and \\(2, 399\\)"),
    (lambda X, Y: flux.fit(small_model(), X[:, :0], Y[:, :0], loss=flux.mse, opt=flux.Adam()), "no observations"),
    (lambda X, Y: flux.evaluate(small_model(), X, Y[:, :3], loss=flux.mse), "evaluate: X and Y must have"),
    (lambda X, Y: flux.evaluate(small_model(), X, Y, loss=None), "evaluate: loss must be a function"),
    (lambda X, Y: flux.predict(small_model(), X, batchsize=0), "predict: batchsize must be an integer >= 1"),
    (lambda X, Y: flux.predict(small_model(), np.float32(1)), "predict: X is 0-dimensional"),
    (lambda X, Y: flux.predict(small_model(), X[:, :0]), "predict: X has no observations"),
])
def test_evaluate_and_predict_reject_bad_arguments(data, call, message):
    X, Y, _ = data
    with pytest.raises((ValueError, TypeError), match=message):
        call(X, Y)
