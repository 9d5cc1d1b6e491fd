"""Types: the stub of the compiled core matches it, the package is marked typed, and the public API
shows its real signatures (inspect.signature, help())."""

import ast
import inspect
import sys
import typing
from pathlib import Path

import pytest

import pyflux as flux
from pyflux import _core

PACKAGE = Path(flux.__file__).resolve().parent
STUB = PACKAGE / "_core.pyi"
STUB_ALIASES = {"_Operand", "_Value", "_Axes", "_Spec"}  # type aliases the stub defines for itself


def _stub():
    return ast.parse(STUB.read_text(encoding="utf-8"), filename=str(STUB))


def _defined(body):
    """Names a module or class body of the stub defines, with their nodes."""
    names = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
    return names


def _public(names):
    return {n for n in names if not n.startswith("__") or n == "__version__"}


def test_the_package_is_marked_typed():
    assert (PACKAGE / "py.typed").is_file()
    assert STUB.is_file()


def test_every_name_of_the_core_is_in_the_stub_and_nothing_else():
    stub = _defined(_stub().body)
    missing = _public(dir(_core)) - set(stub)
    stale = set(stub) - _public(dir(_core)) - STUB_ALIASES
    assert not missing, f"pyflux/_core.pyi lacks {sorted(missing)}"
    assert not stale, f"pyflux/_core.pyi declares names _core does not have: {sorted(stale)}"


@pytest.mark.parametrize("cls", ["Tensor", "Tape", "Optimiser", "Feed", "Program"])
def test_every_public_member_of_a_core_class_is_in_the_stub(cls):
    members = _defined(_defined(_stub().body)[cls].body)
    runtime = {n for n in vars(getattr(_core, cls)) if not n.startswith("_")}
    assert not runtime - set(members), f"_core.pyi's {cls} lacks {sorted(runtime - set(members))}"
    assert not {n for n in members if not n.startswith("_")} - runtime


def test_the_stub_gives_each_unary_op_the_parameter_of_the_op_table():
    stub = _defined(_stub().body)
    for entry in _core.op_table():
        if entry["family"] != "unary":
            continue
        args = stub[entry["name"]].args
        names = [a.arg for a in args.posonlyargs + args.args]
        expected = ["x"] if entry["param"] is None else ["x", entry["param"]]
        assert names == expected, entry["name"]
        if entry["param"] is not None:
            assert ast.literal_eval(args.defaults[0]) == entry["default"], entry["name"]


@pytest.mark.parametrize("name, shown", [
    ("relu", "(x)"), ("σ", "(x)"), ("identity", "(x)"), ("leakyrelu", "(x, a=0.01)"), ("elu", "(x, α=1.0)"),
    ("celu", "(x, α=1.0)"), ("softshrink", "(x, λ=0.5)"),
])
def test_activations_show_their_signature(name, shown):
    assert str(inspect.signature(getattr(flux, name))) == shown


def test_an_activation_accepts_its_parameter_by_the_name_it_shows():
    assert flux.leakyrelu(-2.0, a=0.5) == -1.0
    assert flux.softshrink(1.0, λ=0.25) == 0.75


def _parameters(f):
    return [(p.name, p.kind.name, p.default) for p in inspect.signature(f).parameters.values()]


overloads = pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.get_overloads is new in Python 3.11")


@overloads
def test_dense_shows_its_sizes_activation_and_keywords():
    assert _parameters(flux.Dense) == [
        ("in_", "POSITIONAL_ONLY", inspect.Parameter.empty), ("out", "POSITIONAL_ONLY", inspect.Parameter.empty),
        ("σ", "POSITIONAL_ONLY", flux.identity), ("bias", "KEYWORD_ONLY", True),
        ("init", "KEYWORD_ONLY", flux.glorot_uniform),
    ]


def test_a_layer_instance_shows_its_call_signature_not_its_constructor():
    assert list(inspect.signature(flux.Dense(2, 3)).parameters) == ["x"]
    assert list(inspect.signature(flux.Embedding(2, 3)).parameters) == ["x"]


@overloads
@pytest.mark.parametrize("layer, first", [
    (flux.Scale, ["size", "σ"]), (flux.Embedding, ["in_", "out"]),
])
def test_layers_with_several_forms_show_the_sizes_form(layer, first):
    assert [name for name, *_ in _parameters(layer)][:2] == first


