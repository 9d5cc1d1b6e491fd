"""Dense and Chain (pyflux/layers/basic.py)."""

import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from gradcheck import check_gradient
from strategies import ACTIVATION_REFERENCES, assert_forward_close

import pyflux as flux
from pyflux import _core
from pyflux.activations import Activation

ACTIVATIONS = {flux.identity: 0, flux.relu: 1, flux.sigmoid: 2, flux.tanh: 3}


def reference(layer, x, act=None):
    """numpy's σ(W x + b) in float64, for x of shape (in, batch...)."""
    W = np.asarray(layer.weight, np.float64)
    x = np.asarray(x, np.float64)
    z = np.tensordot(W, x, axes=(1, 0))
    if layer.bias is not False:
        z = z + np.asarray(layer.bias, np.float64).reshape((-1,) + (1,) * (x.ndim - 1))
    return (act or ACTIVATION_REFERENCES[ACTIVATIONS[layer.σ]])(z)


@pytest.fixture
def rng():
    return np.random.default_rng(42)


# --- construction --------------------------------------------------------------------------------

def test_sizes_constructor():
    d = flux.Dense(5, 2)
    assert d.weight.shape == (2, 5) and d.weight.dtype == np.float32 and isinstance(d.weight, flux.Param)
    assert d.bias.shape == (2,) and d.bias.dtype == np.float32 and not np.asarray(d.bias).any()
    assert d.σ is flux.identity
    assert np.asarray(d.weight).std() > 0


def test_pair_constructor_and_activation():
    d = flux.Dense((2, 3), flux.sigmoid)
    assert d.weight.shape == (3, 2) and d.σ is flux.sigmoid


def test_init_keyword(rng):
    d = flux.Dense(4, 3, init=lambda out, n_in: np.full((out, n_in), 0.5))
    np.testing.assert_array_equal(np.asarray(d.weight), np.full((3, 4), 0.5))
    a = flux.Dense(4, 3, init=flux.glorot_uniform(rng=np.random.default_rng(7)))
    b = flux.Dense(4, 3, init=flux.glorot_uniform(rng=np.random.default_rng(7)))
    np.testing.assert_array_equal(np.asarray(a.weight), np.asarray(b.weight))


def test_no_bias():
    d = flux.Dense(5, 2, bias=False)
    assert d.bias is False
    assert len(flux.params(d)) == 1
    x = np.ones(5, np.float32)
    np.testing.assert_allclose(d(x), np.asarray(d.weight) @ x, rtol=1e-5, atol=1e-6)  # float32 sums


def test_weight_constructor_positional_bias_and_activation():
    W = np.arange(6.0).reshape(3, 2)
    d = flux.Dense(W, np.array([1.0, 2.0, 3.0]), flux.relu)
    assert d.weight.dtype == np.float64 and d.weight.shape == (3, 2)
    np.testing.assert_array_equal(np.asarray(d.bias), [1.0, 2.0, 3.0])
    assert d.σ is flux.relu
    assert flux.Dense(W).bias.shape == (3,) and flux.Dense(W, False).bias is False
    assert flux.Dense(W, bias=False).bias is False


def test_weight_constructor_keeps_params_by_identity():
    W, b = flux.param(np.ones((2, 3), np.float32)), flux.param(np.zeros(2, np.float32))
    d = flux.Dense(W, b)
    assert d.weight is W and d.bias is b


def test_bias_converted_to_weight_dtype():
    d = flux.Dense(np.ones((2, 3), np.float32), np.array([1.0, 2.0]))
    assert d.bias.dtype == np.float32


@pytest.mark.parametrize("make", [lambda: flux.Dense(np.ones((3, 2)), np.ones(2)),
                                  lambda: flux.Dense(2, 3, bias=np.ones(4)),
                                  lambda: flux.Dense(2, 3, bias=np.ones((3, 1)))])
def test_wrong_bias_shape_raises(make):
    with pytest.raises(ValueError, match=r"expected bias of shape \(3,\), got shape \((2,|4,|3, 1)\)"):
        make()


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="matrix"):
        flux.Dense(np.ones(3))
    with pytest.raises(TypeError):
        flux.Dense(2, 3, "relu")
    with pytest.raises(TypeError):
        flux.Dense()


