"""Every differentiable op of the core (csrc/autodiff/ops_registry.cpp) has a gradient test."""

import importlib.util
from pathlib import Path

import gradcheck
import numpy as np
import pytest
from pyflux import _core as C

HERE = Path(__file__).resolve().parent


def load_gradient_tests():
    """Imports every test_grad_*.py beside this file, so that their @covers marks are recorded."""
    paths = sorted(p for p in HERE.glob("test_grad_*.py") if p.name != Path(__file__).name)
    for path in paths:
        spec = importlib.util.spec_from_file_location(f"_grad_registry_{path.stem}", path)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    return paths


def test_gradient_test_files_exist():
    names = {p.name for p in load_gradient_tests()}
    assert {"test_grad_elementwise.py", "test_grad_matmul.py", "test_grad_activations.py",
            "test_grad_reduce.py", "test_grad_shape.py"} <= names


def test_every_op_has_a_gradient_test():
    load_gradient_tests()
    missing = sorted(set(C.op_names()) - gradcheck.COVERED)
    assert not missing, f"ops without a gradient test (@covers): {', '.join(missing)}"


def test_covered_names_are_ops():
    load_gradient_tests()
    unknown = sorted(gradcheck.COVERED - set(C.op_names()))
    assert not unknown, f"@covers names that are not ops of _core: {', '.join(unknown)}"


def test_op_names_are_unique_functions_of_the_module():
    names = C.op_names()
    assert len(names) == len(set(names))
    assert all(callable(getattr(C, name, None)) for name in names)


def test_every_table_entry_has_a_binding_with_its_docstring():
    for entry in C.op_table():
        f = getattr(C, entry["name"], None)
        assert callable(f), f"{entry['name']}: no _core function"
        assert entry["doc"].strip(), f"{entry['name']}: no docstring in the op table"
        assert entry["doc"] in f.__doc__, f"{entry['name']}: the binding's docstring is not the table's"


def test_the_table_is_the_list_of_ops():
    assert [e["name"] for e in C.op_table()] == C.op_names()


def test_every_unary_entry_has_a_kernel_and_a_gradient_test():
    load_gradient_tests()
    x = np.array([0.25, 0.75])
    for entry in C.op_table():
        if entry["family"] != "unary":
            continue
        assert entry["name"] in gradcheck.COVERED, f"{entry['name']}: no gradient test"
        assert entry["saves"] in ("input", "output", "nothing")
        # The kernel behind the entry runs, both standalone and as Dense's fused activation.
        y = getattr(C, entry["name"])(x)
        assert y.shape == x.shape and y.dtype == x.dtype
        np.testing.assert_array_equal(C.dense(np.eye(2), None, x, entry["code"]), y)


def test_unknown_unary_codes_are_refused():
    count = sum(e["family"] == "unary" for e in C.op_table())
    for code in (-1, count):
        with pytest.raises(ValueError, match="unknown activation code"):
            C.dense(np.eye(2), None, np.ones(2), code)
