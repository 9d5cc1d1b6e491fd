"""Finite-difference gradient checking for the C++ autodiff core, in float64.

``check_gradient(f, inputs)`` draws a random cotangent ``c`` shaped like ``f``'s output and compares
the tape's gradient of the scalar ``L(x) = sum(f(x) * c)`` with central differences: element by
element for inputs of at most ``max_full`` elements, along random directions for larger ones.

``covers`` records which ops a test exercises, so that test_grad_registry can check that every op
of ``_core.op_names()`` has a gradient test.
"""

import zlib

import numpy as np

from pyflux import _core as C

COVERED: set[str] = set()


def covers(*op_names):
    """Marks a test as checking the gradients of ``op_names``."""

    def mark(test):
        COVERED.update(op_names)
        return test

    return mark


def random_cotangent(rng, shape):
    """Entries of magnitude in [0.5, 0.9] or [1.1, 1.5], either sign: never all ones."""
    magnitude = 1.0 + rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 0.5, size=shape)
    return rng.choice([-1.0, 1.0], size=shape) * magnitude


def evaluate(f, xs):
    """f's output at xs, computed through a recording tape (the same path as the gradient)."""
    tensors = [C.Tensor(x) for x in xs]
    with C.Tape(tensors):
        out = f(tensors)
    return np.array(out, dtype=np.float64)


def tape_vjp(f, xs, cotangent):
    """The tape's gradients of sum(f(xs) * cotangent) with respect to each of xs (zeros for None)."""
    tensors = [C.Tensor(x) for x in xs]
    tape = C.Tape(tensors)
    with tape:
        out = f(tensors)
        assert isinstance(out, C.Tensor) and out.traced, f"f must return a traced Tensor, got {out!r}"
        loss = C.sum(C.mul(out, cotangent))
    grads = tape.gradient(loss, tensors)
    return [np.zeros_like(x) if g is None else np.asarray(g) for x, g in zip(xs, grads)]


def check_gradient(f, inputs, *, rtol=1e-6, atol=1e-8, eps=1e-6, max_full=64, directions=3, seed=None,
                   grad_fn=None):
    """Asserts that the gradient of sum(f(x) * c) matches central finite differences.

    f maps a list of Tensors (one per input, each watched) to a traced Tensor of any shape. The
    tolerance is ``rtol * |finite difference| + atol * max(1, sum|f(x) * c|)``: the absolute part
    grows with the terms of L, whose rounding the finite differences amplify. ``grad_fn(f, xs, c)``
    replaces the tape's gradient (``tape_vjp``), for testing the checker itself.
    """
    xs = [np.array(x, dtype=np.float64) for x in inputs]
    if seed is None:
        seed = zlib.crc32(b"".join(x.tobytes() for x in xs) + repr([x.shape for x in xs]).encode())
    rng = np.random.default_rng(seed)
    out = evaluate(f, xs)
    c = random_cotangent(rng, out.shape)
    tol_abs = atol * max(1.0, float(np.sum(np.abs(out * c))))

    def loss(zs):
        return float(np.sum(evaluate(f, zs) * c))

    grads = (grad_fn or tape_vjp)(f, xs, c)
    assert len(grads) == len(xs)
    for i, (x, g) in enumerate(zip(xs, grads)):
        assert g.shape == x.shape, f"input {i}: gradient shape {g.shape} != input shape {x.shape}"
        assert g.dtype == np.float64, f"input {i}: gradient dtype {g.dtype}"

    large = [i for i, x in enumerate(xs) if x.size > max_full]
    for i, x in enumerate(xs):
        if i in large:
            continue
        for j in np.ndindex(x.shape):
            plus = [z.copy() for z in xs]
            minus = [z.copy() for z in xs]
            plus[i][j] += eps
            minus[i][j] -= eps
            fd = (loss(plus) - loss(minus)) / (2 * eps)
            assert abs(grads[i][j] - fd) <= rtol * abs(fd) + tol_abs, (
                f"input {i} {x.shape}, element {j}: tape gradient {grads[i][j]!r}, finite difference {fd!r}"
            )

    for k in range(directions if large else 0):
        # Standard normal directions perturb each element by about eps, as the full check does.
        ts = {i: rng.standard_normal(xs[i].shape) for i in large}
        plus = [z + eps * ts[i] if i in ts else z for i, z in enumerate(xs)]
        minus = [z - eps * ts[i] if i in ts else z for i, z in enumerate(xs)]
        fd = (loss(plus) - loss(minus)) / (2 * eps)
        along = sum(float(np.sum(grads[i] * t)) for i, t in ts.items())
        assert abs(along - fd) <= rtol * abs(fd) + tol_abs, (
            f"direction {k} over inputs {large}: tape gradient gives {along!r}, finite difference {fd!r}"
        )
