"""Keras-style training on top of :func:`pyflux.train`: ``fit``, ``evaluate``, ``predict``, ``History``
and the built-in ``accuracy`` metric.

Data are features x batch as everywhere in pyflux: ``X`` holds one observation per column (per
index of its last axis) and ``Y`` the matching targets, one-hot columns or integer labels. ``loss``
is called as ``loss(ŷ, y)`` like the losses in :mod:`pyflux.losses`; a metric is ``"accuracy"`` or
a function ``f(ŷ, y)`` giving the mean over a batch's observations, reported under its name.

Callbacks: ``fit`` calls each ``callback(epoch, logs)`` after every epoch, with the epoch number
(counting from 1, as the progress line shows it) and a dict of that epoch's values (``"loss"``,
the metrics, and ``"val_..."`` ones with validation data). Training stops after that epoch when a
callback returns ``True`` or raises ``StopIteration``; the other callbacks are still called.
"""

import math
import numbers

import numpy as np

from pyflux.data import DataLoader
from pyflux.optimise import Rule, leaves_for, setup
from pyflux.progress import Progress, observations
from pyflux.train import train
from pyflux.tree import trainables

_EVAL_BATCHSIZE = 256


def accuracy(yhat, y):
    """``accuracy(ŷ, y)``: the fraction of observations whose predicted class, ``onecold(ŷ)``, is the
    true one: ``onecold(y)`` for one-hot targets (same shape as ŷ), or ``y`` itself for integer
    labels counting from 0 (one per observation)."""
    yhat, y = np.asarray(yhat), np.asarray(y)
    if yhat.ndim < 2 or yhat.shape[0] < 2:
        raise ValueError(f"accuracy: expected scores for 2 or more classes along axis 0 (features x batch), got a "
                         f"prediction of shape {yhat.shape}")
    if y.shape == yhat.shape:
        truth = y.argmax(axis=0)
    elif y.shape == yhat.shape[1:]:
        truth = y
    else:
        raise ValueError(f"accuracy: targets of shape {y.shape} match neither the prediction's shape {yhat.shape} "
                         f"(one-hot) nor its observations {yhat.shape[1:]} (integer labels)")
    # argmax is onecold without its checks: this runs after every training step.
    return float(np.mean(yhat.argmax(axis=0) == truth))


_BUILTIN_METRICS = {"accuracy": accuracy, "acc": accuracy}


class History:
    """What :func:`fit` returns: ``history[key]`` is the list of a quantity's values, one per epoch
    (keys ``"loss"``, each metric's name, and ``"val_loss"``, ``"val_<metric>"`` with validation
    data, as Keras's ``History.history``); ``epoch`` lists the epoch numbers (from 1)."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def append(self, epoch, logs):
        """Records one epoch's values."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def plot(self):
        """A matplotlib Figure with one panel per quantity (loss, then each metric), training and
        validation curves against the epoch. Save it with ``fig.savefig("history.png")``; in a
        notebook it shows as the cell's value. Needs matplotlib (``pip install matplotlib``)."""
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("History.plot needs matplotlib, which is not installed: pip install matplotlib") from None
        names = [k for k in self.history if not k.startswith("val_")]
        names += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in names]
        fig = Figure(figsize=(5 * max(1, len(names)), 3.5), layout="constrained")
        axes = fig.subplots(1, max(1, len(names)), squeeze=False)[0]
        for ax, name in zip(axes, names):
            for key, label in ((name, "training"), ("val_" + name, "validation")):
                if key in self.history:
                    ax.plot(self.epoch, self.history[key], marker="o", label=label)
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.legend()
        return fig

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


