"""Every differentiable op of the core (csrc/autodiff/ops_registry.cpp) has a gradient test."""

import importlib.util
from pathlib import Path

import gradcheck
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
