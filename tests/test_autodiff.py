"""The tape and the reverse sweep (csrc/autodiff/tape.cpp, backward.cpp) as Python sees them."""

import os
import threading

import numpy as np
import pytest

from pyflux import _core as C


def watched(*arrays):
    """A fresh tape watching a Tensor of each array."""
    tape = C.Tape()
    tensors = [C.Tensor(np.asarray(a, np.float64)) for a in arrays]
    for t in tensors:
        tape.watch(t)
    return (tape, *tensors)


def grads(tape, loss, wrt):
    return [None if g is None else np.asarray(g) for g in tape.gradient(loss, wrt)]


# --- accumulation --------------------------------------------------------------------------------

def test_value_used_twice_accumulates():
    tape, x = watched([1.0, -2.0, 3.0])
    with tape:
        loss = C.sum(x * x)
    (g,) = grads(tape, loss, [x])
    np.testing.assert_array_equal(g, [2.0, -4.0, 6.0])


def test_value_used_three_times_accumulates():
    tape, x = watched([1.0, -2.0])
    with tape:
        loss = C.sum(x + x + x)
    (g,) = grads(tape, loss, [x])
    np.testing.assert_array_equal(g, [3.0, 3.0])


def test_gradients_accumulate_across_different_ops():
    tape, x = watched([0.5, 2.0])
    with tape:
        y = C.exp(x)
        loss = C.sum(y * x + y - C.log(x) + x[0])  # x[0] is broadcast to both elements
    (g,) = grads(tape, loss, [x])
    xv = np.array([0.5, 2.0])
    np.testing.assert_allclose(g, np.exp(xv) * xv + 2 * np.exp(xv) - 1 / xv + [2.0, 0.0], rtol=1e-14)


def test_shared_gradient_tensors_are_not_mutated():
    # add hands its incoming gradient unchanged to both operands, so a and b start out sharing one
    # gradient tensor; the later contribution of u = a * 5 must not leak into b's.
    tape, a, b = watched([1.0, 2.0], [3.0, 4.0])
    with tape:
        u = a * 5.0
        s = a + b
        loss = C.sum(s * 2.0) + C.sum(u)
    ga, gb = grads(tape, loss, [a, b])
    np.testing.assert_array_equal(ga, [7.0, 7.0])
    np.testing.assert_array_equal(gb, [2.0, 2.0])


# --- what is recorded ----------------------------------------------------------------------------

def test_nothing_is_recorded_outside_a_tape():
    tape, x = watched([1.0, 2.0])
    assert not x.traced
    y = C.exp(x * 2.0)
    assert isinstance(y, np.ndarray)
    assert isinstance(C.sum(x), np.float64)
    assert tape.recorded == 0


def test_ops_on_constants_are_not_recorded_inside_a_tape():
    tape, x = watched([1.0, 2.0])
    const = C.Tensor(np.ones(2))
    with tape:
        assert x.traced and not const.traced
        assert isinstance(C.exp(np.ones(2)), np.ndarray)
        assert isinstance(const * 3.0 + np.ones(2), np.ndarray)
        assert isinstance(C.sum(const), np.float64)
        assert tape.recorded == 0
        y = x * const
        assert isinstance(y, C.Tensor) and y.traced
        assert tape.recorded == 1


def test_value_traced_by_a_finished_tape_is_a_constant_for_a_new_tape():
    tape1, x = watched([1.0, 2.0])
    with tape1:
        y = x * 3.0
        loss1 = C.sum(y)
    tape1.gradient(loss1, [x])
    tape2, z = watched([5.0, 7.0])
    with tape2:
        assert not y.traced and not x.traced
        loss = C.sum(y * z)
        assert tape2.recorded == 2
    gz, gy, gx = grads(tape2, loss, [z, y, x])
    np.testing.assert_array_equal(gz, [3.0, 6.0])
    assert gy is None and gx is None


def test_tape_reentered_keeps_recording():
    tape, x = watched([1.0, 2.0])
    with tape:
        y = x * x
    with tape:
        loss = C.sum(y * 3.0)
    (g,) = grads(tape, loss, [x])
    np.testing.assert_array_equal(g, [6.0, 12.0])


