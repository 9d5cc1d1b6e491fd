"""Optimisation rules (Optimisers.jl 0.4.8 as used by Flux 0.16): positional arguments in Flux's
order with Flux's defaults; ASCII keyword names ``eta``, ``rho``, ``beta``, ``epsilon``, and
``lambd`` for Flux's ``lambda`` (a Python keyword).

Each rule's step Δ is one fused C++ pass over the parameter and its state. ``apply(state, p, g)``
does ``p -= Δ`` in place; ``apply(state, p, g, out)`` writes Δ to ``out`` instead, which is how an
:class:`OptimiserChain` hands a transformed gradient to the next rule. ``t`` counts steps from 1.
"""

import copy
import math

import numpy as np

from pyflux import _core


def _check_eta(eta):
    if eta < 0:
        raise ValueError(f"the learning rate cannot be negative, got {eta}")
    return eta


def _zeros(p):
    return np.zeros(p.shape, dtype=p.dtype)


def _filled(p, value):
    return np.full(p.shape, value, dtype=p.dtype)


class Rule:
    """An optimisation rule: hyperparameters (named in ``_hyper``, in positional order) plus
    ``init(p) -> state`` and ``apply(state, p, g, out=None) -> state``."""

    stateful = False
    _hyper = ()
    _fixed = ()  # hyperparameters that adjust leaves alone

    def init(self, p):
        return None

    def apply(self, state, p, g, out=None):
        """One step: ``p -= Δ`` in place, or Δ written to ``out`` (p untouched). Returns the state."""
        raise NotImplementedError

    def transform(self, state, p, g):
        """``(state, Δ)`` with Δ in a new array; neither p nor g is changed."""
        out = np.empty(p.shape, dtype=p.dtype)
        return self.apply(state, p, g, out), out

    def _implicit_apply(self, p, g):
        """One step for p in the implicit style, where the rule keeps each parameter's state itself,
        keyed by identity (as Flux's old optimisers did)."""
        if not self.stateful:
            self.apply(self.init(p), p, g)
            return
        states = self.__dict__.setdefault("_states", {})
        entry = states.get(id(p))
        if entry is None or entry[0] is not p:
            entry = states[id(p)] = [p, self.init(p)]
        entry[1] = self.apply(entry[1], p, g)

    def _set(self, eta, changes):
        """Changes hyperparameters in place (see ``adjust``); unknown names are ignored."""
        if eta is not None and "eta" in self._hyper:
            self.eta = _check_eta(eta)
        for name, value in changes.items():
            if name in self._hyper and name not in self._fixed:
                if name == "eta":
                    _check_eta(value)
                setattr(self, name, tuple(value) if name == "beta" else value)

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

    def __init__(self, eta=0.1):
        self.eta = _check_eta(eta)

    def apply(self, state, p, g, out=None):
        _core.descent_update(p, g, self.eta, out)
        return state


class Momentum(Rule):
    """``Momentum(eta=0.01, rho=0.9)``: ``v = rho v + eta g``; ``Δ = v``. State v starts at 0."""

    stateful = True
    _hyper = ("eta", "rho")

    def __init__(self, eta=0.01, rho=0.9):
        self.eta, self.rho = _check_eta(eta), rho

    def init(self, p):
        return _zeros(p)

    def apply(self, state, p, g, out=None):
        _core.momentum_update(p, g, state, self.eta, self.rho, out)
        return state


class Nesterov(Rule):
    """``Nesterov(eta=0.001, rho=0.9)``: ``Δ = -rho² v + (1 + rho) eta g``, then
    ``v = rho v - eta g``. State v starts at 0."""

    stateful = True
    _hyper = ("eta", "rho")
    init = Momentum.init

    def __init__(self, eta=0.001, rho=0.9):
        self.eta, self.rho = _check_eta(eta), rho

    def apply(self, state, p, g, out=None):
        _core.nesterov_update(p, g, state, self.eta, self.rho, out)
        return state


