"""Regression with Flux, as the Pluto notebook tutorial builds it up, in three parts.

1. An affine map y = W_true x + b_true with ``nx = ny = 4`` and ``nm = 1000`` points, the inputs
   scaled by ``input_range = 100`` (uniform in [-100, 100]); one ``Dense(4 => 4)`` trained on
   ``mse`` recovers W_true and b_true (the largest error in each is reported).
2. The same with noise added to the targets: the fit is still close, and the error now reflects
   the noise.
3. A nonlinear map, y = W_true sin(x) + b_true with x in [-2, 2]^4, that no affine model fits: a
   deeper network, ``Chain(Dense(4 => 32, tanh), Dense(32 => 32, tanh), Dense(32 => 4))``, fits it.

Each time the points are split into training (70%), validation (15%) and test (15%) sets; training
takes minibatches of 32 from ``DataLoader(..., shuffle=True)`` with Adam, and the loss of each split
is printed per epoch (every tenth epoch, and the last) and drawn as curves. The learning rate falls
geometrically to a tenth of its start over the epochs.
"""

import numpy as np

import pyflux as flux
from pyflux.examples import _plot
from pyflux.examples._cli import main as run_alone

NX = NY = 4
NM = 1000
INPUT_RANGE = 100
SPLITS = ("train", "validation", "test")


def affine_data(rng, noise=0.0):
    """(x, y, W_true, b_true): x is (nx, nm) uniform in [-input_range, input_range], y = W_true x + b_true
    plus ``noise`` times standard normal noise; float32, features x points."""
    W_true, b_true = rng.standard_normal((NY, NX)), rng.standard_normal(NY)
    x = INPUT_RANGE * (2 * rng.random((NX, NM)) - 1)
    y = W_true @ x + b_true[:, None] + noise * rng.standard_normal((NY, NM))
    return x.astype(np.float32), y.astype(np.float32), W_true, b_true


def nonlinear_data(rng):
    """(x, y): y = W_true sin(x) + b_true with x uniform in [-2, 2]^nx; float32."""
    W_true, b_true = rng.standard_normal((NY, NX)), rng.standard_normal(NY)
    x = 4 * rng.random((NX, NM)) - 2
    y = W_true @ np.sin(x) + b_true[:, None]
    return x.astype(np.float32), y.astype(np.float32)


def split(x, y, fractions=(0.7, 0.15)):
    """{"train": (x, y), "validation": ..., "test": ...}, the points taken in order (they are already random)."""
    n_train, n_val = (int(f * x.shape[1]) for f in fractions)
    cuts = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, x.shape[1])]
    return {name: (x[:, a:b], y[:, a:b]) for name, (a, b) in zip(SPLITS, cuts)}


def loss(m, x, y):
    return flux.mse(m(x), y)


def fit(model, splits, *, epochs, eta, batchsize=32, rng=None, title=""):
    """Adam on minibatches of the training split, ``epochs`` passes, the learning rate falling from
    ``eta`` to eta / 10 (``adjust``, geometrically per epoch) so that the steps settle; prints each split's
    loss every tenth epoch and returns the per-epoch losses {split: [...]}."""
    loader = flux.DataLoader(splits["train"], batchsize=batchsize, shuffle=True, rng=rng)
    state = flux.setup(flux.Adam(eta), model)
    history = {name: [] for name in SPLITS}
    for epoch in range(1, epochs + 1):
        flux.adjust(state, eta * 0.1 ** ((epoch - 1) / max(epochs - 1, 1)))
        flux.train(loss, model, loader, state)
        for name in SPLITS:
            history[name].append(float(loss(model, *splits[name])))
        if epoch % 10 == 0 or epoch in (1, epochs):
            print(f"  {title}epoch {epoch:3}: " + ", ".join(f"{name} {history[name][-1]:.4g}" for name in SPLITS),
                  flush=True)
    return history


def errors(model, W_true, b_true):
    """The largest absolute errors in the fitted weight and bias."""
    dense = model.layers[0] if isinstance(model, flux.Chain) else model
    return float(np.abs(np.asarray(dense.weight) - W_true).max()), float(np.abs(np.asarray(dense.bias) - b_true).max())


def fit_affine(rng, noise, epochs, out, name):
    x, y, W_true, b_true = affine_data(rng, noise)
    model = flux.Dense(NX, NY, init=flux.glorot_uniform(rng=rng))
    print(f"{model}, mse, Adam(0.1 falling to 0.01), batch 32, {epochs} epochs; targets with noise {noise}")
    history = fit(model, split(x, y), epochs=epochs, eta=0.1, rng=rng)
    dW, db = errors(model, W_true, b_true)
    print(f"  max |W - W_true| = {dW:.2e}, max |b - b_true| = {db:.2e}, test loss {history['test'][-1]:.4g}")
    _plot.curves(out, name, f"Dense(4 => 4) on an affine map, noise {noise}", history, logy=True)
    return dW, db


def main(quick=False, out=None, seed=0):
    """Runs the three parts; returns the errors of the affine fits and the test losses of part 3.
    ``quick`` trains for fewer epochs."""
    rng = np.random.default_rng(seed)
    epochs = 30 if quick else 100
    print(f"1. affine map, nx = ny = {NX}, nm = {NM}, input_range = {INPUT_RANGE}")
    dW, db = fit_affine(rng, 0.0, epochs, out, "regression_affine.png")
    print("2. the same map, noise of standard deviation 1 added to the targets")
    dW_noisy, db_noisy = fit_affine(rng, 1.0, epochs, out, "regression_noisy.png")
    print("3. a nonlinear map y = W_true sin(x) + b_true: an affine model, then a deeper network")
    splits = split(*nonlinear_data(rng))
    init = flux.glorot_uniform(rng=rng)
    affine = flux.Dense(NX, NY, init=init)
    deep = flux.Chain(flux.Dense(NX, 32, flux.tanh, init=init), flux.Dense(32, 32, flux.tanh, init=init),
                      flux.Dense(32, NY, init=init))
    print(deep)
    curves = {}
    for label, model, eta in (("affine", affine, 0.01), ("deep", deep, 0.01)):
        history = fit(model, splits, epochs=epochs, eta=eta, rng=rng, title=f"{label}: ")
        curves.update({f"{label} {name}": history[name] for name in SPLITS})
    test_affine, test_deep = curves["affine test"][-1], curves["deep test"][-1]
    print(f"  test loss: affine {test_affine:.4g}, deep {test_deep:.4g}")
    _plot.curves(out, "regression_nonlinear.png", "A nonlinear map: affine model vs deeper network", curves, logy=True)
    return {"max|W-W_true|": dW, "max|b-b_true|": db, "noisy max|W-W_true|": dW_noisy,
            "noisy max|b-b_true|": db_noisy, "nonlinear test loss affine": test_affine,
            "nonlinear test loss deep": test_deep}


if __name__ == "__main__":
    raise SystemExit(run_alone("regression"))