# --- freeing the tape ----------------------------------------------------------------------------

def test_gradient_frees_the_tape():
    tape, x = watched(np.ones(4))
    with tape:
        loss = C.sum(C.exp(x) * x)
    assert tape.recorded == 3
    tape.gradient(loss, [x])
    assert tape.recorded == 0


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_gradient_releases_saved_values_while_the_tape_lives():
    # Each saved value is 48 MB, above glibc's largest mmap threshold, so freeing it returns the
    # memory to the system at once.
    tape, x = watched(np.full(6_000_000, 0.5))
    with tape:
        loss = C.sum(C.exp(x) / 2.0)  # the tape keeps exp(x) and the quotient: 96 MB
    before = resident_bytes()
    (g,) = tape.gradient(loss, [x])
    del g
    after = resident_bytes()
    assert before - after > 80e6, f"resident memory went from {before / 1e6:.0f} MB to {after / 1e6:.0f} MB"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_memory_stays_flat_over_many_steps():
    W = C.Tensor(np.random.default_rng(0).uniform(-1, 1, (16, 16)))
    x = np.random.default_rng(1).uniform(-1, 1, 16)
    descent = C.optimiser_init(("Descent", {"eta": 1e-4}), W)

    def step():
        tape = C.Tape()
        tape.watch(W)
        with tape:
            loss = C.sum(C.tanh(W @ x) ** 2)
        (g,) = tape.gradient(loss, [W])
        descent.apply(W, g)

    for _ in range(2_000):
        step()
    before = resident_bytes()
    for _ in range(20_000):
        step()
    growth = resident_bytes() - before
    # A step allocates about 4 kB of tensors; keeping them would grow memory by ~80 MB.
    assert growth < 8e6, f"resident memory grew by {growth / 1e6:.1f} MB over 20000 steps"


def test_long_chain_differentiates_without_recursion():
    tape, x0 = watched([2.0])
    x = x0
    with tape:
        for _ in range(20_000):
            x = x * 1.0001
        loss = C.sum(x)
    assert tape.recorded == 20_001
    (g,) = grads(tape, loss, [x0])
    np.testing.assert_allclose(g, [1.0001**20_000], rtol=1e-10)


def test_long_chain_is_freed_without_a_gradient():
    tape, x = watched([2.0])
    with tape:
        for _ in range(20_000):
            x = C.exp(x * 0.0)
    assert tape.recorded == 40_000
    del tape, x  # destroying the nodes must not recurse either


# --- errors and results --------------------------------------------------------------------------

def test_nested_tapes_are_refused():
    outer, x = watched([1.0])
    inner = C.Tape()
    with outer:
        with pytest.raises(RuntimeError, match="nested"):
            with inner:
                pass
        with pytest.raises(RuntimeError):
            with outer:
                pass
        loss = C.sum(x * 4.0)  # the outer tape still records
    (g,) = grads(outer, loss, [x])
    np.testing.assert_array_equal(g, [4.0])


def test_tapes_on_other_threads_are_independent():
    outer, x = watched([1.0])
    seen = {}

    def other_thread():
        tape, y = watched([3.0])
        with tape:
            loss = C.sum(y * y)
        seen["grad"] = grads(tape, loss, [y])[0]

    with outer:
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        loss = C.sum(x * 2.0)
    np.testing.assert_array_equal(seen["grad"], [6.0])
    np.testing.assert_array_equal(grads(outer, loss, [x])[0], [2.0])


def test_second_gradient_raises():
    tape, x = watched([1.0])
    with tape:
        loss = C.sum(x * 2.0)
    tape.gradient(loss, [x])
    with pytest.raises(RuntimeError, match="already been swept"):
        tape.gradient(loss, [x])


@pytest.mark.parametrize("shape", [(3,), (2, 2)])
def test_gradient_of_non_scalar_raises(shape):
    tape, x = watched(np.ones(shape))
    with tape:
        y = x * 2.0
    with pytest.raises(ValueError, match=r"scalar.*" + str(shape).replace("(", r"\(").replace(")", r"\)")):
        tape.gradient(y, [x])