class RMSProp(Rule):
    """``RMSProp(eta=0.001, rho=0.9, epsilon=1e-8, *, centred=False)`` (``centered`` also accepted).

    ``s = rho s + (1 - rho) g²``; centred also keeps ``a = rho a + (1 - rho) g``;
    ``Δ = eta g / (sqrt(s - a²) + epsilon)`` (``a = 0`` unless centred). State starts at zero.
    ``centred`` cannot be changed by ``adjust``.
    """

    stateful = True
    _hyper = ("eta", "rho", "epsilon", "centred")
    _fixed = ("centred",)

    def __init__(self, eta=0.001, rho=0.9, epsilon=1e-8, *, centred=False, centered=None):
        self.eta, self.rho, self.epsilon = _check_eta(eta), rho, epsilon
        self.centred = bool(centred if centered is None else centered)

    def init(self, p):
        return (_zeros(p), _zeros(p) if self.centred else None)

    def apply(self, state, p, g, out=None):
        s, a = state
        _core.rmsprop_update(p, g, s, a, self.eta, self.rho, self.epsilon, out)
        return state


class _AdamFamily(Rule):
    """``Name(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``. State: the moment arrays, then the
    powers ``[β1^t, β2^t]`` (starting at β) advanced after each step."""

    stateful = True
    _hyper = ("eta", "beta", "epsilon")
    _moments = 2  # how many arrays of state
    _kernel = None

    def __init__(self, eta=0.001, beta=(0.9, 0.999), epsilon=1e-8):
        self.eta, self.beta, self.epsilon = _check_eta(eta), tuple(beta), epsilon

    def init(self, p):
        return (*(_zeros(p) for _ in range(self._moments)), list(self.beta))

    def _advance(self, powers):
        powers[0] *= self.beta[0]
        powers[1] *= self.beta[1]

    def apply(self, state, p, g, out=None):
        *arrays, powers = state
        b1, b2 = self.beta
        type(self)._kernel(p, g, *arrays, self.eta, b1, b2, self.epsilon, powers[0], powers[1], out)
        self._advance(powers)
        return state


class Adam(_AdamFamily):
    """``Adam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``.

    ``m = β1 m + (1 - β1) g``; ``v = β2 v + (1 - β2) g²``;
    ``Δ = eta (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + epsilon)``.
    State: m and v start at zero, with the powers β^t kept per parameter.
    """

    _kernel = _core.adam_update


class NAdam(_AdamFamily):
    """``NAdam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``: m, v as Adam;
    ``Δ = eta (β1 m / (1 - β1 β1^t) + (1 - β1) g / (1 - β1^t)) / (sqrt(β2 v / (1 - β2^t)) + epsilon)``.
    State: m = v = 0 and the powers β^t."""

    _kernel = _core.nadam_update


class OAdam(_AdamFamily):
    """``OAdam(eta=0.001, beta=(0.5, 0.9), epsilon=1e-8)`` (optimistic Adam): m, v as Adam;
    ``term' = eta (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + epsilon)``; ``Δ = 2 term' - term``.
    State: m = v = term = 0 and the powers β^t."""

    _moments = 3
    _kernel = _core.oadam_update

    def __init__(self, eta=0.001, beta=(0.5, 0.9), epsilon=1e-8):
        super().__init__(eta, beta, epsilon)


class AdamW(_AdamFamily):
    """``AdamW(eta=0.001, beta=(0.9, 0.999), lambd=0.0, epsilon=1e-8, *, couple=True)``; ``lambd``
    is Flux's ``lambda``. With ``u`` Adam's step for eta = 1: ``couple=True``:
    ``Δ = eta (u + lambd p)``; ``couple=False``: ``Δ = eta u + lambd p``. State as Adam."""

    _hyper = ("eta", "beta", "lambd", "epsilon", "couple")

    def __init__(self, eta=0.001, beta=(0.9, 0.999), lambd=0.0, epsilon=1e-8, *, couple=True):
        super().__init__(eta, beta, epsilon)
        self.lambd, self.couple = lambd, bool(couple)

    def apply(self, state, p, g, out=None):
        m, v, powers = state
        b1, b2 = self.beta
        _core.adamw_update(p, g, m, v, self.eta, b1, b2, self.epsilon, powers[0], powers[1], self.lambd,
                           float(self.couple), out)
        self._advance(powers)
        return state


