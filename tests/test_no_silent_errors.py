"""Mistakes that used to give a silently wrong answer (a None gradient, training that changes
nothing, integer arithmetic in a loss, a shape mismatch broadcast away) now raise or compute the
right value, and invalid layer arguments are refused naming the argument."""

from collections import namedtuple

import numpy as np
import pytest

import pyflux as flux


@pytest.mark.parametrize("cut", [float, lambda t: t.item(), lambda t: [t]], ids=["float", "item", "list"])
def test_a_loss_cut_from_the_tape_raises_naming_the_fix(cut):
    with pytest.raises(TypeError, match="return the traced value itself"):
        flux.gradient(lambda x: cut(flux.sum(x * x)), np.ones(2))
    W = flux.param(np.ones(2))
    with pytest.raises(TypeError, match="cuts the gradient"):
        flux.gradient(lambda: cut(flux.sum(W * W)), flux.params(W))


def test_a_constant_loss_still_has_no_gradient():
    assert flux.gradient(lambda x: 1.0, np.ones(2)) == (None,)


class _ArrayLike:
    """Stands in for a tensor of another library (torch, jax): has __array__ but is not numpy."""

    def __array__(self, dtype=None, copy=None):
        return np.ones(2)


@pytest.mark.parametrize("wrt", [[1.0, 2.0], (np.ones(2),), _ArrayLike()], ids=["list", "tuple", "array-like"])
def test_gradient_with_respect_to_an_unsupported_type_names_it(wrt):
    with pytest.raises(TypeError, match=f"cannot differentiate with respect to a .*{type(wrt).__name__}"):
        flux.gradient(lambda x: 1.0, wrt)


def test_train_with_no_params_raises():
    W = np.random.rand(2, 5)  # a plain array, not flux.param: nothing to train
    with pytest.raises(ValueError, match="the params hold no trainable arrays.*flux.param"):
        flux.train(lambda: flux.sum(W), flux.params(W), [()], flux.Descent(0.1))
    with pytest.raises(ValueError, match="the model holds no trainable arrays"):
        flux.train(lambda m: flux.sum(m[0]), [W], [()], flux.Descent(0.1))


def test_losses_promote_integer_and_bool_inputs_to_float():
    assert flux.hinge_loss([True, False], np.array([3, 1], np.uint8)) == 0.5
    yhat = np.full((3, 2), 0.3, np.float32)
    assert flux.focal_loss(yhat, np.eye(3, 2, dtype=np.int64)).dtype == np.float32
    assert flux.mse(np.array([1, 2], np.uint8), np.array([3, 0], np.uint8)) == 4.0


def test_list_targets_are_shape_checked():
    with pytest.raises(ValueError, match=r"mse: the prediction has shape \(3, 2\) but the target has shape \(2,\)"):
        flux.mse(np.zeros((3, 2)), [1.0, 2.0])
    assert flux.mse(np.zeros(2), [1.0, 3.0]) == 5.0


def test_integer_labels_to_a_cross_entropy_loss_suggest_onehotbatch():
    with pytest.raises(ValueError, match="onehotbatch"):
        flux.crossentropy(np.full((3, 4), 0.25), np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="onehotbatch"):
        flux.logitcrossentropy(np.zeros((3, 4)), [0, 1, 2, 0])


def test_loss_of_complex_target_is_a_type_error():
    with pytest.raises(TypeError, match="mse: expected a real numeric array, got dtype complex128"):
        flux.mse(np.zeros(2), np.zeros(2, complex))


@pytest.mark.parametrize("make, message", [
    (lambda: flux.Dense(10, 10.5), "Dense: out must be a positive integer, got 10.5"),
    (lambda: flux.Dense(0, 0), "Dense: in must be a positive integer, got 0"),
    (lambda: flux.Dense(3, -1), "Dense: out must be a positive integer"),
    (lambda: flux.Scale(1.0), "Scale: expected sizes"),
    (lambda: flux.Scale(0), "Scale: each size must be a positive integer"),
    (lambda: flux.BatchNorm(5, active="something_else"), "BatchNorm: active must be None, True or False"),
    (lambda: flux.BatchNorm(5, affine="yes"), "BatchNorm: affine must be True or False"),
    (lambda: flux.BatchNorm(5, eps=0), "BatchNorm: eps must be a positive number"),
    (lambda: flux.BatchNorm(5, momentum=2), "BatchNorm: momentum must be a number in"),
    (lambda: flux.BatchNorm(0), "BatchNorm: channels must be a positive integer"),
    (lambda: flux.LayerNorm(3, eps=-1), "LayerNorm: eps must be a positive number"),
    (lambda: flux.LayerNorm(0), "LayerNorm: each size must be a positive integer"),
    (lambda: flux.Embedding(0, 3), "Embedding: in must be a positive integer"),
    (lambda: flux.Embedding(3, 2.5), "Embedding"),
    (lambda: flux.Dropout(True), "Dropout expects"),
    (lambda: flux.Dropout(0.5, active=1), "Dropout: active must be None, True or False"),
])
def test_invalid_layer_arguments_name_the_argument(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_dense_without_output_size_is_a_type_error():
    with pytest.raises(TypeError, match="output size is missing"):
        flux.Dense(10)


def test_batch_first_input_to_dense_suggests_the_transpose():
    with pytest.raises(ValueError, match=r"batch-first.*X\.T of shape \(3, 5\)"):
        flux.Dense(3, 2)(np.ones((5, 3), np.float32))


def test_a_model_in_a_namedtuple_keeps_its_type_in_gradient_and_setup():
    Model = namedtuple("Model", "w layer")
    m = Model(flux.param(np.ones(2, np.float32)), flux.Dense(2, 1))
    (g,) = flux.gradient(lambda m: flux.sum(m.w * 2) + flux.sum(m.layer(m.w)), m)
    assert type(g) is Model
    np.testing.assert_allclose(g.w, 2 + m.layer.weight[0])
    assert g.layer.weight.shape == (1, 2)
    state = flux.setup(flux.Descent(0.1), m)
    assert type(state) is Model
    flux.update(state, m, g)


def test_onehot_of_a_list_suggests_onehotbatch():
    with pytest.raises(ValueError, match="onehot: expected one label.*onehotbatch"):
        flux.onehot([], range(3))


@pytest.mark.parametrize("y, alpha, message", [
    (1.0, 0.1, "no axis dims=0"), (np.eye(2), 1.0, "alpha must be between 0 and 1"),
    (np.eye(2), "0.1", "alpha must be between 0 and 1"),
])
def test_label_smoothing_bad_arguments_are_value_errors(y, alpha, message):
    with pytest.raises(ValueError, match=message):
        flux.label_smoothing(y, alpha)
