"""Runs a batch of API calls described as JSON (written by test_fuzz_api.py) in this process.

Each call may raise any Python exception (hostile input is expected to be refused); what must not
happen is a crash, a hang, or a sanitizer report, which the parent test sees as a failed process.
Usage: python fuzz_calls.py '<json list of calls>'
"""

import json
import operator
import os
import sys
import tempfile
import warnings

import numpy as np

import pyflux as flux

_DTYPES = {"f32": np.float32, "f64": np.float64, "i64": np.int64, "bool": np.bool_, "c64": np.complex64,
           "f16": np.float16, "u8": np.uint8}


def _array(shape, dtype, layout, seed):
    rng = np.random.default_rng(seed)
    base_shape = list(shape)
    if layout == "strided" and base_shape:
        base_shape[0] *= 2
    arr = (rng.standard_normal(base_shape) * 3).astype(_DTYPES[dtype])
    if layout == "transposed":
        arr = np.ascontiguousarray(arr.T).T if arr.ndim > 1 else arr
    elif layout == "strided" and arr.ndim:
        arr = arr[::2]
    elif layout == "unaligned" and arr.size:
        raw = np.zeros(arr.nbytes + 1, np.uint8)
        arr = np.frombuffer(raw.data, arr.dtype, arr.size, offset=1).reshape(arr.shape)
    elif layout == "readonly":
        arr.flags.writeable = False
    return arr


def build(spec):
    """A Python value from its description: arrays, params, numbers, and deliberately wrong types."""
    kind = spec[0]
    if kind == "array":
        return _array(*spec[1:])
    if kind == "param":
        return flux.param(_array(*spec[1:]).astype(np.float32 if spec[2] != "f64" else np.float64))
    if kind == "tensor":
        return flux.Tensor(_array(*spec[1:]))
    if kind == "value":
        return spec[1]
    if kind == "tuple":
        return tuple(build(s) for s in spec[1])
    if kind == "list":
        return [build(s) for s in spec[1]]
    if kind == "bigint":
        return int(spec[1])
    if kind == "layer":
        return LAYERS[spec[1]](*(build(s) for s in spec[2]))
    raise ValueError(kind)


def _save_load(model, other):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.npz")
        flux.save(path, model)
        return flux.load(path, other)


def _step(rule, model, x):
    state = flux.setup(rule, model)
    grads = flux.gradient(lambda m: flux.sum(m(x)), model)
    flux.update(state, model, grads[0])


def _captured(rule, model, x, y):
    """Captured training of model on items made of x and y: a repeated item, the rows of x and y
    (given twice, as epochs do), and their zip; each may be refused."""
    state = flux.setup(rule, model)

    def loss(m, a, b):
        return flux.mse(m(a), b)

    makers = [lambda: [(x, y)] * 3, lambda: rows, lambda: rows, lambda: zip(x, y), lambda: list(x)]
    try:
        rows = list(zip(x, y))
    except TypeError:
        rows = [(x, y)]
    for make in makers:
        try:
            flux.train(loss, model, make(), state, capture=True)
        except Exception:  # noqa: BLE001 - refusing bad input with any exception is fine here
            pass


LAYERS = {
    "Dense": flux.Dense, "Scale": flux.Scale, "BatchNorm": flux.BatchNorm, "LayerNorm": flux.LayerNorm,
    "Embedding": flux.Embedding, "Dropout": flux.Dropout,
    "Chain": lambda *ls: flux.Chain(*ls),
}

RULES = [flux.Descent, flux.Adam, flux.Momentum, flux.RMSProp, flux.AdaGrad, flux.Lion, flux.AdamW, flux.ClipNorm,
         flux.WeightDecay, flux.SignDecay, flux.NAdam]

UNARY = ["relu", "sigmoid", "tanh", "exp", "log", "softplus", "gelu", "swish", "elu", "leakyrelu", "celu",
         "softshrink", "selu", "mish", "hardtanh", "logsigmoid", "softsign", "relu6", "lisht", "tanhshrink",
         "logcosh", "hardsigmoid", "hardswish", "gelu_erf", "identity", "flatten"]
REDUCE = ["sum", "mean", "softmax", "logsoftmax", "max", "min", "prod", "logsumexp", "var", "std"]
LOSSES = ["mse", "mae", "msle", "huber_loss", "poisson_loss", "crossentropy", "logitcrossentropy",
          "binarycrossentropy", "logitbinarycrossentropy", "kldivergence", "focal_loss", "binary_focal_loss",
          "hinge_loss", "squared_hinge_loss"]
BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
          "pow": operator.pow, "matmul": operator.matmul, "xlogy": flux.xlogy, "maximum": flux.maximum}
# Functions of an array and two more arguments (indices, a second array, an axis), the array first.
MULTI = {"where": lambda x, c, b: flux.where(c, x, b), "cat": lambda x, b, d: flux.cat([x, b, x, b, x], d),
         "vcat": lambda x, b, c: flux.vcat(x, b, c), "hcat": lambda x, b, c: flux.hcat(x, b, c),
         "stack": lambda x, b, d: flux.stack([x, b], d), "gather": lambda x, i, d: flux.gather(x, i, d),
         "reduce_dims": lambda x, d, k: flux.max(x, d, keepdims=k)}


def call(kind, name, args):
    """Runs one call; `traced` variants run the same call inside gradient."""
    values = [build(a) for a in args]
    if kind == "unary":
        return getattr(flux, name)(*values)
    if kind == "reduce":
        return getattr(flux, name)(*values)
    if kind == "binary":
        if not any(isinstance(v, (np.ndarray, flux.Tensor)) for v in values):
            return None  # plain Python numbers: `2**62 ** 2**62` would only test the interpreter's patience
        return BINARY[name](*values)
    if kind == "loss":
        return getattr(flux, name)(*values)
    if kind == "multi":
        return MULTI[name](*values)
    if kind == "method":
        obj, *rest = values
        return getattr(obj, name)(*rest)
    if kind == "index":
        return values[0][values[1]]
    if kind == "traced":
        op = {**{n: getattr(flux, n) for n in UNARY + REDUCE + LOSSES}, **BINARY, **MULTI,
              "reshape": lambda x, *s: x.reshape(*s), "index": lambda x, k: x[k], "T": lambda x: x.T,
              "item": lambda x: x.item(), "float": float, "len": len}[name]
        return flux.gradient(lambda x: flux.sum(op(x, *values[1:])), values[0])
    if kind == "layer":
        layer = values[0]
        return layer(values[1]) if len(values) > 1 else layer
    if kind == "train":
        return _step(RULES[int(name) % len(RULES)](), values[0], values[1])
    if kind == "capture":
        return _captured(RULES[int(name) % len(RULES)](), *values)
    if kind == "data":
        if name == "onehotbatch":
            return flux.onehotbatch(*values)
        if name == "onecold":
            return flux.onecold(*values)
        if name == "label_smoothing":
            return flux.label_smoothing(*values)
        return list(flux.DataLoader(*values))
    if kind == "save":
        return _save_load(values[0], values[1])
    if kind == "tape":
        t = flux.Tensor.__new__(flux.Tensor)
        tape = flux._core.Tape()
        tape.watch(t)
        return t.shape, len(t), t + 1, np.asarray(t)
    raise ValueError(kind)


def main():
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    for kind, name, args in json.loads(sys.argv[1]):
        try:
            call(kind, name, args)
        except Exception:  # noqa: BLE001 - refusing bad input with any exception is fine here
            pass
    print("done")


if __name__ == "__main__":
    main()
