"""Optimisation rules and how they are applied: ``setup``/``update`` (explicit style) and
``update(opt, params, grads)`` (implicit style)."""

import warnings

from pyflux import _core
from pyflux.gradient import Grads, Params
from pyflux.param import Param
from pyflux.tree import mirror, zip_leaves


class Rule:
    """An optimisation rule: hyperparameters plus ``init(p) -> state`` and
    ``apply(state, p, g) -> state``, which updates ``p`` in place from its gradient ``g``."""

    stateful = False

    def init(self, p):
        return None

    def apply(self, state, p, g):
        raise NotImplementedError

    def _implicit_apply(self, p, g):
        """One step for p in the implicit style, where the rule keeps each parameter's state itself,
        keyed by identity (as Flux's old optimisers did)."""
        if not self.stateful:
            self.apply(None, p, g)
            return
        states = self.__dict__.setdefault("_states", {})
        entry = states.get(id(p))
        if entry is None or entry[0] is not p:
            entry = states[id(p)] = [p, self.init(p)]
        entry[1] = self.apply(entry[1], p, g)


def _check_eta(eta):
    if eta < 0:
        raise ValueError(f"the learning rate cannot be negative, got {eta}")
    return eta


class Descent(Rule):
    """``Descent(eta=0.1)``: plain gradient descent, ``p -= eta * g``."""

    def __init__(self, eta=0.1):
        self.eta = _check_eta(eta)

    def apply(self, state, p, g):
        _core.descent_update(p, g, self.eta)
        return state

    def __repr__(self):
        return f"Descent(eta={self.eta})"


class Leaf:
    """One parameter's place in the state tree from :func:`setup`: its rule and its state."""

    def __init__(self, rule, state):
        self.rule, self.state = rule, state

    def __repr__(self):
        return f"Leaf({self.rule!r}, {self.state!r})"


def setup(rule, model):
    """``setup(rule, model)``: the optimiser state for model, a tree that mirrors it with a
    :class:`Leaf` at each parameter. Pass it to :func:`update` and :func:`train`."""
    if not isinstance(rule, Rule):
        raise TypeError(f"setup: expected an optimisation rule such as Descent(0.1), got {rule!r}")
    tree = mirror(model, lambda p: Leaf(rule, rule.init(p)), default=())
    if not zip_leaves(model, tree):
        warnings.warn("setup found no trainable parameters in this model", stacklevel=2)
    return tree


def update(state, model, grads):
    """Applies one optimisation step in place.

    Explicit style: ``update(state, model, grads)`` with ``state = setup(rule, model)`` and
    ``grads`` the gradient for the model (``gradient(loss, model)[0]``); returns ``(state, model)``.
    Implicit style: ``update(opt, params, grads)`` with ``grads`` from
    ``gradient(lambda: ..., params)``.
    """
    if isinstance(model, Params):
        if not isinstance(state, Rule):
            raise TypeError("update(opt, params, grads): opt must be a rule such as Descent(0.1)")
        if not isinstance(grads, Grads):
            raise TypeError("update(opt, params, grads): grads must come from gradient(f, params)")
        for p in model:
            g = grads[p] if p in grads else None
            if g is not None:
                state._implicit_apply(p, g)
        return state, model
    if isinstance(state, Rule):
        raise TypeError("update(state, model, grads) needs state = setup(rule, model), not a rule; "
                        "or pass params(model) for the implicit style")
    if isinstance(model, Param):
        leaves = [(model, grads)] if grads is not None else []
        pairs = [(model, state)]
    else:
        grads = _model_gradient(model, grads)
        leaves = zip_leaves(model, grads)
        pairs = zip_leaves(model, state)
    leaf_of = {id(p): leaf for p, leaf in pairs}
    for p, g in leaves:
        leaf = leaf_of.get(id(p))
        if leaf is None:
            raise ValueError(f"update: no optimiser state for a parameter of shape {p.shape}; was state made by "
                             "setup(rule, model) for this model?")
        leaf.state = leaf.rule.apply(leaf.state, p, g)
    return state, model


def _model_gradient(model, grads):
    """Flux's guard: the whole tuple from gradient(f, model) instead of its first element."""
    if type(grads) is tuple and len(grads) == 1 and not isinstance(model, tuple):
        warnings.warn("update(state, model, grads) wants the gradient for the model alone, not the whole tuple "
                      "from gradient; using grads[0]", stacklevel=3)
        return grads[0]
    return grads
