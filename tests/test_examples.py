"""The course examples (pyflux/examples)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyflux as flux
from pyflux.examples import _mnist, higham, keras_tape, mnist_keras, mnist_lecture
from pyflux.examples import linear_regression as lr


def test_keras_tape_values():
    (_, g1), (_, g2), (_, g3) = keras_tape.examples()
    assert g1 == 2.0 and g2 == 12.0
    np.testing.assert_array_equal(g3, [[4.0, 8.0], [12.0, 16.0]])


@pytest.fixture(scope="module")
def data():
    return lr.make_data()


def test_make_data(data):
    x, y = data
    assert x.shape == (10_000, 5) and y.shape == (10_000, 2)
    assert 5 <= x.min() and x.max() < 10
    noise = y - (x @ lr.W_TRUE.T + lr.B_TRUE)
    assert noise.std() == pytest.approx(0.2, rel=0.05)
    np.testing.assert_array_equal(lr.make_data()[0], x)  # seeded


@pytest.fixture(scope="module")
def fitted(data):
    return {method.__name__: method(*data, eta=0.001, epochs=3) for method in (lr.fit, lr.fit_the_longer_way)}


@pytest.mark.parametrize("method", ["fit", "fit_the_longer_way"])
def test_linear_regression_recovers_w(fitted, method):
    W, b = fitted[method]
    assert W.shape == (2, 5) and b.shape == (2,)
    assert np.abs(np.asarray(W) - lr.W_TRUE).max() < 0.15


def test_both_ways_take_the_same_steps(fitted):
    for a, b in zip(fitted["fit"], fitted["fit_the_longer_way"]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12)


def test_learning_rate_001_diverges(data):
    err = lr.diverges(*data, eta=0.01)
    assert isinstance(err, ValueError) and "data item" in str(err)


def test_small_learning_rate_does_not_diverge(data):
    x, y = data
    assert lr.diverges(x[:2000], y[:2000], eta=0.001) is None


def test_python_m_pyflux_examples(tmp_path):
    # Started outside the source tree, so that it runs the installed (built) package.
    result = subprocess.run([sys.executable, "-m", "pyflux.examples"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    tape_results = [line.rsplit(": ", 1)[1] for line in lines if line.startswith("d/dx")]
    assert tape_results == ["2.0", "12.0", "[[4.0, 8.0], [12.0, 16.0]]"]
    assert any("0.01" in line and "diverges" in line for line in lines)
    errors = [float(line.rsplit("= ", 1)[1]) for line in lines if "max |W - W_true|" in line]
    assert len(errors) == 2 and max(errors) < 0.15
    assert "correctly classified: 10 of 10" in lines


def test_higham_data():
    x, y = higham.make_data()
    assert x.shape == (2, 10) and y.shape == (2, 10) and x.dtype == np.float64
    assert flux.onecold(y, higham.CLASSES) == ["A"] * 5 + ["B"] * 5


def test_higham_classifies_all_ten_points():
    x, y = higham.make_data()
    model, before, after = higham.run()  # the default steps and seed, as main() runs them
    assert model.layers[0].weight.dtype == np.float64
    assert after < before / 10
    assert higham.classify(model, x) == flux.onecold(y, higham.CLASSES)


def test_mnist_missing_folder_skips(tmp_path, capsys):
    assert mnist_keras.main(tmp_path) is None and mnist_lecture.main(tmp_path) is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith("skipped: MNIST not found") for line in lines)


@pytest.fixture(scope="module")
def mnist():
    folder, reason = _mnist.find_mnist(os.environ.get("PYFLUX_MNIST") or Path(__file__).parents[2] / "shared/data/mnist")
    if folder is None:
        pytest.skip(reason)
    return _mnist.load(folder)


def test_mnist_keras_accuracy(mnist):
    # Seeds 0-4 give 97.75-98.06% after 5 epochs (the book: about 97.8%).
    X, Y, X_test, labels_test = mnist
    rng = np.random.default_rng(0)
    model = mnist_keras.fit(mnist_keras.make_model(rng), X, Y, epochs=5, rng=rng)
    assert _mnist.accuracy(model, X_test, labels_test) >= 0.97


def test_mnist_lecture_accuracy(mnist):
    # Seeds 0-4 give 95.8-96.3% after 5 epochs of minibatches.
    X, Y, X_test, labels_test = mnist
    rng = np.random.default_rng(0)
    model = mnist_lecture.fit(mnist_lecture.make_model(rng), X, Y, epochs=5, rng=rng, every=1e9)
    assert _mnist.accuracy(model, X_test, labels_test) >= 0.90
