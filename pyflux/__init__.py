"""pyflux: Flux-style deep learning for Python on a C++ reverse-mode autodiff core."""

from pyflux._core import Tensor, __version__, exp, get_num_threads, log, logsoftmax, mean, set_num_threads, softmax, sum
from pyflux.activations import identity, relu, sigmoid, tanh, σ
from pyflux.gradient import Grads, Params, gradient, params, withgradient
from pyflux.initialise import glorot_uniform
from pyflux.layers import Chain, Dense
from pyflux.losses import crossentropy, logitcrossentropy, mse
from pyflux.optimise import Adam, Descent, Leaf, RMSProp, setup, update
from pyflux.param import Param, param
from pyflux.serialize import load, loadmodel, save, state
from pyflux.train import train

__all__ = [
    "Adam", "Chain", "Dense", "Descent", "Grads", "Leaf", "Param", "Params", "RMSProp", "Tensor", "__version__",
    "crossentropy", "exp", "get_num_threads", "glorot_uniform", "gradient", "identity", "load", "loadmodel", "log",
    "logitcrossentropy", "logsoftmax", "mean", "mse", "param", "params", "relu", "save", "set_num_threads", "setup",
    "sigmoid", "softmax", "state", "sum", "tanh", "train", "update", "withgradient", "σ",
]
