"""flux.seed and the default generator (pyflux/random.py) behind initialisers, Dropout and DataLoader."""

import numpy as np
import pytest

import pyflux as flux
from pyflux import random as flux_random


@pytest.fixture(autouse=True)
def keep_the_default_generator():
    saved = flux_random.default_rng()
    yield
    flux_random._generator = saved


def script():
    """What a user's script draws without passing rng= anywhere: weights, a Dropout mask, a shuffled
    epoch order, and the model that fit trains with all three."""
    model = flux.Chain(flux.Dense(3, 8, flux.relu), flux.Dropout(0.5), flux.Dense(8, 2, init=flux.kaiming_normal))
    weights = [np.array(p) for p in flux.trainables(model)]
    mask = flux.trainmode(flux.Dropout(0.5))(np.ones((4, 5), np.float32))
    order = [b.tolist() for b in flux.DataLoader(np.arange(10), batchsize=3, shuffle=True)]
    X = np.linspace(-1, 1, 60, dtype=np.float32).reshape(3, 20)
    Y = flux.onehotbatch(np.arange(20) % 2, range(2))
    flux.fit(model, X, Y, loss=flux.logitcrossentropy, opt=flux.Adam(), epochs=2, batchsize=4, progress=False)
    trained = [np.array(p) for p in flux.trainables(model)]
    return weights, mask, order, trained


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_seed_makes_a_script_reproducible():
    flux.seed(42)
    first = script()
    flux.seed(42)
    second = script()
    for a, b in zip(first, second):
        assert same(a, b)


def test_different_seeds_give_different_draws():
    flux.seed(1)
    weights1, mask1, order1, _ = script()
    flux.seed(2)
    weights2, mask2, order2, _ = script()
    assert not same(weights1, weights2)
    assert not np.array_equal(mask1, mask2) or order1 != order2


@pytest.mark.parametrize("draw", [
    lambda rng: flux.glorot_uniform(4, 3, rng=rng),
    lambda rng: flux.glorot_normal(4, 3, rng=rng),
    lambda rng: flux.kaiming_uniform(4, 3, rng=rng),
    lambda rng: flux.kaiming_normal(4, 3, rng=rng),
    lambda rng: flux.truncated_normal(4, 3, rng=rng),
    lambda rng: flux.orthogonal(4, 3, rng=rng),
    lambda rng: flux.rand32(4, 3, rng=rng),
    lambda rng: flux.randn32(4, 3, rng=rng),
    lambda rng: flux.trainmode(flux.Dropout(0.5, rng=rng))(np.ones((4, 3), np.float32)),
    lambda rng: np.concatenate(list(flux.DataLoader(np.arange(12), batchsize=4, shuffle=True, rng=rng))),
])
def test_each_default_follows_the_seed_and_an_explicit_rng_wins(draw):
    flux.seed(7)
    default = draw(None)
    flux.seed(7)
    assert np.array_equal(draw(None), default)
    assert np.array_equal(draw(np.random.default_rng(7)), default)  # the same stream, given explicitly
    flux.seed(8)
    explicit = draw(np.random.default_rng(123))
    flux.seed(9)
    assert np.array_equal(draw(np.random.default_rng(123)), explicit)


def test_a_dataloader_made_before_seed_uses_the_generator_at_each_epoch():
    loader = flux.DataLoader(np.arange(20), batchsize=5, shuffle=True)
    flux.seed(5)
    first = np.concatenate(list(loader))
    flux.seed(5)
    assert np.array_equal(np.concatenate(list(loader)), first)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", None, True])
def test_seed_rejects_anything_but_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="seed: expected a non-negative integer"):
        flux.seed(bad)
