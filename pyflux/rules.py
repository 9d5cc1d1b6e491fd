"""Optimisation rules (Optimisers.jl 0.4.8 as used by Flux 0.16): positional arguments in Flux's
order with Flux's defaults; ASCII keyword names ``eta``, ``rho``, ``beta``, ``epsilon``, and
``lambd`` for Flux's ``lambda`` (a Python keyword).

A rule here holds its hyperparameters, checks them, and prints itself; the rule's step and its
state live in C++ (``csrc/kernels/optimisers.hpp``, one struct per rule). ``init(p)`` makes a
parameter's state, a ``_core.Optimiser`` whose arrays (moments, step count ``t``, powers
``beta_t``) are visible as numpy views through ``state.arrays()`` or ``state["m"]``.
``apply(state, p, g)`` does ``p -= Δ`` in place; ``apply(state, p, g, out)`` writes Δ to ``out``
instead. ``t`` counts steps from 1.
"""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np

from pyflux import _core

_CORE_RULES = {info["name"]: info for info in _core.optimiser_rules()}


def _real(rule, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{rule}: {name} must be a real number, got {value!r}")
    return value


def _non_negative(rule, name, value):
    if _real(rule, name, value) < 0:
        raise ValueError(f"{rule}: {name} cannot be negative, got {value!r}")
    return value


def _eta(rule, name, value):
    if _real(rule, name, value) < 0:
        raise ValueError(f"{rule}: the learning rate {name} cannot be negative, got {value!r}")
    return value


def _unit(rule, name, value):
    if not 0 <= _real(rule, name, value) <= 1:
        raise ValueError(f"{rule}: {name} must lie in [0, 1], got {value!r}")
    return value


def _beta(rule, name, value):
    try:
        pair = tuple(value)
    except TypeError:
        raise TypeError(f"{rule}: {name} must be a pair of numbers (β1, β2), got {value!r}") from None
    if len(pair) != 2:
        raise ValueError(f"{rule}: {name} must be a pair of numbers (β1, β2), got {value!r}")
    for b in pair:
        if not 0 <= _real(rule, name, b) < 1:
            raise ValueError(f"{rule}: each of {name} must lie in [0, 1), got {value!r}")
    return pair


def _flag(rule, name, value):
    return bool(value)


# How each hyperparameter is checked (by its Python name), with Flux's meaning of each.
_CHECKS = {"eta": _eta, "rho": _unit, "beta": _beta, "epsilon": _non_negative, "lambd": _real,
           "delta": _non_negative, "omega": _non_negative, "p": _real, "centred": _flag, "couple": _flag,
           "throw": _flag}


class Rule:
    """An optimisation rule: hyperparameters (named in ``_hyper``, in positional order) plus
    ``init(p) -> state`` and ``apply(state, p, g, out=None) -> state``, both run by the C++ rule of
    the same name."""

    _hyper: tuple[str, ...] = ()
    _fixed: tuple[str, ...] = ()  # hyperparameters that adjust leaves alone

    @property
    def stateful(self):
        """Whether the rule keeps state between steps (moments, a step count)."""
        info = _CORE_RULES[type(self).__name__]
        return bool(info["states"]) or info["clocked"]

    def _assign(self, **values):
        for name, value in values.items():
            setattr(self, name, _CHECKS[name](type(self).__name__, name, value))

    def _spec(self):
        """The rule for the C++ core: its name and hyperparameters (``beta`` as beta1, beta2)."""
        hypers = {}
        for name in self._hyper:
            value = getattr(self, name)
            if name == "beta":
                hypers["beta1"], hypers["beta2"] = value
            else:
                hypers[name] = float(value)
        return type(self).__name__, hypers

    def init(self, p):
        """The state for parameter p (Optimisers.jl's ``init``): a ``_core.Optimiser``."""
        return _core.optimiser_init(self._spec(), p)

    def apply(self, state, p, g, out=None):
        """One step: ``p -= Δ`` in place, or Δ written to ``out`` (p untouched). Returns the state.
        A rule without state also takes ``state=None``."""
        if state is None and not self.stateful:
            state = self.init(p)
        if not isinstance(state, _core.Optimiser):
            raise TypeError(f"{self!r}.apply: expected the state from init(p), got {type(state).__name__}")
        state.apply(p, g, out)
        return state

    def transform(self, state, p, g):
        """``(state, Δ)`` with Δ in a new array; neither p nor g is changed."""
        out = np.empty(p.shape, dtype=p.dtype)
        return self.apply(state, p, g, out), out

    def _implicit_state(self, p):
        """p's state in the implicit style, where the rule keeps each parameter's state itself,
        keyed by identity (as Flux's old optimisers did)."""
        states = self.__dict__.setdefault("_states", {})
        entry = states.get(id(p))
        if entry is None or entry[0] is not p:
            entry = states[id(p)] = (p, self.init(p))
        return entry[1]

    def _implicit_apply(self, p, g):
        self._implicit_state(p).apply(p, g)

    def _set(self, eta, changes):
        """Changes hyperparameters in place (see ``adjust``); unknown names are ignored."""
        if eta is not None and "eta" in self._hyper:
            self._assign(eta=eta)
        for name, value in changes.items():
            if name in self._hyper and name not in self._fixed:
                self._assign(**{name: value})
        self._push()

    def _push(self):
        """Hands the current hyperparameters to the implicit-style states this rule keeps."""
        spec = self._spec()
        for _, state in self.__dict__.get("_states", {}).values():
            state.set(spec)

    def _adjusted(self, eta, changes):
        """A copy with hyperparameters changed; per-parameter implicit-style state is not copied."""
        new = copy.copy(self)
        new.__dict__.pop("_states", None)
        new._set(eta, changes)
        return new

    def __repr__(self):
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._hyper)
        return f"{type(self).__name__}({args})"


