"""Activation functions. Each works on traced values, numpy arrays and Python numbers, and the
built-in ones are fused into Dense's forward pass."""

import numbers

import numpy as np

from pyflux import _core


class Activation:
    """A named elementwise function; ``code`` selects the fused kernel inside Dense."""

    def __init__(self, name, code, op, doc):
        self.name, self.code, self._op = name, code, op
        self.__doc__ = doc

    def __call__(self, x):
        if isinstance(x, numbers.Real):
            return float(self._op(np.float64(x)))
        return self._op(x)

    def __repr__(self):
        return self.name


def _identity(x):
    return x


identity = Activation("identity", 0, _identity, "identity(x) = x.")
relu = Activation("relu", 1, _core.relu, "relu(x) = max(0, x), with relu'(0) = 0.")
sigmoid = Activation("σ", 2, _core.sigmoid, "σ(x) = sigmoid(x) = 1 / (1 + exp(-x)). Flux prints it σ.")
σ = sigmoid
tanh = Activation("tanh", 3, _core.tanh, "tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)).")