class RAdam(_AdamFamily):
    """``RAdam(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)`` (rectified Adam): m, v as Adam;
    ``ρ∞ = 2 / (1 - β2) - 1``, ``ρt = ρ∞ - 2 t β2^t / (1 - β2^t)``; if ``ρt > 4``:
    ``r = sqrt((ρt - 4)(ρt - 2) ρ∞ / ((ρ∞ - 4)(ρ∞ - 2) ρt))`` and
    ``Δ = eta r m̂ / (sqrt(v̂) + epsilon)``, else ``Δ = eta m̂``. State: m = v = 0, the powers β^t
    and the step count t (from 1)."""

    def init(self, p):
        return (_zeros(p), _zeros(p), list(self.beta), [1])

    def apply(self, state, p, g, out=None):
        m, v, powers, step = state
        b1, b2 = self.beta
        t = step[0]
        rho_inf = 2 / (1 - b2) - 1
        rho = rho_inf - 2 * t * powers[1] / (1 - powers[1])
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)) if rho > 4 else 0.0
        _core.radam_update(p, g, m, v, self.eta, b1, b2, self.epsilon, powers[0], powers[1], r, out)
        self._advance(powers)
        step[0] = t + 1
        return state


class AdaMax(_AdamFamily):
    """``AdaMax(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``: ``m = β1 m + (1 - β1) g``;
    ``u = max(β2 u, |g|)``; ``Δ = eta / (1 - β1^t) m / (u + epsilon)``. State: m = u = 0 and the
    powers β^t."""

    def apply(self, state, p, g, out=None):
        m, u, powers = state
        b1, b2 = self.beta
        _core.adamax_update(p, g, m, u, self.eta, b1, b2, self.epsilon, powers[0], out)
        self._advance(powers)
        return state


class AMSGrad(_AdamFamily):
    """``AMSGrad(eta=0.001, beta=(0.9, 0.999), epsilon=1e-8)``: m, v as Adam;
    ``v̂ = max(v̂, v)``; ``Δ = eta m / (sqrt(v̂) + epsilon)`` (no bias correction). State: m, v and v̂
    all start filled with epsilon."""

    def init(self, p):
        return tuple(_filled(p, self.epsilon) for _ in range(3))

    def apply(self, state, p, g, out=None):
        b1, b2 = self.beta
        _core.amsgrad_update(p, g, *state, self.eta, b1, b2, self.epsilon, out)
        return state


class AdaGrad(Rule):
    """``AdaGrad(eta=0.1, epsilon=1e-8)``: ``acc = acc + g²``; ``Δ = eta g / (sqrt(acc) + epsilon)``.
    State: acc starts filled with epsilon (not 0)."""

    stateful = True
    _hyper = ("eta", "epsilon")

    def __init__(self, eta=0.1, epsilon=1e-8):
        self.eta, self.epsilon = _check_eta(eta), epsilon

    def init(self, p):
        return _filled(p, self.epsilon)

    def apply(self, state, p, g, out=None):
        _core.adagrad_update(p, g, state, self.eta, self.epsilon, out)
        return state


class AdaDelta(Rule):
    """``AdaDelta(rho=0.9, epsilon=1e-8)``, no learning rate (``adjust(state, eta)`` leaves it alone):
    ``acc = rho acc + (1 - rho) g²``; ``Δ = g sqrt(Δacc + epsilon) / sqrt(acc + epsilon)``; then
    ``Δacc = rho Δacc + (1 - rho) Δ²``. State: acc = Δacc = 0."""

    stateful = True
    _hyper = ("rho", "epsilon")

    def __init__(self, rho=0.9, epsilon=1e-8):
        self.rho, self.epsilon = rho, epsilon

    def init(self, p):
        return (_zeros(p), _zeros(p))

    def apply(self, state, p, g, out=None):
        _core.adadelta_update(p, g, *state, self.rho, self.epsilon, out)
        return state