class Descent(Rule):
    """``Descent(eta=0.1)``: ``Δ = eta g``. No state."""

    _hyper = ("eta",)

    def __init__(self, eta: float = 0.1) -> None:
        self._assign(eta=eta)


class Momentum(Rule):
    """``Momentum(eta=0.01, rho=0.9)``: ``v = rho v + eta g``; ``Δ = v``. State v starts at 0."""

    _hyper = ("eta", "rho")

    def __init__(self, eta: float = 0.01, rho: float = 0.9) -> None:
        self._assign(eta=eta, rho=rho)


class Nesterov(Rule):
    """``Nesterov(eta=0.001, rho=0.9)``: ``Δ = -rho² v + (1 + rho) eta g``, then
    ``v = rho v - eta g``. State v starts at 0."""

    _hyper = ("eta", "rho")

    def __init__(self, eta: float = 0.001, rho: float = 0.9) -> None:
        self._assign(eta=eta, rho=rho)


class RMSProp(Rule):
    """``RMSProp(eta=0.001, rho=0.9, epsilon=1e-8, *, centred=False)`` (``centered`` also accepted).

    ``s = rho s + (1 - rho) g²``; centred also keeps ``a = rho a + (1 - rho) g``;
    ``Δ = eta g / (sqrt(s - a²) + epsilon)`` (``a = 0`` unless centred). State starts at zero.
    ``centred`` cannot be changed by ``adjust``.
    """

    _hyper = ("eta", "rho", "epsilon", "centred")
    _fixed = ("centred",)

    def __init__(self, eta: float = 0.001, rho: float = 0.9, epsilon: float = 1e-8, *, centred: bool = False,
                 centered: bool | None = None) -> None:
        self._assign(eta=eta, rho=rho, epsilon=epsilon, centred=centred if centered is None else centered)


class _AdamFamily(Rule):
    """``Name(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``. State: the moment arrays, and for
    rules with bias correction the step count ``t`` and the powers ``beta_t = [β1^t, β2^t]``."""

    _hyper = ("eta", "beta", "epsilon")

    def __init__(self, eta: float = 0.001, beta: tuple[float, float] = (0.9, 0.999), epsilon: float = 1e-8) -> None:
        self._assign(eta=eta, beta=beta, epsilon=epsilon)