def _unannotated(sig):
    return str(sig.replace(parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()],
                           return_annotation=sig.empty))


@pytest.mark.parametrize("rule, shown", [
    (flux.Adam, "(eta=0.001, beta=(0.9, 0.999), epsilon=1e-08)"), (flux.Descent, "(eta=0.1)"),
    (flux.RMSProp, "(eta=0.001, rho=0.9, epsilon=1e-08, *, centred=False, centered=None)"),
])
def test_rules_show_flux_defaults(rule, shown):
    assert _unannotated(inspect.signature(rule)) == shown


@pytest.mark.parametrize("f", [
    flux.setup, flux.update, flux.gradient, flux.withgradient, flux.mse, flux.crossentropy, flux.logitcrossentropy,
    flux.Adam, flux.Dense, flux.Chain, flux.BatchNorm, flux.Dropout, flux.LayerNorm,
])
def test_the_public_api_is_annotated_with_names_that_resolve(f):
    unannotated = [p.name for p in inspect.signature(f).parameters.values() if p.annotation is p.empty]
    assert not unannotated, f"{f.__name__}: {unannotated} have no annotation"
    typing.get_type_hints(f.__init__ if isinstance(f, type) else f)  # raises NameError for a name that is not there


def test_the_activations_stub_names_every_activation_of_the_op_table():
    stub_path = PACKAGE / "activations.pyi"
    tree = ast.parse(stub_path.read_text(encoding="utf-8"))
    declared = {name for name, node in _defined(tree.body).items()
                if isinstance(node, ast.AnnAssign) and ast.unparse(node.annotation) == "Activation"}
    listed = next(ast.literal_eval(node.value) for node in tree.body
                  if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__")
    runtime = set(flux.activations.__all__)
    assert declared == runtime, f"activations.pyi: add {sorted(runtime - declared)}, remove {sorted(declared - runtime)}"
    assert sorted(listed) == sorted(runtime)


def test_rules_all_names_every_rule():
    rules = {name for name, obj in vars(flux.rules).items()
             if isinstance(obj, type) and issubclass(obj, flux.rules.Rule) and obj is not flux.rules.Rule
             and not name.startswith("_")}
    assert sorted(flux.rules.__all__) == sorted(rules)


USER_SCRIPT = '''
import numpy as np
import pyflux as flux

model = flux.Chain(flux.Dense(2, 3, flux.relu), flux.Dense(3, 1, flux.σ), flux.softmax)
other = flux.Chain(flux.Dense((2, 3), flux.leakyrelu), flux.Dense(np.ones((1, 3)), False, flux.tanh))
state = flux.setup(flux.Adam(0.01, (0.9, 0.99)), model)
x, y = np.ones((2, 4), np.float32), np.zeros((1, 4), np.float32)
value, grads = flux.withgradient(lambda m: flux.crossentropy(m(x), y), model)
flux.update(state, model, grads[0])
flux.train(lambda m, x, y: flux.mse(m(x), y), model, [(x, y)], state)
h = flux.leakyrelu(x, 0.2) + flux.exp(flux.param(np.ones(3)))
layers = [flux.Embedding(3, 4), flux.Scale(3, flux.relu), flux.BatchNorm(3), flux.LayerNorm(3), flux.Dropout(0.5)]
rule = flux.OptimiserChain(flux.ClipGrad(1.0), flux.RMSProp(centred=True))
shape = flux.Tensor(np.ones(3)).shape[0] + 1
out = flux.Dense(2, 3)(x).shape[0] + float(flux.mse(flux.Dense(2, 1)(x), y))
'''


def test_a_user_script_type_checks_and_mistakes_are_caught(tmp_path):
    api = pytest.importorskip("mypy.api")
    (tmp_path / "good.py").write_text(USER_SCRIPT, encoding="utf-8")
    (tmp_path / "bad.py").write_text('import pyflux as flux\nflux.Adam(eta="fast")\nflux.relu_typo\n',
                                     encoding="utf-8")
    out, err, status = api.run([str(tmp_path / "good.py"), str(tmp_path / "bad.py"),
                                "--cache-dir", str(tmp_path / "cache"), "--no-error-summary"])
    lines = [line for line in out.splitlines() if line.strip()]
    assert not [line for line in lines if "good.py" in line], out
    assert any("bad.py:2" in line and "float" in line for line in lines), out
    assert any("bad.py:3" in line and "relu_typo" in line for line in lines), out
