"""Optimisation rules and how they are applied: ``setup``/``update`` (explicit style) and
``update(opt, params, grads)`` (implicit style)."""

import warnings

import numpy as np

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


def _state_array(p):
    return np.zeros(p.shape, dtype=p.dtype)


class RMSProp(Rule):
    """``RMSProp(eta=0.001, rho=0.9, epsilon=1e-8, *, centred=False)``.

    ``s = rho s + (1 - rho) g²``; centred also keeps ``a = rho a + (1 - rho) g``;
    ``p -= eta g / (sqrt(s - a²) + epsilon)`` (``a = 0`` unless centred). State starts at zero.
    """

    stateful = True

    def __init__(self, eta=0.001, rho=0.9, epsilon=1e-8, *, centred=False):
        self.eta, self.rho, self.epsilon, self.centred = _check_eta(eta), rho, epsilon, centred

    def init(self, p):
        return (_state_array(p), _state_array(p) if self.centred else None)

    def apply(self, state, p, g):
        s, a = state
        _core.rmsprop_update(p, g, s, a, self.eta, self.rho, self.epsilon)
        return state

    def __repr__(self):
        return f"RMSProp(eta={self.eta}, rho={self.rho}, epsilon={self.epsilon}, centred={self.centred})"


class Adam(Rule):
    """``Adam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``.

    ``m = β1 m + (1 - β1) g``; ``v = β2 v + (1 - β2) g²``;
    ``p -= eta (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + epsilon)`` at step t = 1, 2, ...
    State: m and v start at zero, with the powers β^t kept per parameter.
    """

    stateful = True

    def __init__(self, eta=0.001, beta=(0.9, 0.999), epsilon=1e-8):
        self.eta, self.beta, self.epsilon = _check_eta(eta), tuple(beta), epsilon

    def init(self, p):
        return (_state_array(p), _state_array(p), list(self.beta))

    def apply(self, state, p, g):
        m, v, powers = state
        b1, b2 = self.beta
        _core.adam_update(p, g, m, v, self.eta, b1, b2, self.epsilon, powers[0], powers[1])
        powers[0] *= b1
        powers[1] *= b2
        return state

    def __repr__(self):
        return f"Adam(eta={self.eta}, beta={self.beta}, epsilon={self.epsilon})"


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
        pairs = [(model, grads)] if grads is not None else []
        leaves = leaves_for([model], state, model, "update")
    else:
        # Each occurrence of a shared parameter holds its whole gradient: step it once.
        pairs = list({id(p): (p, g) for p, g in zip_leaves(model, _model_gradient(model, grads))}.values())
        leaves = leaves_for([p for p, _ in pairs], state, model, "update")
    for (p, g), leaf in zip(pairs, leaves):
        leaf.state = leaf.rule.apply(leaf.state, p, g)
    return state, model


def leaves_for(ps, state, model, caller):
    """The :class:`Leaf` of each parameter in ps within the state tree for model, checked."""
    tree = [(model, state)] if isinstance(model, Param) else zip_leaves(model, state)
    leaf_of = {id(p): leaf for p, leaf in tree if isinstance(leaf, Leaf)}
    missing = [p.shape for p in ps if id(p) not in leaf_of]
    if missing:
        raise ValueError(f"{caller}: the optimiser state has no entry for parameters of shapes {missing}; was it made "
                         "by setup(rule, model) for this model?")
    return [leaf_of[id(p)] for p in ps]


def _model_gradient(model, grads):
    """Flux's guard: the whole tuple from gradient(f, model) instead of its first element."""
    if type(grads) is tuple and len(grads) == 1 and not isinstance(model, tuple):
        warnings.warn("update(state, model, grads) wants the gradient for the model alone, not the whole tuple "
                      "from gradient; using grads[0]", stacklevel=3)
        return grads[0]
    return grads
