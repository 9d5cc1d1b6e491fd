"""Threads taking gradients of one shared model at once: each thread's tape tracks its own uses of
the shared parameters, so every call gets the full gradient."""

import threading

import numpy as np

import pyflux as flux


def test_threads_sharing_a_model_all_get_gradients():
    rng = np.random.default_rng(0)
    model = flux.Chain(flux.Dense(4, 8, flux.relu), flux.Dense(8, 2))
    x = rng.standard_normal((4, 16)).astype(np.float32)
    W = model[0].weight
    ps = flux.params(model)
    want = np.asarray(flux.gradient(lambda: flux.sum(model(x) ** 2), ps)[W])
    failures = []

    def work():
        for _ in range(100):
            got = flux.gradient(lambda: flux.sum(model(x) ** 2), ps)[W]
            if got is None or not np.allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6):
                failures.append(got)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, f"{len(failures)} of 400 gradients were missing or wrong"
