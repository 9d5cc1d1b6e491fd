"""trainmode, testmode and the automatic mode (pyflux/modes.py)."""

import numpy as np
import pytest

import pyflux as flux
from pyflux.modes import within_gradient


def model():
    return flux.Chain(flux.Dense(3, 4), flux.Dropout(0.5), flux.Chain(flux.BatchNorm(4), flux.Dropout(0.1)))


def actives(m):
    return [m[1].active, m[2][0].active, m[2][1].active]


def test_modes_recurse_and_return_the_model():
    m = model()
    assert actives(m) == [None, None, None]
    assert flux.trainmode(m) is m and actives(m) == [True, True, True]
    assert flux.testmode(m) is m and actives(m) == [False, False, False]
    flux.testmode(m, False)
    assert actives(m) == [True, True, True]
    flux.testmode(m, "auto")
    assert actives(m) == [None, None, None]
    flux.trainmode(m, False)
    assert actives(m) == [False, False, False]
    flux.trainmode(m, "auto")
    assert actives(m) == [None, None, None]
    with pytest.raises(ValueError, match="'auto'"):
        flux.testmode(m, "train")


def test_within_gradient_and_train():
    seen = []
    assert not within_gradient()
    flux.gradient(lambda x: seen.append(within_gradient()) or flux.sum(x * x), np.ones(2))
    assert seen == [True] and not within_gradient()
    d = flux.Dense(2, 1)
    flux.train(lambda m, x: seen.append(within_gradient()) or flux.sum(m(x)), d,
               [(np.ones(2, np.float32),)], flux.setup(flux.Descent(), d))
    assert seen == [True, True] and not within_gradient()


def test_dropout_on_raw_input_is_active_inside_gradient():
    d = flux.Dense(np.eye(6))
    m = flux.Chain(flux.Dropout(0.5, rng=np.random.default_rng(0)), d)
    x = np.ones(6)
    (g,) = flux.gradient(lambda mm: flux.sum(mm(x)), m)
    assert set(np.unique(g.layers[1].weight)) <= {0.0, 2.0} and (g.layers[1].weight == 0).any()
    np.testing.assert_array_equal(m(x), x)
