"""Gradients of the activation ops (csrc/autodiff/ops_activations.cpp) against finite differences."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from activation_references import PARAMETERISED, REFERENCES, kinks
from gradcheck import check_gradient, covers
from pyflux import _core as C
from strategies import arrays, away_from_zero, shapes

SMOOTH = [pytest.param(C.identity, id="identity"), pytest.param(C.sigmoid, id="sigmoid"),
          pytest.param(C.tanh, id="tanh")]

MARGIN = 0.05


def clear_of(points, x):
    """x with every element within MARGIN of one of the points moved 2 * MARGIN to its right."""
    for k in points:
        x = np.where(np.abs(x - k) < MARGIN, x + 2 * MARGIN, x)
    return x


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


NEW = [name for name in REFERENCES if name not in ("identity", "relu", "sigmoid", "tanh")]


@covers(*NEW)
@pytest.mark.parametrize("name", NEW)
@given(x=arrays(shapes(max_dims=3), -7.0, 7.0))
@example(x=np.array([-2.5, -0.7, 0.3, 2.5]))
def test_activation(name, x):
    act = getattr(C, name)
    check_gradient(lambda ts: act(ts[0]), [clear_of(kinks(name), x)])


PARAM_RANGES = {"leakyrelu": (0.0, 0.5), "elu": (0.0, 3.0), "celu": (0.2, 3.0), "softshrink": (0.0, 1.5)}


@covers(*PARAMETERISED)
@pytest.mark.parametrize("name", PARAMETERISED)
@given(x=arrays(shapes(max_dims=2), -4.0, 4.0), data=st.data())
def test_activation_with_parameter(name, x, data):
    p = data.draw(st.floats(*PARAM_RANGES[name]), label="param")
    act = getattr(C, name)
    check_gradient(lambda ts: act(ts[0], p), [clear_of(kinks(name, p), x)])


@covers(*REFERENCES)
@pytest.mark.parametrize("name", list(REFERENCES))
def test_activation_of_a_large_array(name):
    # Large enough for the directional check and for the kernels' thread split.
    x = clear_of(kinks(name), np.random.default_rng(0).uniform(-4, 4, 40_000))
    act = getattr(C, name)
    check_gradient(lambda ts: act(ts[0]), [x], directions=2)


@covers("identity", "relu", "sigmoid", "tanh", "mul", "add")
@given(x=away_from_zero(shapes(max_dims=3), 0.2, 3.0))
def test_composition_reusing_the_input(x):
    # x feeds four activations; their gradients accumulate into one.
    check_gradient(
        lambda ts: C.sigmoid(C.tanh(ts[0])) * C.relu(ts[0]) + C.identity(ts[0]) * C.tanh(ts[0] * 0.5), [x]
    )


@covers("gelu", "softplus", "mish", "elu", "mul", "add")
@given(x=away_from_zero(shapes(max_dims=3), 0.2, 3.0))
def test_composition_of_input_and_output_saving_ops(x):
    # The input-saving ops keep x alive while later ops reuse it.
    check_gradient(lambda ts: C.gelu(C.softplus(ts[0])) * C.elu(ts[0]) + C.mish(ts[0] * 0.5), [x])


@covers("relu", "sigmoid", "swish", "lisht")
@given(x=away_from_zero(shapes(min_dims=1, max_dims=2), 0.2, 2.0))
def test_activation_of_views(x):
    check_gradient(lambda ts: C.relu(ts[0].T) * 2.0 + C.sigmoid(ts[0][::-1]).T + C.swish(ts[0][..., ::-1]).T
                   + C.lisht(ts[0].T), [x])
