"""The Flux lecture's exercises, each answered by running code.

1. Plot the linear regression's loss as training goes: the mean loss over all samples, recorded
   every 100 steps of ``train`` through a callback, over three passes.
2. How many of the 10,000 samples are needed before W is within 0.1 of W_true? The same run checks
   max |W - W_true| after every step.
3. For the Higham network, how many per-sample SGD steps are needed before all ten points are
   classified, and do initial weights and biases from ``rand`` or from ``randn`` (both scaled by 0.5,
   as the paper scales randn) get there sooner? Checked every 1,000 steps, over several seeds.
4. Classify a random test image with the lecture's MNIST model (trained for two epochs), and show
   the image and the predicted digit.
"""

import numpy as np

import pyflux as flux
from pyflux.examples import _plot, higham, mnist_lecture
from pyflux.examples import linear_regression as lr
from pyflux.examples._cli import main as run_alone
from pyflux.examples._mnist import prepare


def loss_as_training_goes(n=10_000, passes=3, every=100, tolerance=0.1, seed=0):
    """Exercises 1 and 2: trains the lecture's linear regression; returns (steps, mean losses recorded
    every ``every`` steps, the first step after which max |W - W_true| < tolerance, or None)."""
    x_train, y_train = lr.make_data(n)
    rng = np.random.default_rng(seed + 1)
    W = flux.param(rng.random((2, 5)))
    b = flux.param(rng.random(2))
    loss = lambda x, y: flux.sum((y - (W @ x + b)) ** 2)
    steps, losses, first_close = [], [], []

    def record():
        step = len(first_close) + 1
        close = np.abs(np.asarray(W) - lr.W_TRUE).max() < tolerance
        first_close.append(close)
        if step % every == 0:
            residual = y_train - (x_train @ np.asarray(W).T + np.asarray(b))
            steps.append(step)
            losses.append(float(np.mean(np.sum(residual**2, axis=1))))

    opt = flux.Descent(0.001)
    for _ in range(passes):
        flux.train(loss, flux.params(W, b), zip(x_train, y_train), opt, cb=record)
    hits = np.flatnonzero(first_close)
    return steps, losses, (int(hits[0]) + 1 if len(hits) else None)


def higham_model(init, rng):
    """The 2-2-3-2 sigmoid network in float64 with weights and biases 0.5 * init(shape) from ``rng``."""
    draw = rng.random if init == "rand" else rng.standard_normal
    return flux.Chain(*(flux.Dense(0.5 * draw((n_out, n_in)), 0.5 * draw(n_out), flux.σ)
                        for n_in, n_out in ((2, 2), (2, 3), (3, 2))))


def steps_to_classify(init, seed, limit, chunk=1000):
    """Per-sample SGD steps (eta = 0.05, counted in ``chunk``s) until all ten points are classified, or None."""
    rng = np.random.default_rng(seed)
    x, y = higham.make_data()
    model = higham_model(init, rng)
    expected = flux.onecold(y, higham.CLASSES)
    for done in range(chunk, limit + 1, chunk):
        higham.fit(model, x, y, steps=chunk, rng=rng)
        if higham.classify(model, x) == expected:
            return done
    return None


def classify_random_image(path, quick, out, seed=0):
    """Exercise 4: (predicted digit, true digit), or None without MNIST."""
    prepared = prepare(path, seed, mnist_lecture.make_model, quick)
    if prepared is None:
        return None
    (X, Y, X_test, labels_test), model = prepared
    mnist_lecture.fit(model, X, Y, epochs=1 if quick else 2, rng=np.random.default_rng(seed + 1), every=1e9)
    i = int(np.random.default_rng(seed + 2).integers(X_test.shape[1]))
    image = X_test[:, i]
    predicted = int(flux.onecold(model(image)))
    print(f"test image {i}:")
    for row in image.reshape(28, 28)[::2]:
        print("  " + "".join(" .:-=+*#%@"[min(int(v * 10), 9)] for v in row[::1]))
    print(f"predicted digit {predicted}, true digit {labels_test[i]}")
    _plot.digits(out, "exercise4_digit.png", f"test image {i}", X_test[:, [i]], [predicted], [labels_test[i]],
                 columns=1, size=3)
    return predicted, int(labels_test[i])


def main(quick=False, out=None, path=None, seeds=None):
    """Answers the four exercises; returns their figures. ``quick``: 2,000 samples, one seed, fewer steps."""
    figures = {}
    n = 2000 if quick else 10_000
    print(f"(1) the linear regression's loss as training goes ({n:,} samples, Descent(0.001), three passes)")
    steps, losses, close = loss_as_training_goes(n)
    for step, value in zip(steps, losses):
        if step in (100, 1000) or step % n == 0:
            print(f"  after {step:6,} steps: mean loss {value:.4f}")
    _plot.curves(out, "exercise1_loss.png", "Linear regression: mean loss over the samples", {"loss": (steps, losses)},
                 xlabel="samples seen (steps)", logy=True)
    figures["final loss"] = losses[-1]
    print("(2) samples needed before max |W - W_true| < 0.1")
    if close is None:
        print(f"  not within 0.1 in {3 * n:,} steps")
    else:
        print(f"  {close:,} steps ({'within the first pass' if close <= n else f'pass {(close - 1) // n + 1}'})")
    figures["samples to 0.1"] = close if close is not None else "never"

    seeds = seeds or (range(1) if quick else range(4))
    limit = 20_000 if quick else 200_000
    print(f"(3) Higham: steps until all ten points are classified (checked every 1,000, at most {limit:,})")
    medians = {}
    for init in ("rand", "randn"):
        counts = [steps_to_classify(init, seed, limit) for seed in seeds]
        shown = ", ".join(f"{c:,}" if c else "not within the limit" for c in counts)
        reached = [c for c in counts if c]
        medians[init] = float(np.median(reached)) if reached else None
        print(f"  0.5 * {init:5} initial weights, seeds {list(seeds)}: {shown}", flush=True)
        figures[f"median steps {init}"] = medians[init] if reached else "never"
    if all(medians.values()):
        sooner = min(medians, key=medians.get)
        print(f"  sooner: {sooner} (median {medians[sooner]:,.0f} steps against "
              f"{max(medians.values()):,.0f})")

    print("(4) a random test image classified by the lecture's MNIST model")
    result = classify_random_image(path, quick, out)
    if result is not None:
        figures["image predicted"], figures["image true"] = result
    return figures


if __name__ == "__main__":
    raise SystemExit(run_alone("exercises"))
