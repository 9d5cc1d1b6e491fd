"""Printing models (pyflux/layers/show.py): golden strings from Flux 0.16's rules (shared/FLUX_API.md §2).

"Doc-verbatim" expectations are copied from Flux's documentation; the others are worked out by hand
from the same rules: the ``#`` at column 20 (top level) or 40 (nested), at least 2 spaces before it,
``_``-grouped parameter counts, a footer only for more than 2 trainable arrays, and the size that
Julia's ``summarysize`` gives (array headers 32 + 8·ndim bytes, Dense struct 16 bytes, Chain the sum
of its layers, mutable BatchNorm 8 + 56).
"""

import doctest
import importlib

import numpy as np
import pytest

import pyflux as flux
from pyflux.layers import show


def softmax(x):
    """Stands in for flux.softmax, which pyflux does not have yet; it prints by its __name__."""
    return x


def only(x):
    """Stands in for Julia's ``only``, the last layer of Flux's doc example."""
    return x[0]


class BatchNorm(show.Shown):
    """Stands in for a BatchNorm layer: trainable β, γ (Params) and running μ, σ² (numpy arrays)."""

    _fields = ("λ", "β", "γ", "μ", "σ2")
    _mutable = True
    _struct_bytes = 56  # Flux's BatchNorm is a mutable struct of 56 bytes

    def __init__(self, channels, λ=flux.identity):
        self.λ = λ
        self.β = flux.Param(np.zeros(channels, np.float32))
        self.γ = flux.Param(np.ones(channels, np.float32))
        self.μ = np.zeros(channels, np.float32)
        self.σ2 = np.ones(channels, np.float32)

    def __call__(self, x):
        return x

    def _compact(self):
        act = "" if self.λ is flux.identity else f", {show.name(self.λ)}"
        return f"BatchNorm({self.β.shape[0]}{act})"


class Named(show.Shown):
    """A container keeping its layers in a dict, like Flux's named ``Chain(enc = ..., dec = ...)``."""

    _fields = ("layers",)

    def __init__(self, **layers):
        self.layers = layers


class Plain:
    """A layer class that does not derive from show.Shown and has no __repr__ of its own."""

    _fields = ("inner",)

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, x):
        return self.inner(x)


class OwnRepr(Plain):
    """A layer class with a one-line __repr__ of its own."""

    def __repr__(self):
        return "OwnRepr(...)"


# --- compact form: compact(x), format(x, "c") --------------------------------------------------------------------------

@pytest.mark.parametrize("make, text", [
    (lambda: flux.Dense(5, 2), "Dense(5 => 2)"),
    (lambda: flux.Dense(5, 2, flux.tanh), "Dense(5 => 2, tanh)"),
    (lambda: flux.Dense(2, 3, flux.sigmoid), "Dense(2 => 3, σ)"),
    (lambda: flux.Dense(5, 2, bias=False), "Dense(5 => 2; bias=false)"),
    (lambda: flux.Dense(5, 2, lambda x: x), "Dense(5 => 2, <lambda>)"),
    (lambda: flux.Chain(flux.Dense(2, 3, flux.σ), flux.Dense(3, 2)), "Chain(Dense(2 => 3, σ), Dense(3 => 2))"),
    (lambda: flux.Chain(flux.Dense(784, 40, flux.relu), flux.Dense(40, 10), softmax),
     "Chain(Dense(784 => 40, relu), Dense(40 => 10), softmax)"),
    (lambda: flux.Chain(flux.Chain(flux.relu, softmax), lambda x: x), "Chain(Chain(relu, softmax), <lambda>)"),
    (lambda: flux.Chain(), "Chain()"),
    (lambda: Named(enc=flux.Chain(flux.Dense(2, 5)), dec=flux.Dense(5, 2)),
     "Named(enc = Chain(Dense(2 => 5)), dec = Dense(5 => 2))"),
])
def test_compact(make, text):
    x = make()
    assert flux.compact(x) == format(x, "c") == f"{x:c}" == text


def test_repr_str_and_format_give_the_expanded_form(capsys):
    model = flux.Chain(flux.Dense(2, 3, flux.relu), flux.Dense(3, 2), flux.Dense(2, 1))
    expected = show.expanded(model)
    assert expected.startswith("Chain(\n") and expected.endswith("# Total: 6 arrays, 20 parameters, 392 bytes.")
    assert repr(model) == str(model) == format(model) == f"{model}" == expected
    d = flux.Dense(5, 2)
    print(d, [d])
    assert capsys.readouterr().out == "Dense(5 => 2)       # 12 parameters [Dense(5 => 2)       # 12 parameters]\n"


def test_an_unknown_format_spec_is_an_error():
    with pytest.raises(ValueError, match="format spec 'x' for Dense: use 'c'"):
        format(flux.Dense(2, 3), "x")