def test_gradient_of_a_constant_loss():
    tape, x = watched([1.0])
    assert tape.gradient(3.0, [x]) == [None]
    tape2, x2 = watched([1.0])
    with pytest.raises(ValueError, match=r"\(3,\)"):
        tape2.gradient(np.ones(3), [x2])


def test_independent_leaf_gets_none():
    tape, x, unused = watched([1.0, 2.0], [5.0])
    with tape:
        loss = C.sum(x * x)
    gx, gu = grads(tape, loss, [x, unused])
    np.testing.assert_array_equal(gx, [2.0, 4.0])
    assert gu is None


def test_gradient_with_respect_to_an_intermediate_value():
    tape, x = watched([1.0, 2.0])
    with tape:
        y = x * 2.0
        loss = C.sum(y * y)
    gx, gy = grads(tape, loss, [x, y])
    np.testing.assert_array_equal(gx, [8.0, 16.0])
    np.testing.assert_array_equal(gy, [4.0, 8.0])


def test_gradient_of_an_untraced_loss_frees_the_tape():
    tape, x = watched([1.0])
    with tape:
        x * 2.0
    assert tape.recorded == 1
    assert tape.gradient(3.0, [x]) == [None]
    assert tape.recorded == 0


def test_gradient_of_a_leaf_is_one():
    tape, x = watched(2.5)
    assert np.asarray(tape.gradient(x, [x])[0]) == 1.0


def test_gradient_dtype_and_shape_follow_the_leaf():
    tape = C.Tape()
    x = C.Tensor(np.ones((2, 3)), dtype=np.float32)
    tape.watch(x)
    with tape:
        loss = C.sum(x * 2.0)
    (g,) = tape.gradient(loss, [x])
    assert isinstance(g, C.Tensor) and g.shape == (2, 3) and g.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(g), np.full((2, 3), 2.0, np.float32))


def test_traced_values_cannot_become_numpy_inside_the_tape():
    tape, x = watched([1.0, 2.0])
    with tape:
        y = x * 2.0
        for convert in (np.asarray, np.array, lambda t: t.numpy()):
            with pytest.raises(TypeError, match="traced"):
                convert(y)
        with pytest.raises(TypeError, match="traced"):
            np.asarray(x)
        loss = C.sum(y)
    np.testing.assert_array_equal(np.asarray(y), [2.0, 4.0])  # fine once the tape is exited
    tape.gradient(loss, [x])


def test_traced_index_with_unsupported_key_type():
    tape, x = watched([1.0, 2.0, 3.0])
    with tape:
        with pytest.raises(TypeError, match="dict"):
            x[{0: 1}]
        with pytest.raises(TypeError, match="reshape"):
            x[None]
        with pytest.raises(IndexError, match="out of bounds"):
            x[3]
        with pytest.raises(IndexError, match="out of bounds"):
            x[-4]
        with pytest.raises(IndexError, match="too many indices"):
            x[0, 0]
        with pytest.raises(TypeError, match="bool"):
            x[np.True_]


def test_traced_index_refuses_python_bools():
    tape, x = watched([1.0, 2.0, 3.0])
    with tape:
        with pytest.raises(TypeError, match="bool"):
            x[True]


def test_two_live_tapes_watching_one_leaf_each_get_their_own_gradient():
    W = C.Tensor(np.full((2, 2), 3.0))
    first = C.Tape([W])
    with first:
        loss = C.sum(W * W)
    second = C.Tape([W])
    with second:
        other = C.sum(W)
    np.testing.assert_array_equal(np.asarray(first.gradient(loss)[0]), np.full((2, 2), 6.0))
    np.testing.assert_array_equal(np.asarray(second.gradient(other)[0]), np.ones((2, 2)))
    # Both claims are released: a third tape sees the leaf as its own.
    third = C.Tape([W])
    with third:
        again = C.sum(W * W)
    np.testing.assert_array_equal(np.asarray(third.gradient(again)[0]), np.full((2, 2), 6.0))
