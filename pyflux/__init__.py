"""pyflux: Flux-style deep learning for Python on a C++ reverse-mode autodiff core."""

from pyflux import _core_check, _preload  # noqa: F401  (before anything imports _core)
from pyflux import datasets, losses
from pyflux._core import Tensor, __version__, exp, get_num_threads, log, logsoftmax, mean, set_num_threads, softmax, sum
from pyflux._core import get_zero_subnormals, set_zero_subnormals
from pyflux._core import abs, cos, exp2, expm1, log1p, log2, maximum, minimum, sign, sin, sqrt, square, tan
from pyflux._core import gather, logsumexp, max, min, prod, where, xlogx, xlogy
from pyflux import activations
from pyflux.activations import *  # noqa: F403  (every activation of the core's op table)
from pyflux.callbacks import throttle
from pyflux.data import DataLoader, flatten, onecold, onehot, onehotbatch
from pyflux.fit import History, accuracy, evaluate, fit, predict
from pyflux.gradient import Grads, Params, gradient, params, withgradient
from pyflux.mathops import clamp
from pyflux.mathops import cat, hcat, stack, std, var, vcat
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

__all__ = activations.__all__ + [
    "abs", "clamp", "cos", "exp2", "expm1", "log1p", "log2", "maximum", "minimum", "sign", "sin", "sqrt", "square",
    "tan",
    "logsumexp", "max", "min", "prod", "std", "var", "where", "xlogx", "xlogy", "cat", "gather", "hcat", "stack", "vcat",
    "BatchNorm", "Chain", "DataLoader", "Dense", "Dropout", "Embedding", "Grads", "History", "LayerNorm", "Leaf",
    "Parallel", "Param", "Params", "Scale", "SkipConnection", "Tensor", "__version__", "accuracy", "adjust",
    "binary_focal_loss", "binarycrossentropy", "compact", "crossentropy", "datasets", "evaluate", "exp", "f32",
    "f64", "fit", "flatten", "focal_loss", "freeze", "get_num_threads", "get_zero_subnormals", "glorot_normal", "glorot_uniform",
    "gradient", "hinge_loss", "huber_loss", "kaiming_normal", "kaiming_uniform", "kldivergence", "label_smoothing",
    "load", "loadmodel", "log", "logitbinarycrossentropy", "logitcrossentropy", "logsoftmax", "losses", "mae",
    "mean", "mse", "msle", "onecold", "onehot", "onehotbatch", "ones32", "orthogonal", "param", "params",
    "poisson_loss", "predict", "rand32", "randn32", "save", "seed", "set_num_threads", "set_zero_subnormals", "setup", "softmax",
    "squared_hinge_loss", "state", "sum", "testmode", "thaw", "throttle", "train", "trainables", "trainmode",
    "truncated_normal", "update", "withgradient", "zeros32",
]
__all__ += rules.__all__