@pytest.mark.parametrize("layer, text", [
    (lambda: flux.Dense(5, 2), "Dense(5 => 2)"),
    (lambda: flux.Dense(5, 2, flux.relu), "Dense(5 => 2, relu)"),
    (lambda: flux.Dense(2, 3, flux.sigmoid), "Dense(2 => 3, σ)"),
    (lambda: flux.Dense(2, 3, flux.σ), "Dense(2 => 3, σ)"),
    (lambda: flux.Dense(5, 2, bias=False), "Dense(5 => 2; bias=false)"),
    (lambda: flux.Dense(5, 2, flux.tanh, bias=False), "Dense(5 => 2, tanh; bias=false)"),
    (lambda: flux.Dense(np.ones((4, 3))), "Dense(3 => 4)"),
    (lambda: flux.Chain(flux.Dense(2, 3, flux.sigmoid), flux.Dense(3, 2)), "Chain(Dense(2 => 3, σ), Dense(3 => 2))"),
    (lambda: flux.Chain(flux.Chain(flux.Dense(1, 1)), flux.relu), "Chain(Chain(Dense(1 => 1)), relu)"),
])
def test_compact_form(layer, text):
    assert flux.compact(layer()) == text


# --- forward pass --------------------------------------------------------------------------------

@pytest.mark.parametrize("act", list(ACTIVATIONS), ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [(), (4,), (3, 2)], ids=["vector", "matrix", "extra-dims"])
def test_forward_matches_numpy(rng, act, dtype, batch):
    d = flux.Dense(rng.standard_normal((3, 5)).astype(dtype), rng.standard_normal(3), act)
    x = rng.standard_normal((5, *batch)).astype(dtype)
    y = d(x)
    assert type(y) is np.ndarray and y.shape == (3, *batch)
    assert_forward_close(y, reference(d, x), dtype)


def test_forward_without_bias(rng):
    d = flux.Dense(rng.standard_normal((2, 4)), False, flux.tanh)
    x = rng.standard_normal((4, 3))
    assert_forward_close(d(x), reference(d, x), np.float64)


def test_batch_first_input_passed_transposed(rng):
    d = flux.Dense(5, 3, flux.sigmoid)
    for shape in [(7, 5), (2, 6, 5)]:
        X = rng.standard_normal(shape).astype(np.float32)
        assert X.T.flags.f_contiguous and not X.T.flags.c_contiguous
        np.testing.assert_allclose(d(X.T), d(np.ascontiguousarray(X.T)), rtol=1e-6, atol=1e-7)
        assert_forward_close(d(X.T), reference(d, X.T), np.float32)


def test_custom_activation_is_applied_after_the_affine_map(rng):
    d = flux.Dense(rng.standard_normal((3, 4)), rng.standard_normal(3), lambda z: z * z - 1)
    x = rng.standard_normal((4, 2))
    assert_forward_close(d(x), reference(d, x, act=lambda z: z * z - 1), np.float64)
    assert flux.compact(d) == "Dense(4 => 3, <lambda>)"
    (g,) = flux.gradient(lambda m: flux.sum(m(x)), d)
    z = np.asarray(d.weight) @ x + np.asarray(d.bias)[:, None]
    np.testing.assert_allclose(g.weight, (2 * z) @ x.T, rtol=1e-12)


@pytest.mark.parametrize("shape", [(4,), (4, 2), (3, 2), ()])
def test_wrong_input_size_raises_with_layer_and_shape(shape):
    d = flux.Dense(2, 3)
    with pytest.raises(ValueError) as err:
        d(np.ones(shape, np.float32))
    assert "Dense(2 => 3)" in str(err.value) and str(shape) in str(err.value)


def test_wrong_input_size_inside_gradient():
    d = flux.Dense(2, 3, flux.relu)
    with pytest.raises(ValueError, match=r"Dense\(2 => 3, relu\).*\(5,\)"):
        flux.gradient(lambda x: flux.sum(d(x)), np.ones(5, np.float32))