def test_ipython_shows_the_expanded_form():
    pretty = pytest.importorskip("IPython.lib.pretty")
    model = flux.Chain(flux.Dense(2, 3), flux.relu)
    assert pretty.pretty(model) == repr(model)
    assert pretty.pretty([model]).startswith("[Chain(\n")


def test_layer_classes_outside_pyflux_print_inside_models():
    assert flux.compact(flux.Chain(Plain(flux.Dense(2, 3)), OwnRepr(flux.relu))) == \
        "Chain(Plain(Dense(2 => 3)), OwnRepr(...))"
    assert str(flux.Chain(Plain(flux.Dense(2, 3)))) == """\
Chain(
  Plain(
    Dense(2 => 3),                      # 9 parameters
  ),
)"""


# --- expanded form: a single layer ---------------------------------------------------------------

@pytest.mark.parametrize("make, text", [
    # doc-verbatim (Flux's Dense docstring)
    (lambda: flux.Dense(5, 2), "Dense(5 => 2)       # 12 parameters"),
    (lambda: flux.Dense(5, 2, flux.tanh, bias=False), "Dense(5 => 2, tanh; bias=false)  # 10 parameters"),
    (lambda: flux.Dense(5, 2, bias=False), "Dense(5 => 2; bias=false)  # 10 parameters"),
    (lambda: flux.Dense(2, 3, flux.σ), "Dense(2 => 3, σ)    # 9 parameters"),
    (lambda: flux.Dense(np.ones((2, 3)), True, flux.relu), "Dense(3 => 2, relu)  # 8 parameters"),
    (lambda: BatchNorm(3), "BatchNorm(3)        # 6 parameters, plus 6 non-trainable"),
])
def test_one_layer(make, text):
    assert str(make()) == text


@pytest.mark.parametrize("weight, flag", [
    (np.zeros((2, 3)), "  (all zero)"),
    (np.array([[1.0, np.nan, 0], [0, 0, 0]]), "  (some NaN)"),
    (np.array([[1.0, np.inf, 0], [0, 0, 0]]), "  (some Inf)"),
    (np.array([[np.inf, np.nan, 0], [0, 0, 0]]), "  (some NaN)"),
    (np.ones((2, 3)), ""),
])
def test_value_flags(weight, flag):
    assert str(flux.Dense(weight)) == "Dense(3 => 2)       # 8 parameters" + flag


def test_long_lines_get_two_spaces():
    d = flux.Dense(10, 10, lambda x: x, bias=False)
    assert str(d) == "Dense(10 => 10, <lambda>; bias=false)  # 100 parameters"
    assert str(flux.Chain(d, d)) == """\
Chain(
  Dense(10 => 10, <lambda>; bias=false),  # 100 parameters
  Dense(10 => 10, <lambda>; bias=false),  # 100 parameters
)"""


def test_layers_without_parameters_get_no_comment():
    assert str(flux.Chain(flux.relu, softmax)) == "Chain(relu, softmax)"
    assert str(flux.Chain()) == "Chain()"


# --- expanded form: models -----------------------------------------------------------------------

def test_flux_docs_example():
    """Doc-verbatim, Flux's docs/src/guide/models/basics.md."""
    model = flux.Chain(flux.Dense(1, 20, flux.σ), flux.Dense(20, 1), only)
    assert str(model) == """\
Chain(
  Dense(1 => 20, σ),                    # 40 parameters
  Dense(20 => 1),                       # 21 parameters
  only,
)                   # Total: 4 arrays, 61 parameters, 452 bytes."""


def test_higham_network():
    model = flux.Chain(flux.Dense(2, 2, flux.σ), flux.Dense(2, 3, flux.σ), flux.Dense(3, 2, flux.σ))
    assert str(model) == """\
Chain(
  Dense(2 => 2, σ),                     # 6 parameters
  Dense(2 => 3, σ),                     # 9 parameters
  Dense(3 => 2, σ),                     # 8 parameters
)                   # Total: 6 arrays, 23 parameters, 404 bytes."""


def test_mnist_model():
    model = flux.Chain(flux.Dense(784, 40, flux.relu), flux.Dense(40, 10), softmax)
    # 127_448 bytes: 2 Dense structs (32) + 4 array headers (176) + 31_810 float32 values (127_240)
    assert str(model) == """\
Chain(
  Dense(784 => 40, relu),               # 31_400 parameters
  Dense(40 => 10),                      # 410 parameters
  softmax,
)                   # Total: 4 arrays, 31_810 parameters, 124.461 KiB."""