def fit(model, X, Y, *, loss, opt, epochs=1, batchsize=32, shuffle=True, validation_split=0.0,
        validation_data=None, metrics=(), callbacks=(), progress=True, capture=False):
    """Trains ``model`` on ``(X, Y)`` for ``epochs`` passes of mini-batches and returns a :class:`History`.

    Each epoch is one :func:`pyflux.train` pass over a ``DataLoader((X, Y), batchsize=batchsize,
    shuffle=shuffle)`` minimising ``loss(model(x), y)`` (the order is drawn from the generator that
    :func:`pyflux.seed` sets). ``opt`` is a rule (``Adam()``; fit calls
    ``setup``) or a state from ``setup(rule, model)`` (kept up to date, so a later call continues).

    ``validation_split`` holds out the last fraction of the observations (as Keras, before any
    shuffling) and ``validation_data=(Xv, Yv)`` gives held-out data directly; after each epoch the
    model is evaluated on them (``val_loss``, ``val_<metric>``). The training loss and metrics are
    the means over the epoch's batches, computed as each step runs (before its update).

    ``metrics``: ``"accuracy"`` or functions ``f(ŷ, y)``; ``callbacks``: functions
    ``f(epoch, logs)`` (see :mod:`pyflux.fit`); ``progress``: a line per epoch (steps done, rate,
    loss, time left) redrawn on a terminal, a plain line per epoch otherwise, nothing when False.

    ``capture=True`` runs each epoch as ``train(..., capture=True)`` (see :mod:`pyflux.capture`):
    the steps run in C++, so the training metrics are computed on the training data after each
    epoch instead of from each step's predictions; the loss is still the mean over the steps.

    >>> import numpy as np
    >>> import pyflux as flux
    >>> flux.seed(0)
    >>> X = np.array([[0.0, 1.0, 2.0, 3.0]], dtype=np.float32)
    >>> model = flux.Dense(1, 1)
    >>> history = flux.fit(model, X, 2 * X + 1, loss=flux.mse, opt=flux.Descent(0.1), epochs=300, batchsize=4,
    ...                    progress=False)
    >>> history
    History(epochs=300, keys=['loss'])
    >>> history.history["loss"][-1] < 1e-6
    True
    >>> model.weight.round(2), model.bias.round(2)
    (array([[2.]], dtype=float32), array([1.], dtype=float32))
    """
    _check_callable(loss, "loss", "a function loss(ŷ, y) such as logitcrossentropy")
    X, Y = _pair(X, Y, "X and Y")
    epochs = _count_arg(epochs, "epochs", 0)
    batchsize = _count_arg(batchsize, "batchsize", 1)
    metrics = _metrics(metrics)
    callbacks = _callbacks(callbacks)
    if not isinstance(progress, bool):
        raise TypeError(f"fit: progress must be True or False, got {progress!r}")
    (X, Y), validation = _validation(X, Y, validation_split, validation_data)
    state = setup(opt, model) if isinstance(opt, Rule) else _checked_state(opt, model)
    loader = DataLoader((X, Y), batchsize=batchsize, shuffle=bool(shuffle))
    history = History()
    for epoch in range(1, epochs + 1):
        bar = Progress(len(loader), title=f"Epoch {epoch}/{epochs}", display=progress)
        if capture:
            logs = _captured_epoch(model, loader, state, loss, metrics, bar)
        else:
            steps = _Steps(loss, metrics, bar)
            train(steps, model, loader, state, progress=steps)
            logs = steps.means.result()
        if validation is not None:
            found = _evaluate(model, *validation, loss, metrics, _EVAL_BATCHSIZE)
            logs.update({"val_" + key: value for key, value in found.items()})
        bar.finish(logs)
        history.append(epoch, logs)
        if _stop(callbacks, epoch, dict(logs)):
            break
    return history


def evaluate(model, X, Y, *, loss, metrics=(), batchsize=_EVAL_BATCHSIZE):
    """``evaluate(model, X, Y; loss, metrics=(), batchsize=256)``: a dict with the mean ``"loss"``
    and each metric over all observations of ``(X, Y)``, computed in batches (each batch's value
    weighted by its number of observations). The model runs as in inference (Dropout off)."""
    _check_callable(loss, "loss", "a function loss(ŷ, y) such as logitcrossentropy", "evaluate")
    X, Y = _pair(X, Y, "X and Y", "evaluate")
    metrics = _metrics(metrics, "evaluate")
    batchsize = _count_arg(batchsize, "batchsize", 1, "evaluate")
    return _evaluate(model, X, Y, loss, metrics, batchsize)


def _evaluate(model, X, Y, loss, metrics, batchsize):
    means = _Means()
    for x, y in DataLoader((X, Y), batchsize=batchsize):
        yhat = np.asarray(model(x))
        n = observations(x)
        means.add("loss", float(loss(yhat, y)), n)
        for name, f in metrics:
            means.add(name, float(f(yhat, y)), n)
    return means.result()


def predict(model, X, *, batchsize=_EVAL_BATCHSIZE):
    """``predict(model, X; batchsize=256)``: ``model``'s outputs for every observation of ``X`` (its
    last axis), computed in batches and joined along the last axis, as a numpy array."""
    X = _observations(X, "X", "predict")
    batchsize = _count_arg(batchsize, "batchsize", 1, "predict")
    outputs = [np.asarray(model(x)) for x in DataLoader(X, batchsize=batchsize)]
    if not outputs:
        raise ValueError(f"predict: X has no observations (shape {X.shape})")
    return np.concatenate(outputs, axis=-1)


def _captured_epoch(model, loader, state, loss, metrics, bar):
    """One captured epoch's logs: the mean step loss (weighted by batch size) and the metrics on the
    training data after the epoch."""
    losses = train(lambda m, x, y: loss(m(x), y), model, loader, state, progress=bar, capture=True)
    sizes = np.full(len(losses), loader.batchsize, dtype=np.float64)
    if len(losses):
        sizes[-1] = loader.nobs - loader.batchsize * (len(losses) - 1)
    logs = {"loss": float(np.dot(losses, sizes) / sizes.sum()) if len(losses) else math.nan}
    if metrics:
        found = _evaluate(model, *loader._arrays, loss, metrics, _EVAL_BATCHSIZE)
        logs.update({name: found[name] for name, _ in metrics})
    return logs


