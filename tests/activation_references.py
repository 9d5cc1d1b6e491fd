"""numpy references for the activations, written from NNlib's formulas (FLUX_API.md §6) in float64.

``REFERENCES[name] = (code, f, default)``: f(x, p) with p the parameter (None for activations
without one), code the one _core.dense takes. Stable forms are used only where the formula itself
gives them (σ by sign, softplus by sign); elsewhere the formula is written as it stands.
"""

import math

import numpy as np

from pyflux import _core

# The codes _core.dense takes, from the core's op table.
CODES = {entry["name"]: entry["code"] for entry in _core.op_table() if entry["family"] == "unary"}

SELU_LAMBDA = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772


def _f64(x):
    return np.asarray(x, np.float64)


def sigmoid(x, p=None):
    x = _f64(x)
    t = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + t), t / (1 + t))


def softplus(x, p=None):
    x = _f64(x)
    return np.where(x < 0, np.log1p(np.exp(np.minimum(x, 0))), x + np.log1p(np.exp(-np.maximum(x, 0))))


def hardsigmoid(x, p=None):
    return np.clip((_f64(x) + 3) / 6, 0, 1)


def gelu_tanh(x, p=None):
    x = _f64(x)
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def gelu_erf(x, p=None):
    x = _f64(x)
    return 0.5 * x * (1 + np.vectorize(math.erf, otypes=[np.float64])(x / math.sqrt(2)))


def elu(x, a):
    x = _f64(x)
    return np.where(x >= 0, x, a * np.expm1(np.minimum(x, 0)))


def celu(x, a):
    x = _f64(x)
    return np.where(x >= 0, x, a * np.expm1(np.minimum(x, 0) / a))


def selu(x, p=None):
    x = _f64(x)
    return SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))


def softshrink(x, lam):
    x = _f64(x)
    return np.where(x >= lam, x - lam, np.where(x <= -lam, x + lam, np.where(np.isnan(x), x, 0.0)))


REFERENCES = {
    "identity": (CODES["identity"], lambda x, p=None: _f64(x), None),
    "relu": (CODES["relu"], lambda x, p=None: np.where(_f64(x) < 0, 0.0, _f64(x)), None),
    "sigmoid": (CODES["sigmoid"], sigmoid, None),
    "tanh": (CODES["tanh"], lambda x, p=None: np.tanh(_f64(x)), None),
    "hardsigmoid": (CODES["hardsigmoid"], hardsigmoid, None),
    "hardtanh": (CODES["hardtanh"], lambda x, p=None: np.clip(_f64(x), -1, 1), None),
    "leakyrelu": (CODES["leakyrelu"], lambda x, a: np.where(_f64(x) > 0, _f64(x), a * _f64(x)), 0.01),
    "relu6": (CODES["relu6"], lambda x, p=None: np.clip(_f64(x), 0, 6), None),
    "elu": (CODES["elu"], elu, 1.0),
    "gelu": (CODES["gelu"], gelu_tanh, None),
    "gelu_erf": (CODES["gelu_erf"], gelu_erf, None),
    "swish": (CODES["swish"], lambda x, p=None: _f64(x) * sigmoid(x), None),
    "hardswish": (CODES["hardswish"], lambda x, p=None: _f64(x) * hardsigmoid(x), None),
    "selu": (CODES["selu"], selu, None),
    "celu": (CODES["celu"], celu, 1.0),
    "softplus": (CODES["softplus"], softplus, None),
    "softsign": (CODES["softsign"], lambda x, p=None: _f64(x) / (1 + np.abs(_f64(x))), None),
    "logsigmoid": (CODES["logsigmoid"], lambda x, p=None: -softplus(-_f64(x)), None),
    "logcosh": (CODES["logcosh"], lambda x, p=None: _f64(x) + softplus(-2 * _f64(x)) - math.log(2), None),
    "mish": (CODES["mish"], lambda x, p=None: _f64(x) * np.tanh(softplus(x)), None),
    "tanhshrink": (CODES["tanhshrink"], lambda x, p=None: _f64(x) - np.tanh(_f64(x)), None),
    "softshrink": (CODES["softshrink"], softshrink, 0.5),
    "lisht": (CODES["lisht"], lambda x, p=None: _f64(x) * np.tanh(_f64(x)), None),
}

PARAMETERISED = sorted(name for name, (_, _, default) in REFERENCES.items() if default is not None)


def reference(name, p=None):
    """The float64 reference of `name` as a function of x, with parameter p (default: Flux's)."""
    _, f, default = REFERENCES[name]
    p = default if p is None else p
    return lambda x: f(x, p)


# Where each activation's derivative jumps (softshrink's depend on λ); finite differences keep away.
_KINKS = {"relu": [0.0], "leakyrelu": [0.0], "relu6": [0.0, 6.0], "hardtanh": [-1.0, 1.0],
          "hardsigmoid": [-3.0, 3.0], "hardswish": [-3.0, 3.0], "elu": [0.0], "selu": [0.0], "celu": [0.0]}


def kinks(name, p=None):
    """The points where name's derivative is discontinuous, for parameter p (default: Flux's)."""
    if name == "softshrink":
        lam = REFERENCES[name][2] if p is None else p
        return [-lam, lam]
    return _KINKS.get(name, [])
