"""pyflux: Flux-style deep learning for Python on a C++ reverse-mode autodiff core."""

from pyflux import _core_check, _preload  # noqa: F401  (before anything imports _core)
from pyflux import datasets, losses
from pyflux._core import Tensor, __version__, exp, get_num_threads, log, logsoftmax, mean, set_num_threads, softmax, sum
from pyflux.activations import (
    celu, elu, gelu, gelu_erf, gelu_tanh, hardsigmoid, hardswish, hardtanh, hardσ, identity, leakyrelu, lisht,
    logcosh, logsigmoid, logσ, mish, relu, relu6, selu, sigmoid, softplus, softshrink, softsign, swish, tanh,
    tanhshrink, σ,
)
from pyflux.callbacks import throttle
from pyflux.data import DataLoader, flatten, onecold, onehot, onehotbatch
from pyflux.fit import History, accuracy, evaluate, fit, predict
from pyflux.gradient import Grads, Params, gradient, params, withgradient
from pyflux.initialise import (
    glorot_normal, glorot_uniform, kaiming_normal, kaiming_uniform, ones32, orthogonal, rand32, randn32,
    truncated_normal, zeros32,
)
from pyflux.layers import BatchNorm, Chain, Dense, Dropout, Embedding, LayerNorm, Parallel, Scale, SkipConnection
from pyflux.layers.show import compact
from pyflux.losses import (
    binary_focal_loss, binarycrossentropy, crossentropy, focal_loss, hinge_loss, huber_loss, kldivergence,
    label_smoothing, logitbinarycrossentropy, logitcrossentropy, mae, mse, msle, poisson_loss, squared_hinge_loss,
)
from pyflux.modes import testmode, trainmode
from pyflux import rules
from pyflux.optimise import Leaf, adjust, freeze, setup, thaw, update
from pyflux.rules import *  # noqa: F403  (every optimisation rule: Adam, Descent, ...)
from pyflux.param import Param, param
from pyflux.precision import f32, f64
from pyflux.random import seed
from pyflux.serialize import load, loadmodel, save, state
from pyflux.train import train
from pyflux.tree import trainables

__all__ = [
    "BatchNorm", "Chain", "DataLoader", "Dense", "Dropout", "Embedding", "Grads", "History", "LayerNorm", "Leaf",
    "Parallel", "Param", "Params", "Scale", "SkipConnection", "Tensor", "__version__", "accuracy", "adjust",
    "binary_focal_loss", "binarycrossentropy", "celu", "compact", "crossentropy", "datasets", "elu", "evaluate",
    "exp", "f32", "f64", "fit", "flatten", "focal_loss", "freeze", "gelu", "gelu_erf", "gelu_tanh",
    "get_num_threads", "glorot_normal", "glorot_uniform", "gradient", "hardsigmoid", "hardswish", "hardtanh",
    "hardσ", "hinge_loss", "huber_loss", "identity", "kaiming_normal", "kaiming_uniform", "kldivergence",
    "label_smoothing", "leakyrelu", "lisht", "load", "loadmodel", "log", "logcosh", "logitbinarycrossentropy",
    "logitcrossentropy", "logsigmoid", "logsoftmax", "logσ", "losses", "mae", "mean", "mish", "mse", "msle",
    "onecold", "onehot", "onehotbatch", "ones32", "orthogonal", "param", "params", "poisson_loss", "predict",
    "rand32", "randn32", "relu", "relu6", "save", "seed", "selu", "set_num_threads", "setup", "sigmoid", "softmax",
    "softplus", "softshrink", "softsign", "squared_hinge_loss", "state", "sum", "swish", "tanh", "tanhshrink",
    "testmode", "thaw", "throttle", "train", "trainables", "trainmode", "truncated_normal", "update",
    "withgradient", "zeros32", "σ",
]
__all__ += rules.__all__