class Adam(_AdamFamily):
    """``Adam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``.

    ``m = β1 m + (1 - β1) g``; ``v = β2 v + (1 - β2) g²``;
    ``Δ = eta (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + epsilon)``.
    State: m and v start at zero, with the powers β^t kept per parameter.

    >>> import numpy as np
    >>> import pyflux as flux
    >>> rule = flux.Adam(0.1)
    >>> p = flux.param(np.zeros(2))
    >>> state = rule.init(p)
    >>> state = rule.apply(state, p, np.array([1.0, -2.0]))   # a first step moves each entry by about eta
    >>> p
    Param([-0.1,  0.1], dtype=float64)
    >>> state["m"], state["t"]
    (array([ 0.1, -0.2]), array(1))
    """


class NAdam(_AdamFamily):
    """``NAdam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``: m, v as Adam;
    ``Δ = eta (β1 m / (1 - β1 β1^t) + (1 - β1) g / (1 - β1^t)) / (sqrt(β2 v / (1 - β2^t)) + epsilon)``.
    State: m = v = 0 and the powers β^t."""


class OAdam(_AdamFamily):
    """``OAdam(eta=0.001, beta=(0.5, 0.9), epsilon=1e-8)`` (optimistic Adam): m, v as Adam;
    ``term' = eta (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + epsilon)``; ``Δ = 2 term' - term``.
    State: m = v = term = 0 and the powers β^t."""

    def __init__(self, eta: float = 0.001, beta: tuple[float, float] = (0.5, 0.9), epsilon: float = 1e-8) -> None:
        super().__init__(eta, beta, epsilon)


class AdamW(_AdamFamily):
    """``AdamW(eta=0.001, beta=(0.9, 0.999), lambd=0.0, epsilon=1e-8, *, couple=True)``; ``lambd``
    is Flux's ``lambda``. With ``u`` Adam's step for eta = 1: ``couple=True``:
    ``Δ = eta (u + lambd p)``; ``couple=False``: ``Δ = eta u + lambd p``. State as Adam."""

    _hyper = ("eta", "beta", "lambd", "epsilon", "couple")

    def __init__(self, eta: float = 0.001, beta: tuple[float, float] = (0.9, 0.999), lambd: float = 0.0,
                 epsilon: float = 1e-8, *, couple: bool = True) -> None:
        self._assign(eta=eta, beta=beta, lambd=lambd, epsilon=epsilon, couple=couple)


class RAdam(_AdamFamily):
    """``RAdam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)`` (rectified Adam): m, v as Adam;
    ``ρ∞ = 2 / (1 - β2) - 1``, ``ρt = ρ∞ - 2 t β2^t / (1 - β2^t)``; if ``ρt > 4``:
    ``r = sqrt((ρt - 4)(ρt - 2) ρ∞ / ((ρ∞ - 4)(ρ∞ - 2) ρt))`` and
    ``Δ = eta r m̂ / (sqrt(v̂) + epsilon)``, else ``Δ = eta m̂``. State: m = v = 0, the powers β^t
    and the step count t (from 1)."""


class AdaMax(_AdamFamily):
    """``AdaMax(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``: ``m = β1 m + (1 - β1) g``;
    ``u = max(β2 u, |g|)``; ``Δ = eta / (1 - β1^t) m / (u + epsilon)``. State: m = u = 0 and the
    powers β^t."""


class AMSGrad(_AdamFamily):
    """``AMSGrad(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``: m, v as Adam;
    ``v̂ = max(v̂, v)``; ``Δ = eta m / (sqrt(v̂) + epsilon)`` (no bias correction). State: m, v and v̂
    all start filled with epsilon."""


class AdaGrad(Rule):
    """``AdaGrad(eta=0.1, epsilon=1e-8)``: ``acc = acc + g²``; ``Δ = eta g / (sqrt(acc) + epsilon)``.
    State: acc starts filled with epsilon (not 0)."""

    _hyper = ("eta", "epsilon")

    def __init__(self, eta: float = 0.1, epsilon: float = 1e-8) -> None:
        self._assign(eta=eta, epsilon=epsilon)