class Lion(Rule):
    """``Lion(eta=0.001, beta=(0.9, 0.999))``: ``m = β2 g + (1 - β2) m``;
    ``Δ = eta sign((β2 - β1) g + β1 m)``. State: m = 0."""

    stateful = True
    _hyper = ("eta", "beta")

    def __init__(self, eta=0.001, beta=(0.9, 0.999)):
        self.eta, self.beta = _check_eta(eta), tuple(beta)

    def init(self, p):
        return _zeros(p)

    def apply(self, state, p, g, out=None):
        _core.lion_update(p, g, state, self.eta, *self.beta, out)
        return state


# --- gradient transforms: stateless, usually placed before an update rule in an OptimiserChain ---

class ClipGrad(Rule):
    """``ClipGrad(delta=10.0)``: ``Δ = clamp(g, -delta, delta)``."""

    _hyper = ("delta",)

    def __init__(self, delta=10.0):
        self.delta = delta

    def apply(self, state, p, g, out=None):
        _core.clipgrad_update(p, g, self.delta, out)
        return state


class ClipNorm(Rule):
    """``ClipNorm(omega=10.0, p=2, *, throw=True)``: with ``n = norm(g, p)`` of this array alone (not
    a global norm), ``Δ = g min(omega / n, 1)``. A non-finite n raises ValueError unless
    ``throw=False``."""

    _hyper = ("omega", "p", "throw")

    def __init__(self, omega=10.0, p=2, *, throw=True):
        self.omega, self.p, self.throw = omega, p, bool(throw)

    def apply(self, state, p, g, out=None):
        _core.clipnorm_update(p, g, self.omega, self.p, self.throw, out)
        return state


class WeightDecay(Rule):
    """``WeightDecay(lambd=5e-4)``: ``Δ = g + lambd p`` (L2 regularisation, the gradient of
    ``lambd/2 ‖p‖²``); put it first in an OptimiserChain. ``lambd`` is Flux's ``lambda``."""

    _hyper = ("lambd",)

    def __init__(self, lambd=5e-4):
        self.lambd = lambd

    def apply(self, state, p, g, out=None):
        _core.weightdecay_update(p, g, self.lambd, out)
        return state


class SignDecay(Rule):
    """``SignDecay(lambd=1e-3)``: ``Δ = g + lambd sign(p)`` (L1 regularisation). ``lambd`` is
    Flux's ``lambda``."""

    _hyper = ("lambd",)

    def __init__(self, lambd=1e-3):
        self.lambd = lambd

    def apply(self, state, p, g, out=None):
        _core.signdecay_update(p, g, self.lambd, out)
        return state


class OptimiserChain(Rule):
    """``OptimiserChain(*rules)``: applies the rules left to right, each to the step computed by the
    one before (``OptimiserChain(ClipGrad(1.0), Adam())`` clips, then runs Adam on the clipped
    gradient). State: the tuple of the rules' states. An empty chain is ``Descent(1)``.
    ``adjust`` forwards to every rule in the chain."""

    def __init__(self, *rules):
        for rule in rules:
            if not isinstance(rule, Rule):
                raise TypeError(f"OptimiserChain: expected optimisation rules, got {rule!r}")
        self.rules = tuple(rules)

    @property
    def stateful(self):
        return any(rule.stateful for rule in self.rules)

    def init(self, p):
        return tuple(rule.init(p) for rule in self.rules)

    def apply(self, state, p, g, out=None):
        if not self.rules:
            _core.descent_update(p, g, 1.0, out)
            return state
        states = list(state)
        last = len(self.rules) - 1
        if last:
            # The caller's gradient is never written: the first rule's step goes to a scratch array
            # (or out), which each later rule then reads and overwrites in place.
            scratch = out if out is not None else np.empty(p.shape, dtype=p.dtype)
            for i in range(last):
                states[i] = self.rules[i].apply(states[i], p, g, scratch)
                g = scratch
        states[last] = self.rules[last].apply(states[last], p, g, out)
        return tuple(states)

    def _set(self, eta, changes):
        for rule in self.rules:
            rule._set(eta, changes)

    def _adjusted(self, eta, changes):
        new = copy.copy(self)
        new.__dict__.pop("_states", None)
        new.rules = tuple(rule._adjusted(eta, changes) for rule in self.rules)
        return new

    def __repr__(self):
        return f"OptimiserChain({', '.join(map(repr, self.rules))})"
