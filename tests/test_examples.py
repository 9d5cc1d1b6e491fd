"""The course examples (pyflux/examples)."""

import subprocess
import sys

import numpy as np
import pytest

from pyflux.examples import keras_tape
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
