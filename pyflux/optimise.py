"""How optimisation rules are applied: ``setup``/``update`` (explicit style) and
``update(opt, params, grads)`` (implicit style); ``adjust``, ``freeze`` and ``thaw`` of a state tree.
The rules themselves are in :mod:`pyflux.rules`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from pyflux import _core
from pyflux.gradient import Grads, Params
from pyflux.param import Param
from pyflux.rules import Rule
from pyflux.tree import is_layer, mirror, zip_leaves


class Leaf:
    """One parameter's place in the state tree from :func:`setup`: its rule, its state (a
    ``_core.Optimiser``: the C++ rule with its moments, step count and powers, shown as numpy views by
    ``state.arrays()`` or ``state["m"]``), and whether it is frozen (skipped by :func:`update` and
    :func:`train`; see :func:`freeze`). Setting ``rule`` hands its hyperparameters to the state."""

    def __init__(self, rule, state, frozen=False):
        self._rule, self.state = rule, state
        self.frozen = frozen

    @property
    def rule(self):
        return self._rule

    @rule.setter
    def rule(self, rule):
        self.state.set(rule._spec())
        self._rule = rule

    @property
    def frozen(self):
        return self.state.frozen

    @frozen.setter
    def frozen(self, value):
        self.state.frozen = bool(value)

    def __repr__(self):
        frozen = ", frozen=True" if self.frozen else ""
        return f"Leaf({self.rule!r}, {self.state!r}{frozen})"


def setup(rule: Rule, model: Any) -> Any:
    """``setup(rule, model)``: the optimiser state for model, a tree that mirrors it with a
    :class:`Leaf` at each parameter. Pass it to :func:`update` and :func:`train`.

    >>> import numpy as np
    >>> import pyflux as flux
    >>> model = flux.Dense(np.array([[1.0, 2.0]]), False)      # weight (1, 2), no bias
    >>> state = flux.setup(flux.Adam(0.01), model)
    >>> state.weight
    Leaf(Adam(eta=0.01, beta=(0.9, 0.999), epsilon=1e-08), <Adam state for a (1, 2) float64 parameter>)
    """
    if not isinstance(rule, Rule):
        raise TypeError(f"setup: expected an optimisation rule such as Descent(0.1), got {rule!r}")
    leaves = {}  # a parameter shared by several layers gets one leaf, as in Flux

    def leaf(p):
        if id(p) not in leaves:
            leaves[id(p)] = Leaf(rule, rule.init(p))
        return leaves[id(p)]

    tree = mirror(model, leaf, default=())
    if not zip_leaves(model, tree):
        warnings.warn("setup found no trainable parameters in this model", stacklevel=2)
    return tree


def update(state: Any, model: Any, grads: Any) -> tuple[Any, Any]:
    """Applies one optimisation step in place.

    Explicit style: ``update(state, model, grads)`` with ``state = setup(rule, model)`` and
    ``grads`` the gradient for the model (``gradient(loss, model)[0]``); returns ``(state, model)``.
    Implicit style: ``update(opt, params, grads)`` with ``grads`` from
    ``gradient(lambda: ..., params)``.

    >>> import numpy as np
    >>> import pyflux as flux
    >>> model = flux.Dense(np.array([[1.0, 2.0]]), False)
    >>> state = flux.setup(flux.Descent(0.1), model)
    >>> x, y = np.array([1.0, 1.0]), np.array([0.0])
    >>> grads = flux.gradient(lambda m: flux.mse(m(x), y), model)[0]
    >>> grads.weight                     # 2 (W x - y) xᵀ
    array([[6., 6.]])
    >>> state, model = flux.update(state, model, grads)
    >>> model.weight                     # W - 0.1 * grads.weight
    Param([[0.4, 1.4]], dtype=float64)
    """
    if isinstance(model, Params):
        if not isinstance(state, Rule):
            raise TypeError("update(opt, params, grads): opt must be a rule such as Descent(0.1)")
        if not isinstance(grads, Grads):
            raise TypeError("update(opt, params, grads): grads must come from gradient(f, params)")
        ps = list(model)
        _core.optimisers_update(ps, [grads[p] if p in grads else None for p in ps],
                                [state._implicit_state(p) for p in ps])
        return state, model
    if isinstance(state, Rule):
        raise TypeError("update(state, model, grads) needs state = setup(rule, model), not a rule; "
                        "or pass params(model) for the implicit style")
    if isinstance(model, Param):
        pairs = [(model, grads)]
    else:
        pairs = _combined(zip_leaves(model, _model_gradient(model, grads)))
    leaves = leaves_for([p for p, _ in pairs], state, model, "update")
    _core.optimisers_update([p for p, _ in pairs], [g for _, g in pairs], [leaf.state for leaf in leaves])
    return state, model


def _combined(pairs):
    """One (param, gradient) pair per parameter. A parameter met at several places in the model has its
    gradients summed, as Flux does; places that hold the same gradient array (``gradient`` gives a shared
    parameter's whole gradient at each of its places) count once."""
    combined = {}
    for p, g in pairs:
        if id(p) not in combined or combined[id(p)][1] is None:
            combined[id(p)] = (p, g)
        elif g is not None and not _same_memory(combined[id(p)][1], g):
            combined[id(p)] = (p, np.add(combined[id(p)][1], g))
    return list(combined.values())


def _same_memory(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and a.shape == b.shape


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


def _state_leaves(tree, caller):
    """Every :class:`Leaf` in a state tree (or part of one) from :func:`setup`."""
    found, stack = [], [tree]
    while stack:
        x = stack.pop()
        if isinstance(x, Leaf):
            found.append(x)
        elif isinstance(x, (Param, Rule)) or is_layer(x):
            raise TypeError(f"{caller} expects the optimiser state from setup(rule, model), or a part of it; "
                            f"got {type(x).__name__} inside it (a model?)")
        elif isinstance(x, (tuple, list)):
            stack.extend(reversed(x))
        elif isinstance(x, dict):
            stack.extend(reversed(list(x.values())))
    return found


def adjust(state, eta=None, **changes):
    """Changes hyperparameters in place (Flux's ``adjust!``), keeping the optimiser's state.

    ``adjust(state, 0.01)`` sets ``eta`` in every leaf of a state tree from :func:`setup` (or any
    part of it, such as ``state.layers[0]``); ``adjust(state, beta=(0.8, 0.99), rho=0.5)`` sets any
    hyperparameter by name. Names a rule does not have are silently ignored (so AdaDelta ignores
    ``eta``), chains forward to every rule they hold, and RMSProp's ``centred`` cannot be changed.
    ``adjust(opt, ...)`` on a rule (the implicit style) changes that rule itself.
    """
    if isinstance(state, Rule):
        state._set(eta, changes)
        return
    for leaf in _state_leaves(state, "adjust"):
        leaf.rule = leaf.rule._adjusted(eta, changes)


def freeze(state):
    """Marks every leaf of ``state`` (a state tree from :func:`setup` or part of it, e.g.
    ``state.layers[0]``) frozen: :func:`update` and :func:`train` leave those parameters and their
    optimiser state alone until :func:`thaw`. A model instead of a state tree is a TypeError."""
    for leaf in _state_leaves(state, "freeze"):
        leaf.frozen = True


def thaw(state):
    """Undoes :func:`freeze` for every leaf of ``state`` (a state tree or part of one)."""
    for leaf in _state_leaves(state, "thaw"):
        leaf.frozen = False