def test_float64_input_warns_once_per_layer(rng):
    a, b = flux.Dense(3, 2), flux.Dense(3, 2)
    x = rng.standard_normal(3)
    with pytest.warns(UserWarning, match="float64") as record:
        y = a(x)
    assert len(record) == 1 and "Dense(3 => 2)" in str(record[0].message)
    assert y.dtype == np.float32
    assert_forward_close(y, reference(a, x.astype(np.float32)), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a(x)  # the same layer again: silent
    with pytest.warns(UserWarning):
        b(x)  # another layer warns for itself


def test_float64_input_into_a_chain_warns_only_for_the_first_layer():
    m = flux.Chain(flux.Dense(3, 4), flux.Dense(4, 2))
    with pytest.warns(UserWarning) as record:
        y = m(np.ones(3))
    assert len(record) == 1 and y.dtype == np.float32


def test_float64_input_inside_gradient_warns():
    d = flux.Dense(3, 2)
    with pytest.warns(UserWarning, match="float64"):
        (g,) = flux.gradient(lambda x: flux.sum(d(x)), np.ones(3))
    np.testing.assert_allclose(g, np.asarray(d.weight).sum(axis=0), rtol=1e-5, atol=1e-6)  # float32 sums


@pytest.mark.parametrize("x", [np.array([1, 2, 3]), [1, 2, 3], np.array([1, 2, 3], np.int32)],
                         ids=["int64", "list", "int32"])
def test_integer_input_converted_silently(x):
    d = flux.Dense(3, 2)
    y = d(x)  # warnings are errors in this test suite
    assert y.dtype == np.float32
    assert_forward_close(y, reference(d, np.array([1.0, 2.0, 3.0], np.float32)), np.float32)


def test_float32_input_into_float64_layer(rng):
    d = flux.Dense(rng.standard_normal((2, 3)))
    x = rng.standard_normal(3).astype(np.float32)
    assert_forward_close(d(x), reference(d, x), np.float64)


def test_threads_do_not_change_results(rng, restore_num_threads):
    d = flux.Dense(64, 48, flux.tanh)
    x = rng.standard_normal((64, 96)).astype(np.float32)
    flux.set_num_threads(1)
    assert flux.get_num_threads() == 1
    one = d(x)
    flux.set_num_threads(2)
    assert flux.get_num_threads() == 2
    np.testing.assert_allclose(d(x), one, rtol=1e-5, atol=1e-6)


def test_dense_gradient_with_extra_batch_dims(rng):
    d = flux.Dense(rng.standard_normal((2, 3)), rng.standard_normal(2), flux.sigmoid)
    x = rng.standard_normal((3, 4, 5))
    (g,) = flux.gradient(lambda m: flux.sum(m(x)), d)
    s = reference(d, x)
    ds = s * (1 - s)
    np.testing.assert_allclose(g.weight, np.einsum("oab,iab->oi", ds, x), rtol=1e-12)
    np.testing.assert_allclose(g.bias, ds.sum(axis=(1, 2)), rtol=1e-12)


# --- Chain ---------------------------------------------------------------------------------------

def test_chain_applies_layers_left_to_right(rng):
    d1, d2 = flux.Dense(3, 4, flux.relu), flux.Dense(4, 2)
    m = flux.Chain(d1, d2, lambda y: y * 2, flux.tanh)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_allclose(m(x), np.tanh(2 * d2(d1(x))), rtol=1e-6)
    assert flux.Chain(lambda v: v + 1, lambda v: v * 10)(1) == 20
    assert flux.Chain()(5) == 5


def test_chain_container_protocol():
    layers = [flux.Dense(2, 3), flux.relu, flux.Dense(3, 4), flux.Dense(4, 1)]
    m = flux.Chain(*layers)
    assert len(m) == 4 and list(m) == layers
    assert m[0] is layers[0] and m[-1] is layers[-1]
    for sub, expected in ((m[1:3], layers[1:3]), (m[::2], layers[::2]), (m[:0], [])):
        assert type(sub) is flux.Chain and list(sub) == expected
    assert isinstance(m.layers, tuple)


def test_chain_rejects_non_callable_layer():
    with pytest.raises(TypeError, match="layer 1"):
        flux.Chain(flux.Dense(2, 3), 3)


# --- named Chain ---------------------------------------------------------------------------------

def test_named_chain_access_and_call(rng):
    enc, dec = flux.Dense(2, 3, flux.relu), flux.Dense(3, 2)
    c = flux.Chain(enc=enc, dec=dec)
    assert c["enc"] is enc and c.dec is dec and c[0] is enc and c[-1] is dec
    assert len(c) == 2 and list(c) == [enc, dec] and c.keys() == ["enc", "dec"]
    x = rng.standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(c(x), dec(enc(x)), rtol=1e-6)
    sub = c[1:]
    assert type(sub) is flux.Chain and sub.keys() == ["dec"] and sub.dec is dec
    assert c[[1, 0]].keys() == ["dec", "enc"]
    assert flux.Chain(enc, dec)[[0]].layers == (enc,)
    with pytest.raises(AttributeError):
        c.nothing
    with pytest.raises(KeyError):
        flux.Chain(enc)["enc"]


def test_named_chain_rejects_layers_name_and_mixing():
    with pytest.raises(ValueError, match="`layers`"):
        flux.Chain(layers=flux.Dense(1, 1))
    with pytest.raises(TypeError):
        flux.Chain(flux.Dense(1, 1), b=flux.Dense(1, 1))


def test_chain_with_several_arguments_passes_a_tuple():
    c = flux.Chain(lambda t: t[0] * t[1], lambda v: v + 1)
    assert c(3, 4) == 13 and c((3, 4)) == 13


def test_named_chain_printing():
    c = flux.Chain(enc=flux.Chain(flux.Dense(2, 3, flux.tanh)), dec=flux.Dense(3, 2))
    assert flux.compact(c) == "Chain(enc = Chain(Dense(2 => 3, tanh)), dec = Dense(3 => 2))"
    assert str(c) == "\n".join([
        "Chain(",
        "  enc = Chain(",
        "    Dense(2 => 3, tanh),                # 9 parameters",
        "  ),",
        "  dec = Dense(3 => 2),                  # 8 parameters",
        ")                   # Total: 4 arrays, 17 parameters, 276 bytes.",
    ])


def test_named_chain_gradient_state_and_training(rng, tmp_path):
    c = flux.Chain(enc=flux.Dense(rng.standard_normal((3, 2))), dec=flux.Dense(rng.standard_normal((1, 3))))
    x = rng.standard_normal((2, 5))
    (g,) = flux.gradient(lambda m: flux.sum(m(x)), c)
    W = np.array(c.dec.weight)
    np.testing.assert_allclose(g.layers["enc"].weight, W.T @ np.ones((1, 5)) @ x.T, rtol=1e-12)
    assert sorted(flux.state(c)["layers"]) == ["dec", "enc"]
    flux.save(tmp_path / "c.npz", c)
    fresh = flux.Chain(enc=flux.Dense(2, 3), dec=flux.Dense(3, 1))
    flux.load(tmp_path / "c.npz", fresh)
    np.testing.assert_array_equal(fresh.enc.weight, np.asarray(c.enc.weight, np.float32))
    state = flux.setup(flux.Descent(0.1), c)
    flux.update(state, c, g)
    np.testing.assert_allclose(c.dec.weight, W - 0.1 * g.layers["dec"].weight)


def test_dense_extra_batch_dims_finite_differences(rng):
    def f(ts):
        d = flux.Dense(3, 2, flux.tanh)
        d.weight, d.bias = ts[1], ts[2]
        return d(ts[0])
    check_gradient(f, [rng.standard_normal((3, 2, 4)), rng.standard_normal((2, 3)), rng.standard_normal(2)])


# --- the compiled call ---------------------------------------------------------------------------
# Dense.__call__ and Chain.__call__ are compiled (bindings/layer_calls.cpp): they take the common
# calls themselves and hand the rest to _forward, the Python call. Either way the result is the same.

_BUILT_IN = sorted({a for a in vars(flux).values() if isinstance(a, Activation)}, key=lambda a: a.name)
_INPUTS = ["array", "tensor", "list", "other dtype", "other dtype tensor", "extra dims", "batch-first"]


def _input(kind, x, dtype):
    other = np.float64 if dtype == np.float32 else np.float32
    if kind == "tensor":
        return flux.Tensor(x.astype(dtype))
    if kind == "list":
        return x.tolist()
    if kind == "other dtype":
        return x.astype(other)
    if kind == "other dtype tensor":
        return flux.Tensor(x.astype(other))
    if kind == "extra dims":
        return np.stack([x, x], axis=-1).astype(dtype)
    if kind == "batch-first":  # a transposed view of (batch, in)
        return np.ascontiguousarray(x.T.astype(dtype)).T
    return x.astype(dtype)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([(), (1,), (3,)]), st.sampled_from(_BUILT_IN + [None]),
       st.sampled_from([np.float32, np.float64]), st.booleans(), st.sampled_from(_INPUTS), st.integers(0, 2**32 - 1))
