"""The examples' pictures: PNG files written with matplotlib's Agg backend (no display needed).

matplotlib is optional (``pip install "pyflux[plot]"``); without it each function returns None and
the first call says so in one line. Every function takes the output folder first and returns the
path of the PNG it wrote.
"""

from pathlib import Path

import numpy as np

DEFAULT_OUT = "pyflux-examples-out"
_said_missing = False


def _figure(width, height):
    """A new matplotlib Figure, or None (saying so once) when matplotlib is missing. The Figure is made
    without pyplot, so it draws with the Agg backend and leaves the caller's pyplot backend alone."""
    global _said_missing
    try:
        from matplotlib.figure import Figure
    except ImportError:
        if not _said_missing:
            print('pictures: matplotlib is not installed, so no PNGs are written (pip install "pyflux[plot]")')
            _said_missing = True
        return None
    return Figure(figsize=(width, height), layout="constrained")


def _save(fig, out, name):
    folder = Path(out if out is not None else DEFAULT_OUT)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    fig.savefig(path, dpi=100, bbox_inches="tight")
    print(f"picture: {path}")
    return path


def curves(out, name, title, series, *, xlabel="epoch", ylabel="loss", logy=False):
    """Line plot of ``series``, a dict {label: ys} or {label: (xs, ys)}; xs default to 1, 2, ..."""
    fig = _figure(6, 4)
    if fig is None:
        return None
    ax = fig.subplots()
    for label, values in series.items():
        xs, ys = values if isinstance(values, tuple) else (np.arange(1, len(values) + 1), values)
        ax.plot(xs, ys, label=label, marker="o" if len(ys) <= 30 else None, markersize=3)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, out, name)


def unit_square(out, name, title, classify, points, classes, *, n=200):
    """The unit square shaded by ``classify`` (a function from a (2, k) array to k class indices 0/1),
    with ``points`` (2, 10) drawn as circles (class 0) and crosses (class 1), as Higham & Higham draw it."""
    fig = _figure(5, 5)
    if fig is None:
        return None
    grid = np.linspace(0, 1, n)
    g1, g2 = np.meshgrid(grid, grid)
    region = np.asarray(classify(np.stack([g1.ravel(), g2.ravel()]))).reshape(n, n)
    ax = fig.subplots()
    ax.contourf(g1, g2, region, levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#fdd0a2"])
    classes = np.asarray(classes)
    a, b = points[:, classes == 0], points[:, classes == 1]
    ax.scatter(a[0], a[1], marker="o", s=80, facecolors="none", edgecolors="k", linewidths=2, label="class A")
    ax.scatter(b[0], b[1], marker="x", s=80, c="k", linewidths=2, label="class B")
    ax.set(title=title, xlim=(0, 1), ylim=(0, 1), xlabel="x1", ylabel="x2", aspect="equal")
    ax.legend(loc="upper right")
    return _save(fig, out, name)


def digits(out, name, title, images, predicted, labels, *, columns=8, size=1.3):
    """A grid of 28x28 images (columns of ``images``, 784 x k) titled "predicted (true)", each about ``size``
    inches wide; mistakes in red."""
    k = images.shape[1]
    columns = min(columns, k)
    rows = -(-k // columns)
    fig = _figure(max(size * columns, 3.5) + 0.6, (size + 0.2) * rows + 0.9)
    if fig is None:
        return None
    axes = fig.subplots(rows, columns, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set(xticks=[], yticks=[])
        wrong = i < k and predicted[i] != labels[i]
        for spine in ax.spines.values():
            spine.set(visible=wrong, color="red", linewidth=3)
        if i >= k:
            ax.axis("off")
            continue
        ax.imshow(images[:, i].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{predicted[i]} ({labels[i]})", color="red" if wrong else "black", fontsize=8 * size ** 0.3)
    fig.suptitle(f"{title}\npredicted (true); mistakes framed in red", fontsize=11)
    return _save(fig, out, name)


def history(out, name, history):
    """The curves of a :class:`pyflux.History` (``History.plot()``), one panel per quantity."""
    if _figure(1, 1) is None:
        return None
    return _save(history.plot(), out, name)
