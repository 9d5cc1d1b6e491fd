"""Activation functions with NNlib's formulas, defaults and kink conventions. Each works on traced
values, numpy arrays and Python numbers (giving a float), and each is fused into Dense's forward
pass. Names print as Flux 0.16 prints them (``σ``, ``hardσ``, ``logσ``, ``gelu_tanh``); the ASCII
names ``sigmoid``, ``hardsigmoid``, ``logsigmoid`` (and ``gelu_tanh`` for ``gelu``) are the same
objects."""

import numbers

import numpy as np

from pyflux import _core


class Activation:
    """A named elementwise function. ``code`` selects its kernel inside Dense's fused pass, and
    ``param`` is the parameter that pass uses (the default; None for activations without one)."""

    def __init__(self, name, code, op, doc, param=None):
        self.name, self.code, self.param, self._op = name, code, param, op
        self.__doc__ = doc

    def __call__(self, x, *args, **kwargs):
        if isinstance(x, numbers.Real):
            return float(self._op(np.float64(x), *args, **kwargs))
        return self._op(x, *args, **kwargs)

    def __repr__(self):
        return self.name


def _identity(x):
    return x


def _with_param(op, keyword):
    """Exposes op(x, param) with the parameter's Flux name (a, α, λ) as the keyword."""

    def call(x, *args, **kwargs):
        if keyword in kwargs:
            kwargs = {**kwargs}
            args = (*args, kwargs.pop(keyword))
        return op(x, *args, **kwargs)

    return call


identity = Activation("identity", 0, _identity, "identity(x) = x.")

relu = Activation("relu", 1, _core.relu, """relu(x) = max(0, x)

Computed as ``x < 0 ? 0 : x`` (NaN passes through); relu'(0) = 0, as in NNlib.""")

σ = sigmoid = Activation("σ", 2, _core.sigmoid, """σ(x) = sigmoid(x) = 1 / (1 + exp(-x))

Computed without overflow (``t = exp(-|x|)``, then ``1 / (1 + t)`` or ``t / (1 + t)`` by sign), so
σ(±1000) is 1 or 0. ``sigmoid`` is the same object; Flux prints it ``σ``.""")

tanh = Activation("tanh", 3, _core.tanh, """tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))

Dense uses the exact tanh (Flux substitutes ``tanh_fast``, within a few eps of it).""")

hardσ = hardsigmoid = Activation("hardσ", 4, _core.hardsigmoid, """hardσ(x) = clamp((x + 3) / 6, 0, 1)

The PyTorch convention that NNlib follows. The derivative is 1/6 on the open interval (-3, 3) and 0
elsewhere, the ends included. ``hardsigmoid`` is the same object; Flux prints it ``hardσ``.""")

hardtanh = Activation("hardtanh", 5, _core.hardtanh, """hardtanh(x) = clamp(x, -1, 1)

The derivative is 1 only on the open interval (-1, 1).""")

leakyrelu = Activation("leakyrelu", 6, _with_param(_core.leakyrelu, "a"), """leakyrelu(x, a=0.01) = x > 0 ? x : a * x

leakyrelu'(0) = a. The slope a must be >= 0 (the derivative is read from the output's sign). As a
Dense activation it uses a = 0.01; ``leakyrelu(x, 0.2)`` gives another slope.""", param=0.01)

relu6 = Activation("relu6", 7, _core.relu6, """relu6(x) = clamp(x, 0, 6)

The derivative is 1 only on the open interval (0, 6).""")

elu = Activation("elu", 8, _with_param(_core.elu, "α"), """elu(x, α=1) = x >= 0 ? x : α * (exp(x) - 1)

α must be >= 0. The derivative at 0 is α (NNlib's rule, from the output: 1 where elu(x) > 0, else
elu(x) + α). As a Dense activation it uses α = 1.""", param=1.0)

gelu = gelu_tanh = Activation("gelu_tanh", 9, _core.gelu,
                               """gelu(x) = 0.5 * x * (1 + tanh(√(2/π) * (x + 0.044715 * x^3)))

The tanh approximation of GELU, which is what Flux's ``gelu`` is; ``gelu_tanh`` is the same object
and ``gelu_erf`` the exact form. It prints ``gelu_tanh``, as Flux 0.16 does with current NNlib
(NNlib releases before ``gelu_tanh`` existed printed ``gelu``). Evaluated as the equal
``x * σ(2√(2/π) * (x + 0.044715 * x^3))``, which avoids cancellation for negative x.""")

gelu_erf = Activation("gelu_erf", 10, _core.gelu_erf, """gelu_erf(x) = 0.5 * x * (1 + erf(x / √2))

The exact GELU, x times the standard normal CDF.""")

swish = Activation("swish", 11, _core.swish, "swish(x) = x * σ(x)")

hardswish = Activation("hardswish", 12, _core.hardswish, """hardswish(x) = x * hardσ(x)

The derivative follows NNlib at the kinks: 0 below -3, 1 above 3, and x/3 + 1/2 on [-3, 3].""")

selu = Activation("selu", 13, _core.selu, """selu(x) = λ * (x > 0 ? x : α * (exp(x) - 1))

λ = 1.0507009873554805, α = 1.6732632423543772 (self-normalising constants). selu'(0) = λα.""")

celu = Activation("celu", 14, _with_param(_core.celu, "α"), """celu(x, α=1) = x >= 0 ? x : α * (exp(x / α) - 1)

α must be > 0; celu'(0) = 1. As a Dense activation it uses α = 1.""", param=1.0)

softplus = Activation("softplus", 15, _core.softplus, """softplus(x) = log(1 + exp(x))

Computed stably as ``x < 0 ? log1p(exp(x)) : x + log1p(exp(-x))``; softplus(1000) = 1000.""")

softsign = Activation("softsign", 16, _core.softsign, "softsign(x) = x / (1 + |x|)")

logσ = logsigmoid = Activation("logσ", 17, _core.logsigmoid, """logσ(x) = log(σ(x)) = -softplus(-x)

Finite for all finite x (logσ(-1000) = -1000). ``logsigmoid`` is the same object; Flux prints it
``logσ``.""")

logcosh = Activation("logcosh", 18, _core.logcosh, """logcosh(x) = log(cosh(x)) = x + softplus(-2x) - log(2)

Computed in the second form, so it does not overflow.""")

mish = Activation("mish", 19, _core.mish, "mish(x) = x * tanh(softplus(x))")

tanhshrink = Activation("tanhshrink", 20, _core.tanhshrink, "tanhshrink(x) = x - tanh(x)")

softshrink = Activation("softshrink", 21, _with_param(_core.softshrink, "λ"),
                        """softshrink(x, λ=0.5) = x >= λ ? x - λ : (x <= -λ ? x + λ : 0)

λ must be >= 0. The derivative is 1 where the output is nonzero and 0 on [-λ, λ]. As a Dense
activation it uses λ = 0.5.""", param=0.5)

lisht = Activation("lisht", 22, _core.lisht, "lisht(x) = x * tanh(x)")
