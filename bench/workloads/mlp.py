"""Minibatch training of a multilayer perceptron, written once per peer: the shared body of W3,
W4 and W5, which differ only in sizes, activations, optimiser, batch size and data.

Every peer computes ``a = act(W a + b)`` layer by layer (features x batch, W (out, in)), the last
layer's output being the logits, and ``loss = mean over the batch of -Σ y log softmax(logits)``
(pyflux's ``logitcrossentropy``, PyTorch's ``cross_entropy``), then one optimiser step per batch.
The optimisers follow Flux's definitions (see ``pyflux.optimise``); numpy, JAX and autograd spell
them out.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np

from bench.data import one_hot
from bench.harness import Runner
from bench.workloads.common import Case, Impl, Target, change, cycle, glorot, s_per_epoch


@dataclass(frozen=True)
class Spec:
    sizes: tuple   # (784, 512, 10)
    acts: tuple    # one per layer: "relu", "sigmoid" or "identity"
    rule: tuple    # ("adam", eta, (beta1, beta2), epsilon) or ("rmsprop", eta, rho, epsilon)

    @property
    def layers(self):
        return len(self.sizes) - 1


def make_problem(spec, rows, labels, batch, test=None, seed=0):
    """Initial weights (glorot, zero bias) and the batches ``(rows (B, 784), labels (B,),
    one-hot (10, B))`` in a seeded shuffled order; ``test`` is ``(rows, labels)`` or None."""
    rng = np.random.default_rng(seed)
    init = {}
    for i in range(spec.layers):
        init[f"W{i}"] = glorot(rng, spec.sizes[i + 1], spec.sizes[i])
        init[f"b{i}"] = np.zeros(spec.sizes[i + 1], dtype=np.float32)
    order = rng.permutation(rows.shape[0])
    rows, labels = np.ascontiguousarray(rows[order]), labels[order]
    batches = [(rows[i:i + batch], labels[i:i + batch], one_hot(labels[i:i + batch]))
               for i in range(0, rows.shape[0], batch)]
    return dict(spec=spec, init=init, batches=batches, test=test)


def _accuracy(predict, test):
    """Fraction of test images whose largest logit is the label; ``predict(rows)`` gives logits
    (10, N) features x batch."""
    rows, labels = test
    return float(np.mean(np.argmax(np.asarray(predict(rows)), axis=0) == labels))


def _runner(problem, run, weights, predict):
    test = problem["test"]
    extras = (lambda: {"test_accuracy": _accuracy(predict, test)}) if test is not None else None
    return Runner(run=run, result=lambda: change(weights(), problem["init"]), extras=extras)


# --- pyflux ---------------------------------------------------------------------------------------

def pyflux_model(spec, init):
    import pyflux as flux
    acts = {"relu": flux.relu, "sigmoid": flux.sigmoid, "identity": flux.identity}
    return flux.Chain(*(flux.Dense(init[f"W{i}"], init[f"b{i}"], acts[a]) for i, a in enumerate(spec.acts)))


def _pyflux_rule(rule):
    import pyflux as flux
    name, eta, *rest = rule
    return flux.Adam(eta, *rest) if name == "adam" else flux.RMSProp(eta, *rest)


def build_pyflux(problem, steps, capture=False):
    import pyflux as flux
    spec = problem["spec"]
    model = pyflux_model(spec, problem["init"])
    state = flux.setup(_pyflux_rule(spec.rule), model)
    data = [(x.T, y) for x, _, y in cycle(problem["batches"], steps)]

    def loss(m, x, y):
        return flux.logitcrossentropy(m(x), y)

    def weights():
        return {f"{k}{i}": np.asarray(getattr(layer, a)) for i, layer in enumerate(model)
                for k, a in (("W", "weight"), ("b", "bias"))}

    return _runner(problem, lambda: flux.train(loss, model, data, state, capture=capture), weights,
                   lambda rows: model(rows.T))


# --- numpy by hand --------------------------------------------------------------------------------

class NumpyRule:
    """The optimiser of a Spec on a list of numpy arrays, in place (also used for autograd)."""

    def __init__(self, rule, params):
        self.name, self.eta, *self.hyper = rule
        self.state = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        for p, g, (m, v) in zip(params, grads, self.state):
            if self.name == "adam":
                (b1, b2), eps = self.hyper
                m[...] = b1 * m + (1 - b1) * g
                v[...] = b2 * v + (1 - b2) * g * g
                p -= self.eta * (m / (1 - b1 ** self.t)) / (np.sqrt(v / (1 - b2 ** self.t)) + eps)
            else:
                rho, eps = self.hyper
                v[...] = rho * v + (1 - rho) * g * g
                p -= self.eta * g / (np.sqrt(v) + eps)


NUMPY_ACTS = {  # activation, and its derivative written from the output a
    "relu": (lambda z: np.maximum(z, 0), lambda a: a > 0),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda a: a * (1 - a)),
    "identity": (lambda z: z, lambda a: 1),
}


def numpy_forward(spec, params, x):
    """All activations ``[x, a1, ..., logits]`` for x (in, B) or (in,)."""
    acts = [x]
    for i, name in enumerate(spec.acts):
        W, b = params[2 * i], params[2 * i + 1]
        z = W @ acts[-1] + (b[:, None] if x.ndim == 2 else b)
        acts.append(NUMPY_ACTS[name][0](z))
    return acts


def build_numpy(problem, steps):
    spec = problem["spec"]
    params = [problem["init"][f"{k}{i}"].copy() for i in range(spec.layers) for k in "Wb"]
    opt = NumpyRule(spec.rule, params)
    data = [(x.T, y) for x, _, y in cycle(problem["batches"], steps)]

    def gradients(x, y):
        acts = numpy_forward(spec, params, x)
        z = acts[-1]
        p = np.exp(z - z.max(axis=0))
        p /= p.sum(axis=0)
        dz = (p - y) / x.shape[1]                   # ∂loss/∂logits for the batch mean
        grads = [None] * len(params)
        for i in reversed(range(spec.layers)):
            grads[2 * i] = dz @ acts[i].T             # dW = dz aᵀ
            grads[2 * i + 1] = dz.sum(axis=1)         # db = row sums of dz
            if i > 0:
                dz = (params[2 * i].T @ dz) * NUMPY_ACTS[spec.acts[i - 1]][1](acts[i])
        return grads

    def run():
        for x, y in data:
            opt.step(params, gradients(x, y))

    def weights():
        return {f"{k}{i}": params[2 * i + j] for i in range(spec.layers) for j, k in enumerate("Wb")}

    return _runner(problem, run, weights, lambda rows: numpy_forward(spec, params, rows.T)[-1])


# --- PyTorch --------------------------------------------------------------------------------------

def torch_model(spec, init):
    import torch
    acts = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}
    layers = []
    for i, act in enumerate(spec.acts):
        linear = torch.nn.Linear(spec.sizes[i], spec.sizes[i + 1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(init[f"W{i}"]))
            linear.bias.copy_(torch.from_numpy(init[f"b{i}"]))
        layers += [linear] + ([acts[act]()] if act in acts else [])
    return torch.nn.Sequential(*layers)


def build_torch(problem, steps):
    import torch
    import torch.nn.functional as F
    spec = problem["spec"]
    model = torch_model(spec, problem["init"])
    name, eta, *hyper = spec.rule
    if name == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=eta, betas=hyper[0], eps=hyper[1])
    else:
        opt = torch.optim.RMSprop(model.parameters(), lr=eta, alpha=hyper[0], eps=hyper[1])
    data = [(torch.from_numpy(x), torch.from_numpy(labels)) for x, labels, _ in cycle(problem["batches"], steps)]

    def run():
        for x, labels in data:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), labels)
            loss.backward()
            opt.step()

    linears = [m for m in model if isinstance(m, torch.nn.Linear)]

    def weights():
        return {f"{k}{i}": getattr(lin, a).detach().numpy() for i, lin in enumerate(linears)
                for k, a in (("W", "weight"), ("b", "bias"))}

    def predict(rows):
        with torch.inference_mode():
            return model(torch.tensor(rows)).numpy().T  # a copy: the test images are read-only

    return _runner(problem, run, weights, predict)


# --- JAX ------------------------------------------------------------------------------------------

def jax_forward(spec, params, x):
    """Logits for x (in, B) or (in,); params a list of (W, b)."""
    import jax
    acts = {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "identity": lambda z: z}
    a = x
    for (W, b), name in zip(params, spec.acts):
        a = acts[name](W @ a + (b[:, None] if x.ndim == 2 else b))
    return a


def _jax_update(rule):
    """``update(params, grads, state) -> (params, state)`` and the initial state."""
    import jax
    import jax.numpy as jnp
    tmap = jax.tree_util.tree_map
    name, eta, *hyper = rule
    if name == "adam":
        (b1, b2), eps = hyper

        def update(p, g, s):
            m, v, t = s
            t = t + 1
            m = tmap(lambda m, g: b1 * m + (1 - b1) * g, m, g)
            v = tmap(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
            p = tmap(lambda p, m, v: p - eta * (m / (1 - b1 ** t)) / (jnp.sqrt(v / (1 - b2 ** t)) + eps), p, m, v)
            return p, (m, v, t)

        return update, lambda p: (tmap(jnp.zeros_like, p), tmap(jnp.zeros_like, p), jnp.zeros((), jnp.float32))
    rho, eps = hyper

    def update(p, g, s):
        s = tmap(lambda s, g: rho * s + (1 - rho) * g * g, s, g)
        return tmap(lambda p, g, s: p - eta * g / (jnp.sqrt(s) + eps), p, g, s), s

    return update, lambda p: tmap(jnp.zeros_like, p)


def build_jax(problem, steps):
    import jax
    spec = problem["spec"]
    update, init_state = _jax_update(spec.rule)

    def loss(p, x, y):
        logits = jax_forward(spec, p, x.T)
        return -(y * jax.nn.log_softmax(logits, axis=0)).sum(axis=0).mean()

    @jax.jit
    def step(p, s, x, y):
        return update(p, jax.grad(loss)(p, x, y), s)

    init = problem["init"]
    params = jax.device_put([(init[f"W{i}"], init[f"b{i}"]) for i in range(spec.layers)])
    state = {"p": params, "s": init_state(params)}
    data = jax.device_put([(x, y) for x, _, y in cycle(problem["batches"], steps)])
    forward = jax.jit(lambda p, rows: jax_forward(spec, p, rows.T))

    def run():
        p, s = state["p"], state["s"]
        for x, y in data:
            p, s = step(p, s, x, y)
        state["p"], state["s"] = jax.block_until_ready((p, s))

    def weights():
        return {f"{k}{i}": np.asarray(state["p"][i][j]) for i in range(spec.layers) for j, k in enumerate("Wb")}

    return _runner(problem, run, weights, lambda rows: forward(state["p"], rows))


# --- autograd -------------------------------------------------------------------------------------

def build_autograd(problem, steps):
    import autograd
    import autograd.numpy as anp
    spec = problem["spec"]
    acts = {"relu": lambda z: anp.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + anp.exp(-z)), "identity": lambda z: z}

    def forward(params, x):
        a = x
        for i, name in enumerate(spec.acts):
            a = acts[name](anp.dot(params[2 * i], a) + params[2 * i + 1][:, None])
        return a

    def loss(params, x, y):
        z = forward(params, x)
        z = z - anp.max(z, axis=0, keepdims=True)
        return -anp.mean(anp.sum(y * (z - anp.log(anp.sum(anp.exp(z), axis=0, keepdims=True))), axis=0))

    grad = autograd.grad(loss)
    params = [problem["init"][f"{k}{i}"].copy() for i in range(spec.layers) for k in "Wb"]
    opt = NumpyRule(spec.rule, params)
    data = [(x.T, y) for x, _, y in cycle(problem["batches"], steps)]

    def run():
        for x, y in data:
            opt.step(params, grad(params, x, y))

    def weights():
        return {f"{k}{i}": params[2 * i + j] for i in range(spec.layers) for j, k in enumerate("Wb")}

    return _runner(problem, run, weights, lambda rows: forward(params, rows.T))


def jit_targets():
    """Issue 10's targets for the MNIST workloads, against JAX's jitted step: the captured path at most
    0.75x its time quietly and beside a busy neighbour, and pyflux slowed by a neighbour no more than it."""
    return [Target("pyflux captured", "ratio", 0.75, peer="jax jit", text="captured at most 0.75x JAX jit"),
            Target("pyflux captured", "loaded ratio", 0.75, peer="jax jit", text="beside a neighbour: at most 0.75x JAX"),
            Target("pyflux general", "slowdown", 1.0, peer="jax jit", text="neighbour slowdown no worse than JAX's")]


IMPLS = [
    Impl("pyflux", "general", build_pyflux),
    Impl("pyflux", "captured", functools.partial(build_pyflux, capture=True)),
    Impl("numpy", "by hand", build_numpy),
    Impl("torch", "", build_torch),
    Impl("jax", "jit", build_jax),
    Impl("autograd", "", build_autograd),
]


def epoch_cases(images, batch, epoch=60_000):
    """The one case of an epoch workload: `images` images in batches of `batch`, timed per epoch of
    `epoch` images (projected when fewer are run)."""
    steps = math.ceil(images / batch)
    return [Case(f"{images:,} images", s_per_epoch(math.ceil(epoch / batch)), steps=steps,
                 check_steps=min(3, steps), tol=1e-3, params=dict(n=images))]