class _Steps:
    """The loss that fit hands to train, and the progress hook train calls after each step: it keeps
    each step's prediction to compute the metrics on, and the epoch's running means."""

    def __init__(self, loss, metrics, bar):
        self.loss, self.metrics, self.bar = loss, metrics, bar
        self.means = _Means()
        self._last = None

    def __call__(self, model, x, y):
        yhat = model(x)
        self._last = (yhat, y)
        return self.loss(yhat, y)

    def step(self, loss, item):
        n = observations(item)
        self.means.add("loss", loss, n)
        if self.metrics:
            yhat, y = np.asarray(self._last[0]), self._last[1]
            for name, f in self.metrics:
                self.means.add(name, float(f(yhat, y)), n)
        self.bar.step(loss, item)


class _Means:
    """Running means of named values, each weighted by its number of observations, in insertion order."""

    def __init__(self):
        self._sums, self._count = {}, {}

    def add(self, name, value, n):
        self._sums[name] = self._sums.get(name, 0.0) + value * n
        self._count[name] = self._count.get(name, 0) + n

    def result(self):
        return {name: total / self._count[name] for name, total in self._sums.items()}


def _check_callable(f, name, what, caller="fit"):
    if not callable(f):
        raise TypeError(f"{caller}: {name} must be {what}, got {f!r}")


def _count_arg(value, name, least, caller="fit"):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"{caller}: {name} must be an integer >= {least}, got {value!r}")
    return int(value)


def _observations(a, name, caller):
    arr = np.asarray(a)
    if arr.ndim == 0:
        raise ValueError(f"{caller}: {name} is 0-dimensional; observations lie along its last axis")
    return arr


def _pair(X, Y, what, caller="fit"):
    X, Y = _observations(X, "X", caller), _observations(Y, "Y", caller)
    if X.shape[-1] != Y.shape[-1]:
        raise ValueError(f"{caller}: {what} must have the same number of observations (length of the last axis), "
                         f"got shapes {X.shape} and {Y.shape}")
    if X.shape[-1] == 0:
        raise ValueError(f"{caller}: {what} have no observations (shapes {X.shape} and {Y.shape})")
    return X, Y


def _metrics(metrics, caller="fit"):
    """[(name, function)] from "accuracy" or functions; a single one needs no list."""
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    out = []
    for m in metrics:
        if isinstance(m, str):
            if m not in _BUILTIN_METRICS:
                raise ValueError(f"{caller}: unknown metric {m!r}; the built-in one is 'accuracy', or pass a "
                                 "function f(ŷ, y)")
            out.append(("accuracy", _BUILTIN_METRICS[m]))
        elif callable(m):
            out.append((getattr(m, "__name__", None) or type(m).__name__, m))
        else:
            raise TypeError(f"{caller}: a metric must be 'accuracy' or a function f(ŷ, y), got {m!r}")
    names = [name for name, _ in out]
    clash = sorted({n for n in names if names.count(n) > 1 or n == "loss"})
    if clash:
        raise ValueError(f"{caller}: metric names must be distinct and not 'loss', got {names}")
    return out


def _callbacks(callbacks):
    if callable(callbacks):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    for f in callbacks:
        _check_callable(f, "each callback", "a function f(epoch, logs)")
    return callbacks


def _stop(callbacks, epoch, logs):
    """Calls every callback; True when one returned True or raised StopIteration."""
    stop = False
    for f in callbacks:
        try:
            stop = (f(epoch, logs) is True) or stop
        except StopIteration:
            stop = True
    return stop


def _validation(X, Y, split, data):
    """((training X, Y), (validation X, Y) or None) from validation_split or validation_data."""
    if isinstance(split, bool) or not isinstance(split, numbers.Real) or not 0 <= split < 1:
        raise ValueError(f"fit: validation_split must be a number in [0, 1), got {split!r}")
    if data is not None:
        if split:
            raise ValueError("fit: give validation_split or validation_data, not both")
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise TypeError(f"fit: validation_data must be a pair (X_val, Y_val), got {type(data).__name__}")
        return (X, Y), _pair(*data, "validation_data's X and Y")
    if not split:
        return (X, Y), None
    n = X.shape[-1]
    cut = math.floor(n * (1 - split))
    if cut == 0 or cut == n:
        raise ValueError(f"fit: validation_split={split} of {n} observations leaves {cut} for training and "
                         f"{n - cut} for validation; both need at least one")
    return (X[..., :cut], Y[..., :cut]), (X[..., cut:], Y[..., cut:])


def _checked_state(opt, model):
    try:
        leaves_for(trainables(model), opt, model, "fit")
    except (TypeError, AttributeError, ValueError):
        raise TypeError(f"fit: opt must be a rule such as Adam() or a state from setup(rule, model) for this model, "
                        f"got {opt!r}") from None
    return opt
