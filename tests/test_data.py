"""onehot, onehotbatch, onecold, flatten, DataLoader (pyflux/data.py)."""

import collections

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pyflux as flux

# ---------------------------------------------------------------------------------------------------
# onehot / onehotbatch


def test_onehot_marks_the_label_position():
    v = flux.onehot(3, range(5))
    assert v.dtype == np.float32 and v.shape == (5,)
    np.testing.assert_array_equal(v, [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(flux.onehot("b", "abc"), [0, 1, 0])
    np.testing.assert_array_equal(flux.onehot("dog", ["cat", "dog", "fish"]), [0, 1, 0])
    np.testing.assert_array_equal(flux.onehot(np.int64(7), np.arange(5, 10)), [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(flux.onehot(2.0, range(3)), [0, 0, 1])
    np.testing.assert_array_equal(flux.onehot((0, 1), [(0, 0), (0, 1)]), [0, 1])


def test_onehot_uses_the_first_equal_class():
    np.testing.assert_array_equal(flux.onehot("a", "bab"), [0, 1, 0])
    np.testing.assert_array_equal(flux.onehotbatch([1, 2], [2, 1, 1, 2]), [[0, 1], [1, 0], [0, 0], [0, 0]])


def test_onehot_default_takes_the_place_of_a_missing_label():
    np.testing.assert_array_equal(flux.onehot("z", "abc", "c"), [0, 0, 1])
    np.testing.assert_array_equal(flux.onehotbatch([0, 9, 1], range(3), 2), [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    with pytest.raises(ValueError, match="default 7"):
        flux.onehot(9, range(3), 7)


@pytest.mark.parametrize("call, text", [
    (lambda: flux.onehot("z", "abc"), ["'z'", "'abc'"]),
    (lambda: flux.onehotbatch([1, 2, 12], range(10)), ["12", "range(0, 10)"]),
    (lambda: flux.onehotbatch(np.array([1, 2, 12]), np.arange(10)), ["12", "[0, 1, 2"]),
    (lambda: flux.onehotbatch(["cat", "x", "y"], ["cat", "dog"]), ["'x'", "['cat', 'dog']", "2 labels"]),
    (lambda: flux.onehotbatch([99], np.arange(50)), ["99", "..., 48, 49]", "50 classes"]),
    (lambda: flux.onehotbatch(["1"], range(3)), ["'1'", "range(0, 3)"]),
    (lambda: flux.onehotbatch([1.5], range(3)), ["1.5"]),
    (lambda: flux.onehot(0, []), ["0", "[]"]),
])
def test_missing_label_names_it_and_the_classes(call, text):
    with pytest.raises(ValueError) as err:
        call()
    for t in text:
        assert t in str(err.value)


def test_onehotbatch_is_features_by_batch():
    y = flux.onehotbatch([0, 2, 1, 2], range(3))
    assert y.shape == (3, 4) and y.dtype == np.float32
    np.testing.assert_array_equal(y, [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(flux.onehotbatch("abca", "abc"), [[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0]])
    assert flux.onehotbatch([], range(4)).shape == (4, 0)
    np.testing.assert_array_equal(flux.onehotbatch(iter([1, 0]), range(2)), [[0, 1], [1, 0]])


def test_onehotbatch_of_nd_labels_adds_a_leading_axis():
    labels = np.array([[0, 1, 2], [2, 2, 0]])
    y = flux.onehotbatch(labels, range(3))
    assert y.shape == (3, 2, 3)
    np.testing.assert_array_equal(y.argmax(axis=0), labels)
    words = np.array([["a", "b"], ["c", "a"]])
    np.testing.assert_array_equal(flux.onehotbatch(words, "abc").argmax(axis=0), [[0, 1], [2, 0]])


@pytest.mark.parametrize("classes", [
    range(10), list(range(10)), tuple(range(10)), np.arange(10), np.arange(10, dtype=np.uint8),
    np.arange(10.0), range(9, -1, -1), [str(i) for i in range(10)],
])
def test_onehotbatch_of_many_labels_matches_a_reference(classes):
    rng = np.random.default_rng(0)
    positions = rng.integers(0, 10, 60_000)
    seq = list(classes)
    labels = [seq[i] for i in positions] if isinstance(seq[0], str) else np.asarray(seq)[positions]
    y = flux.onehotbatch(labels, classes)
    expected = np.zeros((10, 60_000), dtype=np.float32)
    expected[positions, np.arange(60_000)] = 1
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("labels", [np.array([0, 3, 1], dtype=np.uint8), np.array([0.0, 3.0, 1.0]), [0, 3, 1],
                                    np.array([0, 3, 1], dtype=np.int16)])
def test_label_dtypes_match_integer_classes(labels):
    np.testing.assert_array_equal(flux.onehotbatch(labels, range(4)).argmax(axis=0), [0, 3, 1])


@given(st.lists(st.integers(-5, 5), min_size=1, max_size=8), st.lists(st.integers(-5, 5), max_size=20))
def test_vectorised_and_python_lookups_agree(classes, labels):
    as_objects = [object()] + classes  # an unhashable-free generic path: a class no label can equal
    present = [x for x in labels if x in classes]
    fast = flux.onehotbatch(np.array(present, dtype=np.int64), np.array(classes))
    slow = flux.onehotbatch(present, as_objects)[1:]
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(fast.argmax(axis=0) if present else [], [classes.index(x) for x in present])


# ---------------------------------------------------------------------------------------------------
# onecold


def test_onecold_of_a_vector_is_one_label():
    assert flux.onecold(np.array([0.1, 0.7, 0.2])) == 1
    assert isinstance(flux.onecold(np.array([0.1, 0.7, 0.2])), int)
    assert flux.onecold([0.1, 0.7, 0.2], "abc") == "b"
    assert flux.onecold(np.float32([0.3, 0.1]), ["cat", "dog"]) == "cat"
    assert flux.onecold([1, 5, 5]) == 1  # ties go to the first maximum


def test_onecold_of_a_matrix_labels_each_column():
    y = np.array([[0.1, 0.9, 0.3], [0.8, 0.05, 0.3], [0.1, 0.05, 0.4]])
    np.testing.assert_array_equal(flux.onecold(y), [1, 0, 2])
    np.testing.assert_array_equal(flux.onecold(y, range(10, 13)), [11, 10, 12])
    np.testing.assert_array_equal(flux.onecold(y, np.array([2.5, 3.5, 4.5])), [3.5, 2.5, 4.5])
    assert flux.onecold(y, "abc") == ["b", "a", "c"]
    assert flux.onecold(y, ["x", "y", "z"]) == ["y", "x", "z"]
    assert flux.onecold(np.zeros((3, 0))).shape == (0,)


def test_onecold_of_more_axes():
    y = np.zeros((3, 2, 2))
    y[2, 0, 0] = y[1, 0, 1] = y[0, 1, 0] = y[2, 1, 1] = 1
    np.testing.assert_array_equal(flux.onecold(y), [[2, 1], [0, 2]])
    assert flux.onecold(y, ["a", "b", "c"]).tolist() == [["c", "b"], ["a", "c"]]


@pytest.mark.parametrize("classes", [None, range(10), np.arange(10, 20), "abcdefghij", [f"c{i}" for i in range(10)]])
def test_onecold_inverts_onehotbatch(classes):
    rng = np.random.default_rng(1)
    seq = range(10) if classes is None else classes
    labels = [seq[i] for i in rng.integers(0, 10, 50)]
    decoded = flux.onecold(flux.onehotbatch(labels, seq), classes)
    assert list(decoded) == labels


def test_onecold_errors():
    with pytest.raises(ValueError, match="NaN"):
        flux.onecold(np.array([0.1, np.nan, 0.2]))
    with pytest.raises(ValueError, match="NaN in column 1$"):
        flux.onecold(np.array([[1.0, 0.0], [0.0, np.nan]]))
    with pytest.raises(ValueError, match=r"NaN in column \(0, 1\)"):
        flux.onecold(np.array([[[1.0, np.nan]], [[0.0, 0.0]]]))
    with pytest.raises(ValueError, match="2 classes for y with 3 entries"):
        flux.onecold(np.ones((3, 4)), ["a", "b"])
    with pytest.raises(ValueError, match=r"shape \(\)"):
        flux.onecold(np.float32(1))
    with pytest.raises(ValueError, match=r"shape \(0, 2\)"):
        flux.onecold(np.zeros((0, 2)))


# ---------------------------------------------------------------------------------------------------
# flatten


@pytest.mark.parametrize("shape, out", [((28, 28, 1, 5), (784, 5)), ((3, 4), (3, 4)), ((6,), (1, 6)),
                                        ((2, 3, 0), (6, 0)), ((0, 3), (0, 3))])
def test_flatten_keeps_the_last_axis(shape, out):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    y = flux.flatten(x)
    assert y.shape == out
    np.testing.assert_array_equal(y.ravel(), x.ravel())
    assert np.shares_memory(x, y) or x.size == 0


def test_flatten_keeps_each_sample_together():
    x = np.random.default_rng(2).random((2, 3, 4))
    np.testing.assert_array_equal(flux.flatten(x)[:, 1], x[:, :, 1].ravel())


def test_flatten_is_differentiable():
    x = np.random.default_rng(3).random((2, 3, 4))
    w = np.random.default_rng(4).random((6, 4))
    (g,) = flux.gradient(lambda x: flux.sum(flux.flatten(x) * w), x)
    np.testing.assert_allclose(g, w.reshape(2, 3, 4))


def test_flatten_of_a_scalar_is_an_error():
    with pytest.raises(ValueError, match="0-d"):
        flux.flatten(np.float64(1.0))


# ---------------------------------------------------------------------------------------------------
# DataLoader


@pytest.fixture
def xy():
    x = np.arange(30, dtype=np.float32).reshape(3, 10)
    y = np.arange(10) * 10
    return x, y


def test_batches_in_order(xy):
    x, y = xy
    loader = flux.DataLoader((x, y), batchsize=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[0].shape for b in batches] == [(3, 4), (3, 4), (3, 2)]
    assert [b[1].shape for b in batches] == [(4,), (4,), (2,)]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches], axis=1), x)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    assert all(type(b) is tuple for b in batches)


def test_single_array_yields_arrays(xy):
    x, _ = xy
    batches = list(flux.DataLoader(x, batchsize=5))
    assert len(batches) == 2 and all(isinstance(b, np.ndarray) and b.shape == (3, 5) for b in batches)


def test_batchsize_one_keeps_the_batch_axis(xy):
    x, y = xy
    first = next(iter(flux.DataLoader((x, y))))
    assert first[0].shape == (3, 1) and first[1].shape == (1,)
    assert len(flux.DataLoader((x, y))) == 10


def test_negative_batchsize_yields_single_observations(xy):
    x, y = xy
    obs = list(flux.DataLoader((x, y), batchsize=-1))
    assert len(obs) == 10 and obs[3][0].shape == (3,) and obs[3][1].shape == ()
    np.testing.assert_array_equal(obs[3][0], x[:, 3])


def test_partial_false_drops_the_short_batch(xy):
    x, y = xy
    loader = flux.DataLoader((x, y), batchsize=4, partial=False)
    assert len(loader) == 2 and [b[0].shape[1] for b in loader] == [4, 4]
    assert len(flux.DataLoader(x, batchsize=11, partial=False)) == 0
    assert [b.shape for b in flux.DataLoader(x, batchsize=11)] == [(3, 10)]


def test_shuffle_covers_everything_and_reshuffles_each_epoch(xy):
    x, y = xy
    loader = flux.DataLoader((x, y), batchsize=3, shuffle=True, rng=0)
    epochs = []
    for _ in range(4):
        batches = list(loader)
        xs = np.concatenate([b[0] for b in batches], axis=1)
        ys = np.concatenate([b[1] for b in batches])
        np.testing.assert_array_equal(xs[0] * 10, ys)  # columns stay paired with their labels
        assert sorted(ys.tolist()) == y.tolist()
        epochs.append(ys.tolist())
    assert len({tuple(e) for e in epochs}) > 1


def test_shuffle_is_reproducible_from_the_seed(xy):
    x, _ = xy
    a = [b.tolist() for b in flux.DataLoader(x, batchsize=4, shuffle=True, rng=7)]
    b = [b.tolist() for b in flux.DataLoader(x, batchsize=4, shuffle=True, rng=7)]
    c = [b.tolist() for b in flux.DataLoader(x, batchsize=4, shuffle=True, rng=np.random.default_rng(7))]
    assert a == b == c


def test_batches_are_contiguous_copies():
    rng = np.random.default_rng(5)
    c_data = rng.random((6, 50), dtype=np.float32)
    f_data = np.asfortranarray(c_data)
    strided = rng.random((6, 100))[:, ::2]
    for data in (c_data, f_data, strided, rng.random((2, 3, 50))):
        for shuffle in (False, True):
            for b in flux.DataLoader(data, batchsize=7, shuffle=shuffle, rng=1):
                assert b.flags.c_contiguous or b.flags.f_contiguous
                assert not np.shares_memory(b, data)
    first = next(iter(flux.DataLoader(f_data, batchsize=7, shuffle=True, rng=1)))
    assert first.flags.f_contiguous  # batch-first storage seen through .T keeps its layout
    batch = next(iter(flux.DataLoader(c_data, batchsize=4)))
    batch[:] = -1
    assert c_data.min() >= 0


def test_nd_data_is_batched_along_the_last_axis():
    images = np.random.default_rng(6).random((4, 4, 1, 9))
    (b, *_) = list(flux.DataLoader(images, batchsize=4))
    assert b.shape == (4, 4, 1, 4)
    np.testing.assert_array_equal(b, images[..., :4])


def test_dict_and_namedtuple_data(xy):
    x, y = xy
    d = next(iter(flux.DataLoader({"data": x, "label": y}, batchsize=2)))
    assert list(d) == ["data", "label"] and d["data"].shape == (3, 2) and d["label"].tolist() == [0, 10]
    Pair = collections.namedtuple("Pair", "x y")
    p = next(iter(flux.DataLoader(Pair(x, y), batchsize=2)))
    assert isinstance(p, Pair) and p.y.tolist() == [0, 10]


def test_two_positional_arrays_is_a_helpful_error(xy):
    x, y = xy
    with pytest.raises(TypeError, match=r"DataLoader\(\(X, Y\)"):
        flux.DataLoader(x, y)
    with pytest.raises(TypeError, match="tuple"):
        flux.DataLoader([x, y])
    with pytest.raises(TypeError, match="keywords"):
        flux.DataLoader(x, 4)


def test_observation_counts_must_agree():
    with pytest.raises(ValueError, match=r"\(10, 9\)"):
        flux.DataLoader((np.zeros((3, 10)), np.zeros(9)))


@pytest.mark.parametrize("bad", [0, 2.5, True, "4"])
def test_batchsize_must_be_a_nonzero_integer(xy, bad):
    with pytest.raises(ValueError, match="batchsize"):
        flux.DataLoader(xy[0], batchsize=bad)


def test_other_bad_data():
    with pytest.raises(ValueError, match="0-dimensional"):
        flux.DataLoader(np.float32(3))
    with pytest.raises(ValueError, match="empty tuple"):
        flux.DataLoader(())
    with pytest.raises(TypeError, match="nested"):
        flux.DataLoader(((np.zeros(3), np.zeros(3)), np.zeros(3)))


def test_empty_data_has_no_batches():
    loader = flux.DataLoader(np.zeros((3, 0)), batchsize=2, shuffle=True)
    assert len(loader) == 0 and list(loader) == []


def test_repr(xy):
    x, y = xy
    assert repr(flux.DataLoader(x)) == "DataLoader(data::3x10 float32 array)"
    assert repr(flux.DataLoader((x, y), batchsize=5, shuffle=True, rng=3)) == (
        "DataLoader(data::(3x10 float32 array, 10-element int64 array), shuffle=True, batchsize=5, rng=3)")
    assert repr(flux.DataLoader({"x": x}, batchsize=4, partial=False)) == (
        "DataLoader(data::{'x': 3x10 float32 array}, batchsize=4, partial=False)")


def test_a_model_trains_on_its_batches():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((256, 3), dtype=np.float32).T  # batch-first storage, features x batch view
    y = (np.float32([[1.0, -2.0, 0.5]]) @ x) + 0.3
    model = flux.Dense(3, 1)
    state = flux.setup(flux.Descent(0.1), model)
    for _ in range(30):
        for xb, yb in flux.DataLoader((x, y), batchsize=32, shuffle=True, rng=rng):
            _, grads = flux.withgradient(lambda m, xb=xb, yb=yb: flux.mse(m(xb), yb), model)
            flux.update(state, model, grads[0])
    assert float(flux.mse(model(x), y)) < 1e-4
