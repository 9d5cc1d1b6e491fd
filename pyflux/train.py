"""train: one pass over the data, a gradient step per item (Flux's ``train!``)."""

import math
import warnings

from pyflux import _core
from pyflux.gradient import Params
from pyflux.optimise import Rule, leaves_for, setup
from pyflux.tree import trainables


def _splat(item):
    # Only a plain tuple is spread over the loss's arguments, as Flux does.
    return item if type(item) is tuple else (item,)


def _step(loss, args, ps, i):
    """Records loss(*args) on a tape watching ps, checks the loss, and returns ps's gradients."""
    tape = _core.Tape(ps)
    with tape:
        value = loss(*args)
    if isinstance(value, tuple):
        value = value[0]
    grads = tape.gradient(value)
    loss_value = float(value)
    if not math.isfinite(loss_value):
        raise ValueError(f"Loss is {loss_value} on data item {i} (counting from 0), stopping training")
    return grads


_NOTHING_TO_TRAIN = ("no trainable arrays, so training would change nothing; weights must be Params "
                     "(W = flux.param(np.random.rand(2, 5))), not plain numpy arrays")


def _callbacks(cb):
    if cb is None:
        return ()
    if callable(cb):
        return (cb,)
    return tuple(cb)


def train(loss, model, data, opt, *, cb=None):
    """One pass over ``data``, taking a gradient step for each item.

    Implicit style: ``train(loss, params(model), data, opt, cb=None)`` calls ``loss(*item)`` and
    updates the params with rule ``opt``; ``cb`` (a function or a list of them) is called with no
    arguments after each step.

    Explicit style: ``train(loss, model, data, state)`` calls ``loss(model, *item)`` and updates with
    ``state = setup(rule, model)`` (a rule is also accepted; its state is then discarded at the end).

    A tuple item is spread over the loss's arguments; anything else is passed as one argument.
    If the loss is NaN or infinite, training stops with a ValueError naming the data item, before
    that item's update.
    """
    if isinstance(model, Params):
        if not isinstance(opt, Rule):
            raise TypeError(f"train(loss, params, data, opt): opt must be a rule such as Descent(0.1), got {opt!r}")
        ps, callbacks = list(model), _callbacks(cb)
        if not ps:
            raise ValueError(f"train: the params hold {_NOTHING_TO_TRAIN}")
        apply = opt._implicit_apply
        for i, item in enumerate(data):
            grads = _step(loss, _splat(item), ps, i)
            for p, g in zip(ps, grads):
                if g is not None:
                    apply(p, g)
            for f in callbacks:
                f()
        return None
    if cb is not None:
        raise TypeError("train(loss, model, data, state) does not take callbacks; for more control write a loop "
                        "with gradient and update")
    if not trainables(model):
        raise ValueError(f"train: the model holds {_NOTHING_TO_TRAIN}")
    if isinstance(opt, Rule):
        if opt.stateful:
            warnings.warn(f"optimiser {opt!r} has state which will be discarded after train finishes; pass "
                          f"setup({opt!r}, model) instead", stacklevel=2)
        opt = setup(opt, model)
    ps = trainables(model)
    ordered = leaves_for(ps, opt, model, "train")
    for i, item in enumerate(data):
        grads = _step(loss, (model, *_splat(item)), ps, i)
        for p, leaf, g in zip(ps, ordered, grads):
            if g is not None and not leaf.frozen:
                leaf.state = leaf.rule.apply(leaf.state, p, g)
    return None
