"""Gradients of the activation ops (csrc/autodiff/ops_activations.cpp) against finite differences."""

import numpy as np
import pytest
from hypothesis import example, given

from gradcheck import check_gradient, covers
from pyflux import _core as C
from strategies import arrays, away_from_zero, shapes

SMOOTH = [pytest.param(C.identity, id="identity"), pytest.param(C.sigmoid, id="sigmoid"),
          pytest.param(C.tanh, id="tanh")]


@covers("identity", "sigmoid", "tanh")
@pytest.mark.parametrize("act", SMOOTH)
@given(x=arrays(shapes(max_dims=4), -4.0, 4.0))
@example(x=np.array(0.0))
@example(x=np.array([-1.5]))
def test_smooth_activation(act, x):
    check_gradient(lambda ts: act(ts[0]), [x])


@covers("relu")
@given(x=away_from_zero(shapes(max_dims=4)))
@example(x=np.array([-0.5]))
@example(x=np.array(0.5))
def test_relu(x):
    check_gradient(lambda ts: C.relu(ts[0]), [x])


@covers("identity", "relu", "sigmoid", "tanh")
@pytest.mark.parametrize("act", SMOOTH + [pytest.param(C.relu, id="relu")])
def test_activation_of_a_large_array(act):
    # Large enough for the directional check and for the kernels' thread split.
    x = np.random.default_rng(0).uniform(-3, 3, 40_000)
    x = np.where(np.abs(x) < 0.1, 0.5, x)
    check_gradient(lambda ts: act(ts[0]), [x], directions=2)


@covers("identity", "relu", "sigmoid", "tanh", "mul", "add")
@given(x=away_from_zero(shapes(max_dims=3), 0.2, 3.0))
def test_composition_reusing_the_input(x):
    # x feeds four activations; their gradients accumulate into one.
    check_gradient(
        lambda ts: C.sigmoid(C.tanh(ts[0])) * C.relu(ts[0]) + C.identity(ts[0]) * C.tanh(ts[0] * 0.5), [x]
    )


@covers("relu", "sigmoid")
@given(x=away_from_zero(shapes(min_dims=1, max_dims=2), 0.2, 2.0))
def test_activation_of_views(x):
    check_gradient(lambda ts: C.relu(ts[0].T) * 2.0 + C.sigmoid(ts[0][::-1]).T, [x])
