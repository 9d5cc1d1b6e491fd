"""The optimisers' C++ layer through its Python entry points: one generic init (`optimiser_init`), a state
object per parameter (`_core.Optimiser`) whose arrays are numpy views of C++ memory, one call for the update
of every parameter (`optimisers_update`), and the rule registry (every C++ rule has its Python class, with a
signature, a docstring and a numpy-reference test; every Python rule has a C++ rule)."""

import inspect
import pathlib
import re

import numpy as np
import pytest

import pyflux as flux
from pyflux import _core as C
from pyflux import rules

from test_autodiff import watched

CORE_RULES = {info["name"]: info for info in C.optimiser_rules()}
PYTHON_RULES = {name: cls for name, cls in vars(rules).items()
                if isinstance(cls, type) and issubclass(cls, rules.Rule) and not name.startswith("_")
                and cls not in (rules.Rule, rules.OptimiserChain)}


# --- the registry ----------------------------------------------------------------------------------

def test_every_core_rule_has_a_python_rule_and_back():
    assert set(CORE_RULES) == set(PYTHON_RULES)


@pytest.mark.parametrize("name", sorted(CORE_RULES))
def test_every_rule_is_complete(name):
    cls = PYTHON_RULES[name]
    assert cls.__doc__ and cls.__doc__.startswith(f"``{name}(")
    assert getattr(flux, name) is cls
    rule = cls()
    assert not inspect.signature(cls).parameters or all(
        p.default is not inspect.Parameter.empty for p in inspect.signature(cls).parameters.values())
    assert sorted(rule._spec()[1]) == sorted(CORE_RULES[name]["hypers"])
    state = rule.init(flux.param(np.zeros(3)))
    assert state.rule == name
    names = set(state.arrays())
    assert set(CORE_RULES[name]["states"]) <= names


def test_every_rule_has_a_reference_test():
    text = pathlib.Path(__file__).with_name("test_optimise_rules.py").read_text()
    tested = set(re.findall(r'id="(\w+)', text))
    assert set(CORE_RULES) <= tested, f"rules without a numpy reference test: {set(CORE_RULES) - tested}"


# --- one step, the state's views -------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_descent_in_place(dtype):
    p = C.Tensor(np.array([1.0, 2.0, 3.0]), dtype=dtype)
    view = np.asarray(p)  # shares the tensor's memory
    descent = C.optimiser_init(("Descent", {"eta": 0.5}), p)
    descent.apply(p, np.array([1.0, -2.0, 0.5]))
    np.testing.assert_array_equal(view, np.array([0.5, 3.0, 2.75], dtype))
    descent.set(("Descent", {"eta": 0.25}))
    descent.apply(p, C.Tensor(np.array([2.0, 2.0, 2.0])))
    np.testing.assert_array_equal(np.asarray(p), np.array([0.0, 2.5, 2.25], dtype))
    assert p.dtype == dtype


def test_descent_with_a_tape_gradient():
    tape, W = watched([[1.0, 2.0], [3.0, 4.0]])
    with tape:
        loss = C.sum(W * W)
    (g,) = tape.gradient(loss, [W])
    C.optimiser_init(("Descent", {"eta": 0.1}), W).apply(W, g)
    np.testing.assert_allclose(np.asarray(W), [[0.8, 1.6], [2.4, 3.2]], rtol=1e-15)


def test_shape_mismatch_and_wrong_operands():
    p = C.Tensor(np.ones((2, 3)))
    descent = C.optimiser_init(("Descent", {"eta": 0.1}), p)
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        descent.apply(p, np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"Descent.*\(2, 3\).*\(3,\)"):
        descent.apply(C.Tensor(np.ones(3)), np.ones(3))
    np.testing.assert_array_equal(np.asarray(p), np.ones((2, 3)))
    with pytest.raises(TypeError, match="Param"):
        descent.apply(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="output"):
        descent.apply(p, np.ones((2, 3)), np.zeros(2))
    tape, q = watched([1.0])
    with tape:
        with pytest.raises(ValueError, match="gradient"):
            C.optimiser_init(("Descent", {"eta": 0.1}), q).apply(q, np.ones(1))


def test_bad_specs():
    p = C.Tensor(np.ones(2))
    with pytest.raises(ValueError, match="no optimisation rule named Nonsense"):
        C.optimiser_init(("Nonsense", {}), p)
    with pytest.raises(ValueError, match="rho is missing"):
        C.optimiser_init(("Momentum", {"eta": 0.1}), p)
    with pytest.raises(ValueError, match="unknown"):
        C.optimiser_init(("Descent", {"eta": 0.1, "rho": 1.0}), p)
    with pytest.raises(TypeError, match="eta must be a number"):
        C.optimiser_init(("Descent", {"eta": "fast"}), p)
    with pytest.raises(ValueError, match="cannot change"):
        C.optimiser_init(("Descent", {"eta": 0.1}), p).set(("Momentum", {"eta": 0.1, "rho": 0.9}))
    rmsprop = flux.RMSProp().init(p)
    with pytest.raises(ValueError, match="new state"):
        rmsprop.set(("RMSProp", {"eta": 0.1, "rho": 0.9, "epsilon": 0.0, "centred": 1.0}))


