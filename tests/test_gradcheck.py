"""The gradient checker itself: it accepts correct gradients and rejects wrong ones."""

import numpy as np
import pytest

from gradcheck import check_gradient, random_cotangent, tape_vjp
from pyflux import _core as C


def smooth(ts):
    (x,) = ts
    return C.exp(x * 0.5) * x


def matrix_product(ts):
    W, v = ts
    return W @ C.tanh(v)


def scaled(factor):
    return lambda f, xs, c: [factor * g for g in tape_vjp(f, xs, c)]


def transposed(f, xs, c):
    return [g.T for g in tape_vjp(f, xs, c)]


rng = np.random.default_rng(7)
SMALL = [rng.uniform(-1, 1, (3, 4))]  # checked element by element
LARGE = [rng.uniform(-1, 1, (9, 10))]  # checked along random directions
SQUARE_SMALL = [rng.uniform(-1, 1, (4, 4)), rng.uniform(-1, 1, 4)]
SQUARE_LARGE = [rng.uniform(-1, 1, (12, 12)), rng.uniform(-1, 1, 12)]


@pytest.mark.parametrize("inputs", [SMALL, LARGE], ids=["small", "large"])
def test_accepts_the_tape_gradient(inputs):
    check_gradient(smooth, inputs)


@pytest.mark.parametrize("inputs", [SQUARE_SMALL, SQUARE_LARGE], ids=["small", "large"])
def test_accepts_the_tape_gradient_of_several_inputs(inputs):
    check_gradient(matrix_product, inputs)


@pytest.mark.parametrize("inputs", [SMALL, LARGE], ids=["small", "large"])
@pytest.mark.parametrize("factor", [1.1, 0.99, -1.0])
def test_rejects_a_scaled_gradient(inputs, factor):
    with pytest.raises(AssertionError):
        check_gradient(smooth, inputs, grad_fn=scaled(factor))


@pytest.mark.parametrize("inputs", [SQUARE_SMALL, SQUARE_LARGE], ids=["small", "large"])
def test_rejects_a_transposed_gradient(inputs):
    with pytest.raises(AssertionError):
        check_gradient(matrix_product, inputs, grad_fn=transposed)


def test_rejects_a_gradient_that_ignores_the_cotangent():
    # Right only for an all-ones incoming gradient: the checker must not use one.
    def as_if_ones(f, xs, c):
        return tape_vjp(f, xs, np.ones_like(c))

    with pytest.raises(AssertionError):
        check_gradient(smooth, [np.array([0.3])], grad_fn=as_if_ones)


def test_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(AssertionError, match="shape"):
        check_gradient(smooth, SMALL, grad_fn=lambda f, xs, c: [g.ravel() for g in tape_vjp(f, xs, c)])


def test_rejects_an_error_in_one_element_only():
    def off_by_one_element(f, xs, c):
        grads = tape_vjp(f, xs, c)
        grads[0][1, 2] += 1e-4
        return grads

    with pytest.raises(AssertionError, match=r"element \(1, 2\)"):
        check_gradient(smooth, SMALL, grad_fn=off_by_one_element)


def test_rejects_an_untraced_output():
    with pytest.raises(AssertionError, match="traced"):
        check_gradient(lambda ts: np.ones(3), SMALL)


def test_cotangent_is_never_all_ones():
    c = random_cotangent(np.random.default_rng(0), (1000,))
    magnitude = np.abs(c)
    assert np.all(((magnitude >= 0.5) & (magnitude <= 0.9)) | ((magnitude >= 1.1) & (magnitude <= 1.5)))
    assert np.any(c < 0) and np.any(c > 0)
