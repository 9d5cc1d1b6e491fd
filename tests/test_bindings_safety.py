"""Hostile input to the bindings: huge shapes and indices, objects whose C++ value was never set,
numbers beyond float range. Each must raise a clear Python exception, never crash."""

import sys

import numpy as np
import pytest

import pyflux as flux
from pyflux import _core


def test_reshape_to_an_overflowing_element_count_is_a_value_error():
    with pytest.raises(ValueError, match="reshape: shape .* more elements"):
        flux.gradient(lambda x: flux.sum(x.reshape(2**62 + 1, 4).T * 2), np.ones(4))
    with pytest.raises(ValueError, match="more elements"):
        flux.param(np.ones(4)).reshape(2**40, 2**40, 4)


def test_reshape_with_a_dimension_beyond_int64_is_a_value_error():
    with pytest.raises(ValueError, match="reshape"):
        flux.gradient(lambda x: flux.sum(x.reshape(2**70, 4)), np.ones(4))


def test_reshape_with_a_float_dimension_is_a_type_error():
    p = flux.param(np.ones((2, 2)))
    with pytest.raises(TypeError, match="reshape: each dimension must be an int, got float"):
        p.reshape(2.0, 2)


def test_huge_index_into_a_traced_value_is_an_index_error():
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 3"):
        flux.gradient(lambda x: flux.sum(x[2**70]), np.ones((3, 2)))


def test_index_of_wrong_type_into_a_traced_value_is_a_type_error():
    with pytest.raises(TypeError, match="float"):
        flux.gradient(lambda x: flux.sum(x[1.0]), np.ones((3, 2)))


@pytest.mark.parametrize("axis", [2**40, -(2**40), 2**70])
def test_huge_axis_is_an_index_error(axis):
    with pytest.raises(IndexError, match="axis .* out of bounds"):
        flux.sum(np.ones((3, 2)), axis)
    with pytest.raises(IndexError, match="axis .* out of bounds"):
        flux.gradient(lambda x: x.sum(axis).sum(), np.ones((3, 2)))


def test_huge_softmax_dims_is_an_index_error():
    with pytest.raises(IndexError, match="out of bounds"):
        flux.softmax(np.ones((3, 2)), dims=2**33)


def test_float_axis_is_a_type_error():
    with pytest.raises(TypeError, match="axis must be an int, got float"):
        flux.sum(np.ones((3, 2)), 1.0)


def _bare():
    return _core.Tensor.__new__(_core.Tensor)


def test_a_tensor_never_initialised_is_an_empty_array():
    t = _bare()
    assert t.shape == (0,)
    assert len(t) == 0
    assert t.size == 0
    np.testing.assert_array_equal(t + 1, np.zeros(0, np.float32))
    assert np.asarray(t).shape == (0,)
    assert "Tensor" in repr(t)
    _core.Tape().watch(t)
    _core.Tape(watch=[t])


def test_param_subclass_that_skips_super_init_is_an_empty_param():
    class Lazy(flux.Param):
        def __init__(self):
            pass

    p = Lazy()
    assert p.shape == (0,)
    assert repr(p) == "Param([], dtype=float32)"
    np.testing.assert_array_equal(p * 2, np.zeros(0, np.float32))


def test_param_whose_conversion_failed_can_still_be_printed():
    # pytest prints the half-built Param (`self` of Param.__init__) when reporting such a failure.
    try:
        flux.param(np.zeros(1, np.complex64))
    except TypeError:
        tb = sys.exc_info()[2]
    else:
        pytest.fail("a complex array became a Param")
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    selves = [f.f_locals["self"] for f in frames if isinstance(f.f_locals.get("self"), flux.Param)]
    assert selves
    assert repr(selves[0]) == "Param([], dtype=float32)"


def test_failed_reinit_keeps_the_old_value_and_identity():
    p = flux.param(np.arange(3.0))
    with pytest.raises(TypeError):
        p.__init__(np.zeros(1, np.complex64))
    np.testing.assert_array_equal(np.asarray(p), np.arange(3.0))

    def f(q):
        assert q is p  # the traced value is represented by the same object
        return flux.sum(q * q)

    np.testing.assert_array_equal(flux.gradient(f, p)[0], 2 * np.arange(3.0))


def test_tape_watch_of_a_non_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="Tape.watch: expected a Tensor, got list"):
        _core.Tape().watch([1.0])


@pytest.mark.parametrize("big", [10**400, -(10**400)])
def test_int_beyond_float_range_is_an_overflow_error(big):
    W = flux.param(np.ones(2))
    with pytest.raises(OverflowError):
        flux.gradient(lambda W: flux.sum(W * big), W)
    with pytest.raises(OverflowError):
        W + big
    with pytest.raises(OverflowError):
        big - W
    with pytest.raises(OverflowError):
        flux.leakyrelu(np.ones(2), big)


def test_numpy_arrays_released_during_a_gil_free_backward_sweep():
    """The backward sweep of large work runs without the GIL; a numpy array whose last owner is the
    tape is released there, which must take the GIL back (another thread runs Python meanwhile)."""
    import threading
    import weakref

    stop = threading.Event()

    def churn():
        while not stop.is_set():
            [object() for _ in range(1000)]

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(5):
            big = np.random.default_rng(0).random((300, 300))  # borrowed by the tape, not copied
            alive = weakref.ref(big)

            def f(W, big=big):
                return flux.sum(W * big)

            W = flux.param(np.ones((300, 300)))
            del big
            (g,) = flux.gradient(f, W)
            del f
            assert g.shape == (300, 300)
            assert alive() is None
    finally:
        stop.set()
        thread.join()