@pytest.mark.parametrize("dtype, size", [(np.float32, "276 bytes"), (np.float64, "344 bytes")])
def test_size_follows_dtype(dtype, size):
    rng = np.random.default_rng(0)
    model = flux.Chain(flux.Dense(rng.standard_normal((3, 2)).astype(dtype), True, flux.tanh),
                       flux.Dense(rng.standard_normal((2, 3)).astype(dtype)))
    assert str(model) == f"""\
Chain(
  Dense(2 => 3, tanh),                  # 9 parameters
  Dense(3 => 2),                        # 8 parameters
)                   # Total: 4 arrays, 17 parameters, {size}."""


def test_no_footer_for_two_arrays():
    assert str(flux.Chain(flux.Dense(1, 1))) == """\
Chain(
  Dense(1 => 1),                        # 2 parameters
)"""


def test_nested_chains():
    model = flux.Chain(flux.Chain(flux.Dense(2, 3, flux.relu), flux.Dense(3, 2)),
                       flux.Chain(flux.relu, softmax),
                       flux.Dense(2, 1, bias=False), lambda x: x)
    assert str(model) == """\
Chain(
  Chain(
    Dense(2 => 3, relu),                # 9 parameters
    Dense(3 => 2),                      # 8 parameters
  ),
  Chain(relu, softmax),
  Dense(2 => 1; bias=false),            # 2 parameters
  <lambda>,
)                   # Total: 5 arrays, 19 parameters, 348 bytes."""


def test_named_children():
    model = Named(enc=flux.Chain(flux.Dense(2, 5, flux.tanh)), dec=flux.Dense(5, 2))
    assert str(model) == """\
Named(
  enc = Chain(
    Dense(2 => 5, tanh),                # 15 parameters
  ),
  dec = Dense(5 => 2),                  # 12 parameters
)                   # Total: 4 arrays, 27 parameters, 316 bytes."""


def test_shared_layer_is_counted_once():
    d = flux.Dense(2, 2)
    assert str(flux.Chain(d, d)).endswith("\n)")  # 2 distinct arrays: no footer
    assert str(flux.Chain(d, d, flux.Dense(2, 1))).endswith("# Total: 4 arrays, 9 parameters, 260 bytes.")


def test_non_trainable_state_flux_docs_example():
    """Doc-verbatim, Flux's ``modules`` docstring (src/utils.jl)."""
    model = flux.Chain(flux.Chain(flux.Dense(784, 64), BatchNorm(64, flux.relu)), flux.Dense(64, 10))
    assert str(model) == """\
Chain(
  Chain(
    Dense(784 => 64),                   # 50_240 parameters
    BatchNorm(64, relu),                # 128 parameters, plus 128
  ),
  Dense(64 => 10),                      # 650 parameters
)         # Total: 6 trainable arrays, 51_018 parameters,
          # plus 2 non-trainable, 128 parameters, summarysize 200.211 KiB."""


def test_non_trainable_state_quickstart_model():
    model = flux.Chain(flux.Dense(2, 3, flux.tanh), BatchNorm(3), flux.Dense(3, 2))
    assert str(model) == """\
Chain(
  Dense(2 => 3, tanh),                  # 9 parameters
  BatchNorm(3),                         # 6 parameters, plus 6
  Dense(3 => 2),                        # 8 parameters
)         # Total: 6 trainable arrays, 23 parameters,
          # plus 2 non-trainable, 6 parameters, summarysize 548 bytes."""


def test_printing_while_gradient_traces():
    model = flux.Chain(flux.Dense(2, 3, flux.relu), flux.Dense(3, 1))
    texts = []

    def loss(m):
        texts.append(str(m))
        return flux.sum(m(np.ones(2, np.float32)))

    flux.gradient(loss, model)
    assert texts == [str(model)]


# --- sizes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, text", [
    (0, "0 bytes"), (1, "1 byte"), (344, "344 bytes"), (1024, "1024 bytes"), (1025, "1.001 KiB"),
    (205016, "200.211 KiB"), (1024 ** 2, "1024.000 KiB"), (3 * 1024 ** 3, "3.000 GiB"),
])
def test_format_bytes(n, text):
    assert show.format_bytes(n) == text


def test_summarysize_of_flux_docs_model():
    """Flux's src/functor.jl docstring prints this model's size as 6.211 MiB."""
    model = flux.Chain(flux.Dense(784, 2048, flux.relu), flux.Dense(2048, 10))
    assert show.summarysize(model) == 32 + 176 + 4 * (784 * 2048 + 2048 + 2048 * 10 + 10)
    assert show.format_bytes(show.summarysize(model)) == "6.211 MiB"


@pytest.mark.parametrize("module", ["basic", "dataflow", "normalise"])
def test_the_layers_docstring_examples(module):
    failed, tried = doctest.testmod(importlib.import_module(f"pyflux.layers.{module}"))
    assert tried > 0 and failed == 0