class AdaDelta(Rule):
    """``AdaDelta(rho=0.9, epsilon=1e-8)``, no learning rate (``adjust(state, eta)`` leaves it alone):
    ``acc = rho acc + (1 - rho) g²``; ``Δ = g sqrt(Δacc + epsilon) / sqrt(acc + epsilon)``; then
    ``Δacc = rho Δacc + (1 - rho) Δ²``. State: acc = Δacc = 0."""

    _hyper = ("rho", "epsilon")

    def __init__(self, rho: float = 0.9, epsilon: float = 1e-8) -> None:
        self._assign(rho=rho, epsilon=epsilon)


class Lion(Rule):
    """``Lion(eta=0.001, beta=(0.9, 0.999))``: ``m = β2 g + (1 - β2) m``;
    ``Δ = eta sign((β2 - β1) g + β1 m)``. State: m = 0."""

    _hyper = ("eta", "beta")

    def __init__(self, eta: float = 0.001, beta: tuple[float, float] = (0.9, 0.999)) -> None:
        self._assign(eta=eta, beta=beta)


# --- gradient transforms: stateless, usually placed before an update rule in an OptimiserChain ---

class ClipGrad(Rule):
    """``ClipGrad(delta=10.0)``: ``Δ = clamp(g, -delta, delta)``."""

    _hyper = ("delta",)

    def __init__(self, delta: float = 10.0) -> None:
        self._assign(delta=delta)


class ClipNorm(Rule):
    """``ClipNorm(omega=10.0, p=2, *, throw=True)``: with ``n = norm(g, p)`` of this array alone (not
    a global norm), ``Δ = g min(omega / n, 1)``. A non-finite n raises ValueError unless
    ``throw=False``."""

    _hyper = ("omega", "p", "throw")

    def __init__(self, omega: float = 10.0, p: float = 2, *, throw: bool = True) -> None:
        self._assign(omega=omega, p=p, throw=throw)


class WeightDecay(Rule):
    """``WeightDecay(lambd=5e-4)``: ``Δ = g + lambd p`` (L2 regularisation, the gradient of
    ``lambd/2 ‖p‖²``); put it first in an OptimiserChain. ``lambd`` is Flux's ``lambda``."""

    _hyper = ("lambd",)

    def __init__(self, lambd: float = 5e-4) -> None:
        self._assign(lambd=lambd)


class SignDecay(Rule):
    """``SignDecay(lambd=1e-3)``: ``Δ = g + lambd sign(p)`` (L1 regularisation). ``lambd`` is
    Flux's ``lambda``."""

    _hyper = ("lambd",)

    def __init__(self, lambd: float = 1e-3) -> None:
        self._assign(lambd=lambd)


class OptimiserChain(Rule):
    """``OptimiserChain(*rules)``: applies the rules left to right, each to the step computed by the
    one before (``OptimiserChain(ClipGrad(1.0), Adam())`` clips, then runs Adam on the clipped
    gradient). State: one part per rule (``state.arrays()["1"]`` is the second rule's). An empty
    chain is ``Descent(1)``. ``adjust`` forwards to every rule in the chain."""

    def __init__(self, *rules: Rule) -> None:
        for rule in rules:
            if not isinstance(rule, Rule):
                raise TypeError(f"OptimiserChain: expected optimisation rules, got {rule!r}")
        self.rules = tuple(rules)

    @property
    def stateful(self):
        return any(rule.stateful for rule in self.rules)

    def _spec(self):
        return "OptimiserChain", [rule._spec() for rule in self.rules]

    def _set(self, eta, changes):
        for rule in self.rules:
            rule._set(eta, changes)
        self._push()

    def _adjusted(self, eta, changes):
        new = copy.copy(self)
        new.__dict__.pop("_states", None)
        new.rules = tuple(rule._adjusted(eta, changes) for rule in self.rules)
        return new

    def __repr__(self):
        return f"OptimiserChain({', '.join(map(repr, self.rules))})"


# Every rule class, for ``from pyflux.rules import *`` (a literal list, so that type checkers read it too;
# tests/test_typing.py checks that it names every rule).
__all__ = [
    "AMSGrad", "AdaDelta", "AdaGrad", "AdaMax", "Adam", "AdamW", "ClipGrad", "ClipNorm", "Descent", "Lion",
    "Momentum", "NAdam", "Nesterov", "OAdam", "OptimiserChain", "RAdam", "RMSProp", "SignDecay", "WeightDecay",
]
