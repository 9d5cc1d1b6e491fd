"""pyflux: Flux-style deep learning for Python on a C++ reverse-mode autodiff core."""

from pyflux._core import Tensor, __version__, exp, get_num_threads, log, mean, set_num_threads, sum
from pyflux.activations import identity, relu, sigmoid, tanh, σ
from pyflux.gradient import Grads, Params, gradient, params, withgradient
from pyflux.initialise import glorot_uniform
from pyflux.layers import Chain, Dense
from pyflux.losses import mse
from pyflux.optimise import Descent, Leaf, setup, update
from pyflux.param import Param, param
from pyflux.train import train

__all__ = [
    "Chain", "Dense", "Descent", "Grads", "Leaf", "Param", "Params", "Tensor", "__version__", "exp", "get_num_threads",
    "glorot_uniform", "gradient", "identity", "log", "mean", "mse", "param", "params", "relu", "set_num_threads",
    "setup", "sigmoid", "sum", "tanh", "train", "update", "withgradient", "σ",
]