def test_compiled_dense_call_equals_the_python_call(n_in, n_out, batch, act, dtype, bias, kind, seed):
    rng = np.random.default_rng(seed)
    σ = act if act is not None else (lambda z: z * 2 - 1)  # not built in: applied after the op
    d = flux.Dense(rng.standard_normal((n_out, n_in)).astype(dtype), bias and rng.standard_normal(n_out), σ)
    x = _input(kind, rng.standard_normal((n_in, *batch)), dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, expected = d(x), d._forward(x)
    assert type(got) is type(expected) and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    # Inside gradient too, where the result is a traced value and the gradients must agree.
    ps = flux.params(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grads = [flux.gradient(lambda: flux.sum(call(x) ** 2), ps) for call in (d, d._forward)]
    for p in ps:
        np.testing.assert_array_equal(grads[0][p], grads[1][p])


def test_compiled_dense_call_uses_a_bias_assigned_as_an_array(rng):
    d = flux.Dense(rng.standard_normal((3, 2)), False)
    x = rng.standard_normal(2)
    d.bias = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(d(x), np.asarray(d.weight) @ x + d.bias)
    np.testing.assert_allclose(d._forward(x), np.asarray(d.weight) @ x + d.bias)


def test_compiled_dense_call_errors_name_the_layer():
    d = flux.Dense(2, 3, flux.relu)
    with pytest.raises(TypeError, match="x"):
        d()
    with pytest.raises(TypeError):
        d(np.ones(2, np.float32), np.ones(2, np.float32))
    d.weight = "not a matrix"
    with pytest.raises(AttributeError):
        d(np.ones(2, np.float32))
    with pytest.raises(TypeError, match="descriptor '__call__'"):
        flux.Dense.__call__(flux.Chain(), np.ones(2))


def test_compiled_calls_take_keywords_as_the_python_calls_do(rng):
    d, x = flux.Dense(2, 3, flux.relu), rng.standard_normal(2).astype(np.float32)
    np.testing.assert_array_equal(d(x=x), d(x))
    with pytest.raises(TypeError, match="unexpected keyword argument 'y'"):
        d(y=x)
    with pytest.raises(TypeError, match="unexpected keyword argument 'x'"):
        flux.Chain(d)(x=x)


def test_compiled_chain_call_matches_its_python_call(rng):
    layers = [flux.Dense(4, 3, flux.tanh), flux.Dense(3, 2), lambda v: v * 3]
    x = rng.standard_normal((4, 5)).astype(np.float32)
    for c in (flux.Chain(*layers), flux.Chain(a=layers[0], b=layers[1], c=layers[2])):
        np.testing.assert_array_equal(c(x), c._forward(x))
    c = flux.Chain(*layers)
    c.layers = list(layers)  # not what the constructor makes: the Python call takes it
    np.testing.assert_array_equal(c(x), flux.Chain(*layers)(x))


def test_subclasses_and_reassigned_calls_are_called(rng):
    # Dense and Chain take calls in their type's slot; a subclass's own __call__, or a __call__
    # assigned to the class later, must still be the one that runs, alone or inside a Chain.
    class Doubled(flux.Dense):
        def __call__(self, x):
            return 2 * super().__call__(x)

    class Inherits(flux.Dense):
        pass

    x = rng.standard_normal(2).astype(np.float32)
    doubled, inherits = Doubled(2, 2), Inherits(2, 2)
    np.testing.assert_allclose(doubled(x), 2 * doubled._forward(x), rtol=1e-6)
    np.testing.assert_allclose(flux.Chain(doubled, flux.Chain(doubled))(x), doubled(doubled(x)), rtol=1e-6)
    np.testing.assert_allclose(doubled(doubled(x)), 2 * doubled._forward(2 * doubled._forward(x)), rtol=1e-6)
    np.testing.assert_array_equal(flux.Chain(inherits)(x), inherits._forward(x))
    d = flux.Dense(2, 2)
    compiled = flux.Dense.__dict__["__call__"]
    try:
        flux.Dense.__call__ = lambda self, x: "replaced"
        assert d(x) == "replaced" and flux.Chain(d)(x) == "replaced"
    finally:
        flux.Dense.__call__ = compiled
        _core._install_layer_calls(flux.Dense, flux.Chain, Activation)
    np.testing.assert_array_equal(d(x), d._forward(x))


def test_compiled_chain_call_passes_errors_and_keeps_no_references():
    def fail(v):
        raise KeyError("from the layer")

    x = np.ones(2, np.float32)
    c, failing = flux.Chain(flux.Dense(2, 2), flux.Dense(2, 2)), flux.Chain(flux.Dense(2, 2), fail)
    before = sys.getrefcount(x)
    for _ in range(200):
        c(x)
        with pytest.raises(KeyError, match="from the layer"):
            failing(x)
    assert sys.getrefcount(x) == before
    pair = flux.Chain(lambda t: t)
    args = (object(), object())
    before = [sys.getrefcount(a) for a in args]
    for _ in range(200):
        assert pair(*args) == args
    assert [sys.getrefcount(a) for a in args] == before
