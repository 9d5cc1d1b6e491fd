"""Shapes whose element count does not fit in int64 are refused before anything is allocated or read."""

import numpy as np
import pytest

import pyflux as flux
from pyflux import _core as C


def test_a_traced_reshape_to_an_overflowing_shape_is_a_value_error():
    with pytest.raises(ValueError, match="reshape"):
        flux.gradient(lambda x: flux.sum(x.reshape(2**62 + 1, 4).T * 2), np.ones(4))


def test_reshape_of_an_array_to_an_overflowing_shape_is_a_value_error():
    with pytest.raises(ValueError):
        C.reshape(np.ones(4), (2**32, 2**32, 4))
