"""The course examples (pyflux/examples)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyflux as flux
from pyflux.examples import _cli, _mnist, _plot, exercises, higham, keras_tape, mnist_keras, mnist_lecture, \
    mnist_sigmoid, regression
from pyflux.examples import linear_regression as lr
from tiny_mnist import write_tiny_mnist

MNIST_EXAMPLES = (mnist_lecture, mnist_keras, mnist_sigmoid)


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


def run_examples(args, cwd, env=None):
    # Started outside the source tree, so that it runs the installed (built) package.
    return subprocess.run([sys.executable, "-m", "pyflux.examples", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def test_python_m_pyflux_examples(tmp_path):
    result = run_examples(["keras_tape", "linear_regression"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    tape_results = [line.rsplit(": ", 1)[1] for line in lines if line.startswith("d/dx")]
    assert tape_results == ["2.0", "12.0", "[[4.0, 8.0], [12.0, 16.0]]"]
    assert any("0.01" in line and "diverges" in line for line in lines)
    errors = [float(line.rsplit("= ", 1)[1]) for line in lines if "max |W - W_true|" in line]
    assert len(errors) == 2 and max(errors) < 0.15
    assert [line.split(":")[0] for line in lines if line.startswith("-- ")] == \
        ["-- keras_tape", "-- linear_regression"]  # each with its elapsed time
    assert lines[-1].startswith("total")


def test_pyflux_examples_quick_without_mnist_runs_all_and_skips_mnist(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYFLUX_MNIST"}
    result = run_examples(["--quick", "--out", str(tmp_path / "pictures")], tmp_path, env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0][3:] for line in lines if line.startswith("-- ")] == list(_cli.EXAMPLES)
    summary = lines[lines.index("== summary") + 1:]
    skipped = [line.split()[0] for line in summary if line.endswith("skipped")]
    assert skipped == ["mnist_lecture", "mnist_keras", "mnist_sigmoid"]
    assert sum("skipped: MNIST not found" in line for line in lines) == 4  # and exercise (4)
    pictures = {p.name for p in (tmp_path / "pictures").iterdir()}
    assert {"higham.png", "exercise1_loss.png", "regression_nonlinear.png"} <= pictures


def test_pyflux_examples_rejects_an_unknown_name(tmp_path):
    result = run_examples(["higam"], tmp_path)
    assert result.returncode == 2 and "no example named higam" in result.stderr


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
    for example in MNIST_EXAMPLES:
        assert example.main(path=tmp_path) is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith("skipped: MNIST not found") for line in lines)


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    return write_tiny_mnist(tmp_path_factory.mktemp("tiny_mnist"))


def test_tiny_mnist_is_read_as_mnist(tiny_mnist):
    X, Y, X_test, labels_test = _mnist.load(tiny_mnist)
    assert X.shape == (784, 600) and Y.shape == (10, 600) and X_test.shape == (784, 200)
    assert X.dtype == np.float32 and 0 <= X.min() and X.max() == 1


@pytest.mark.parametrize("example", MNIST_EXAMPLES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_mnist_example_main_on_tiny_data(example, tiny_mnist, tmp_path, capsys):
    figures = example.main(quick=True, out=tmp_path, path=tiny_mnist)
    assert 0.5 < figures["test accuracy"] <= 1  # the bars are easy: well above chance (0.1)
    out = capsys.readouterr().out.lower()
    assert "epoch 1" in out and "test accuracy" in out
    assert {p.name for p in tmp_path.iterdir()} >= {f"{example.__name__.rsplit('.', 1)[1]}_digits.png"}


@pytest.mark.parametrize("example", MNIST_EXAMPLES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_mnist_example_repeats_from_its_seed(example, tiny_mnist, tmp_path):
    # fit draws its minibatch order from pyflux's default generator, which prepare seeds. Equal to
    # rounding, not bitwise: how many threads the kernels and BLAS use follows the load from other
    # processes, and with it the order in which some sums are taken.
    first, second = (example.main(quick=True, out=tmp_path / name, path=tiny_mnist, epochs=1) for name in "ab")
    assert first == pytest.approx(second, rel=1e-6, abs=0)


@pytest.fixture(scope="module")
def mnist_folder():
    default = Path(__file__).parents[2] / "shared/data/mnist"
    folder, reason = _mnist.find_mnist(os.environ.get("PYFLUX_MNIST") or default)
    if folder is None:
        pytest.skip(reason)
    return folder


@pytest.fixture(scope="module")
def mnist(mnist_folder):
    return _mnist.load(mnist_folder)


@pytest.mark.parametrize("example", MNIST_EXAMPLES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_mnist_example_main_quick_on_mnist(example, mnist_folder, tmp_path):
    # --quick: 6,000 training images, 2-3 epochs (784-40-10 with Adam: 84%).
    figures = example.main(quick=True, out=tmp_path, path=mnist_folder)
    assert figures["test accuracy"] > 0.75


def test_mnist_keras_accuracy(mnist):
    # Seeds 0-4 give 97.75-98.06% after 5 epochs (the book: about 97.8%).
    X, Y, X_test, labels_test = mnist
    model = mnist_keras.make_model(np.random.default_rng(0))
    history = mnist_keras.fit(model, X, Y, epochs=5, progress=False)
    assert history.history["accuracy"][-1] > 0.98
    assert _mnist.accuracy(model, X_test, labels_test) >= 0.97


@pytest.fixture
def no_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setattr(_plot, "_said_missing", False)


def test_without_matplotlib_examples_say_so_once_and_carry_on(no_matplotlib, tiny_mnist, tmp_path, capsys):
    for example in MNIST_EXAMPLES[:2]:  # one plain, one with fit's History
        assert example.main(quick=True, out=tmp_path, path=tiny_mnist) is not None
    assert higham.main(quick=True, out=tmp_path)["classified"] >= 0
    lines = capsys.readouterr().out.splitlines()
    assert sum("matplotlib is not installed" in line for line in lines) == 1
    assert not any(tmp_path.iterdir())


def test_exercises_answer_each_question(tiny_mnist, tmp_path, capsys):
    figures = exercises.main(quick=True, out=tmp_path, path=tiny_mnist)
    out = capsys.readouterr().out
    for number in "(1)", "(2)", "(3)", "(4)":
        assert number in out
    assert figures["final loss"] < 1  # noise alone gives 2 * 0.2^2 = 0.08
    assert isinstance(figures["samples to 0.1"], int)
    assert figures["image predicted"] in range(10)
    assert {"exercise1_loss.png", "exercise4_digit.png"} <= {p.name for p in tmp_path.iterdir()}


def test_regression_recovers_the_affine_map(tmp_path):
    figures = regression.main(quick=True, out=tmp_path)
    assert figures["max|W-W_true|"] < 0.05 and figures["max|b-b_true|"] < 0.05
    assert figures["nonlinear test loss deep"] < figures["nonlinear test loss affine"] / 2