def test_state_arrays_are_views_of_the_cpp_state():
    p = flux.param(np.zeros((2, 3), np.float32))
    state = flux.Adam(0.1).init(p)
    arrays = state.arrays()
    assert set(arrays) == {"m", "v", "t", "beta_t"}
    assert arrays["m"].shape == (2, 3) and arrays["m"].dtype == np.float32 and not arrays["m"].any()
    assert arrays["t"] == 0 and list(arrays["beta_t"]) == [1.0, 1.0]
    state.apply(p, np.ones((2, 3)))
    np.testing.assert_allclose(arrays["m"], 0.1, rtol=1e-6)  # the earlier view sees the step
    assert arrays["t"] == 1 and np.allclose(arrays["beta_t"], [0.9, 0.999])
    arrays["m"][...] = 5.0
    assert (state["m"] == 5.0).all()
    del state
    assert (arrays["m"] == 5.0).all()  # a view keeps the state alive


def test_initial_state_follows_the_rule():
    p = flux.param(np.zeros((2, 3), np.float32))
    acc = flux.AdaGrad(0.1, 1e-3).init(p)["acc"]
    assert acc.dtype == np.float32 and np.all(acc == np.float32(1e-3))
    assert all(np.all(flux.AMSGrad().init(p)[k] == np.float32(1e-8)) for k in ("m", "v", "vmax"))
    assert set(flux.RMSProp().init(p).arrays()) == {"s"}
    assert set(flux.RMSProp(centred=True).init(p).arrays()) == {"s", "a"}
    chain = flux.OptimiserChain(flux.ClipGrad(), flux.Momentum()).init(p).arrays()
    assert chain["0"] == {} and set(chain["1"]) == {"v"}
    assert flux.Momentum().stateful and not flux.ClipGrad().stateful
    assert flux.OptimiserChain(flux.ClipGrad(), flux.Momentum()).stateful
    assert not flux.OptimiserChain(flux.ClipGrad(), flux.Descent()).stateful


# --- the update of every parameter in one call -----------------------------------------------------

def test_update_all_skips_missing_gradients_and_frozen_states():
    ps = [flux.param(np.ones(2)), flux.param(np.ones(3)), flux.param(np.ones(1))]
    states = [flux.Descent(0.5).init(p) for p in ps]
    states[2].frozen = True
    C.optimisers_update(ps, [np.ones(2), None, np.ones(1)], states)
    np.testing.assert_array_equal(np.asarray(ps[0]), [0.5, 0.5])
    np.testing.assert_array_equal(np.asarray(ps[1]), np.ones(3))
    np.testing.assert_array_equal(np.asarray(ps[2]), [1.0])


def test_update_all_checks_everything_before_changing_anything():
    ps = [flux.param(np.ones(2)), flux.param(np.ones(3))]
    states = [flux.Descent(0.5).init(p) for p in ps]
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        C.optimisers_update(ps, [np.ones(2), np.ones(2)], states)
    with pytest.raises(ValueError, match="shape"):
        C.optimisers_update(ps, [np.ones(2), np.ones(2)], states[::-1])
    np.testing.assert_array_equal(np.asarray(ps[0]), [1.0, 1.0])
    with pytest.raises(TypeError, match="optimiser state"):
        C.optimisers_update(ps, [np.ones(2), np.ones(3)], [flux.Descent(), states[1]])
    with pytest.raises(ValueError, match="length"):
        C.optimisers_update(ps, [np.ones(2)], states)
    with pytest.raises(TypeError, match="3 arguments"):
        C.optimisers_update(ps, states)


def test_a_copied_state_tree_is_independent():
    import copy

    model = flux.Dense(np.ones((2, 3)), np.zeros(2))
    state = flux.setup(flux.OptimiserChain(flux.ClipGrad(1.0), flux.Adam(0.1)), model)
    flux.update(state, model, flux.gradient(lambda m: flux.sum(m(np.ones(3))), model)[0])
    saved = copy.deepcopy(state)
    assert saved.weight.state is not state.weight.state
    np.testing.assert_array_equal(saved.weight.state["1"]["m"], state.weight.state["1"]["m"])
    flux.update(state, model, flux.gradient(lambda m: flux.sum(m(np.ones(3))), model)[0])
    assert saved.weight.state["1"]["t"] == 1 and state.weight.state["1"]["t"] == 2
    assert copy.copy(state.bias.state)["1"]["t"] == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [7, 100_000])  # on this thread, and split over the threads
def test_subnormal_states_are_flushed_and_the_callers_arithmetic_is_not(dtype, n):
    # A moment decaying through the subnormal range is 0 after an update (subnormal arithmetic is
    # about a hundred times slower on x86); the parameters are those of the unflushed formula, and
    # numpy's arithmetic on this thread keeps its subnormals after the update.
    tiny = np.finfo(dtype).smallest_normal
    p = flux.param(np.ones(n, dtype))
    state = flux.RMSProp(0.01, 0.5, 1e-8).init(p)
    state["s"][...] = tiny  # 0.5 * tiny is subnormal
    g = np.zeros(n, dtype)
    g[0] = 1.0
    state.apply(p, g)
    s = state["s"]
    assert s[0] == dtype(0.5) and not s[1:].any()
    expected = np.ones(n, dtype)
    expected[0] -= dtype(0.01) * dtype(1) / (np.sqrt(dtype(0.5)) + dtype(1e-8))
    np.testing.assert_array_equal(np.asarray(p), expected)
    assert tiny / dtype(4) != 0 and np.multiply(np.full(3, tiny), dtype(0.5)).all()
