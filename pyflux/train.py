"""train: one pass over the data, a gradient step per item (Flux's ``train!``)."""

import warnings

import numpy as np

from pyflux import _core
from pyflux.capture import CapturedTrain
from pyflux.gradient import Params
from pyflux.optimise import Rule, leaves_for, setup
from pyflux.progress import Progress
from pyflux.tree import trainables


_NOTHING_TO_TRAIN = ("no trainable arrays, so training would change nothing; weights must be Params "
                     "(W = flux.param(np.random.rand(2, 5))), not plain numpy arrays")


def _callbacks(cb):
    if cb is None:
        return ()
    if callable(cb):
        return (cb,)
    return tuple(cb)


def _progress(progress, data):
    """(the object whose step(loss, item) train calls, or None; whether train owns it and finishes it)."""
    if progress is False or progress is None:
        return None, False
    if progress is True:
        return Progress(len(data) if hasattr(data, "__len__") else None), True
    if callable(getattr(progress, "step", None)):
        return progress, False
    raise TypeError(f"train: progress must be True, False or an object with a step(loss, item) method such as "
                    f"pyflux.progress.Progress, got {progress!r}")


def train(loss, model, data, opt, *, cb=None, progress=False, capture=False):
    """One pass over ``data``, taking a gradient step for each item; returns each step's loss (taken
    before its update) as a numpy array.

    Implicit style: ``train(loss, params(model), data, opt, cb=None)`` calls ``loss(*item)`` and
    updates the params with rule ``opt``; ``cb`` (a function or a list of them) is called with no
    arguments after each step.

    Explicit style: ``train(loss, model, data, state)`` calls ``loss(model, *item)`` and updates with
    ``state = setup(rule, model)`` (a rule is also accepted; its state is then discarded at the end).

    >>> import numpy as np
    >>> import pyflux as flux
    >>> model = flux.Dense(np.zeros((1, 1)), np.zeros(1))      # learn y = 2x + 1
    >>> data = [(np.array([[x]]), np.array([[2 * x + 1]])) for x in (0.0, 1.0, 2.0)]
    >>> state = flux.setup(flux.Descent(0.1), model)
    >>> for epoch in range(200):
    ...     losses = flux.train(lambda m, x, y: flux.mse(m(x), y), model, data, state)
    >>> model.weight.round(3), model.bias.round(3)
    (array([[2.]]), array([1.]))

    A tuple item is spread over the loss's arguments; anything else is passed as one argument.
    If the loss is NaN or infinite, training stops with a ValueError naming the data item, before
    that item's update.

    ``progress=True`` shows the steps done, their rate, the running mean loss and the time left
    (one line redrawn on a terminal, a summary line otherwise; see :mod:`pyflux.progress`); an
    object with a ``step(loss, item)`` method is called after each step instead.

    ``capture=True`` traces the first step, then runs the others as a C++ program with no Python
    between steps, reading the data arrays directly: same results, far less time per step for small
    models. The loss must compute the same pyflux ops for every item; a ``DataLoader`` over arrays,
    a list, ``zip`` or ``itertools.repeat`` of arrays are read from C++, other data (and a loss
    that cannot be captured) train on the general path after a one-line notice. Callbacks are
    called after every step, except ``throttle``d ones, which are called when Python gets control
    back (at least every 0.1 s). See :mod:`pyflux.capture` for the rules.

    The steps' backward passes and updates treat subnormal numbers (below about 1.2e-38 in float32)
    as zero, as JAX does on CPUs: each one costs a CPU about a hundred cycles, and a confident
    classifier's gradients hold many. ``set_zero_subnormals(False)`` keeps them.
    """
    bar, owned = _progress(progress, data)
    try:
        return _train(loss, model, data, opt, cb, bar, capture)
    finally:
        if owned:
            bar.finish()


def _pass(loss, ps, states, data, prefix, bar, callbacks, capture):
    """The steps of one pass, captured or not, the loss called as loss(*prefix, *item); their losses."""
    if capture:
        captured = CapturedTrain(loss, ps, states, data, prefix, bar, callbacks)
        losses = captured.run()
        if losses is not None:
            return losses
        data = captured.data
    if bar is None and not callbacks:
        return _core.train_steps(loss, ps, states, data, prefix)
    values = []
    for i, item in enumerate(data):
        value = float(_core.train_steps(loss, ps, states, (item,), prefix, i)[0])
        values.append(value)
        if bar is not None:
            bar.step(value, item)
        for f in callbacks:
            f()
    return np.array(values)


def _train(loss, model, data, opt, cb, bar, capture):
    if isinstance(model, Params):
        if not isinstance(opt, Rule):
            raise TypeError(f"train(loss, params, data, opt): opt must be a rule such as Descent(0.1), got {opt!r}")
        ps, callbacks = list(model), _callbacks(cb)
        if not ps:
            raise ValueError(f"train: the params hold {_NOTHING_TO_TRAIN}")
        states = [opt._implicit_state(p) for p in ps]
        return _pass(loss, ps, states, data, (), bar, callbacks, capture)
    if cb is not None:
        raise TypeError("train(loss, model, data, state) does not take callbacks; for more control write a loop "
                        "with gradient and update")
    if not trainables(model):
        raise ValueError(f"train: the model holds {_NOTHING_TO_TRAIN}")
    if isinstance(opt, Rule):
        if opt.stateful:
            warnings.warn(f"optimiser {opt!r} has state which will be discarded after train finishes; pass "
                          f"setup({opt!r}, model) instead", stacklevel=3)
        opt = setup(opt, model)
    ps = trainables(model)
    states = [leaf.state for leaf in leaves_for(ps, opt, model, "train")]
    return _pass(loss, ps, states, data, (model,), bar, (), capture)
