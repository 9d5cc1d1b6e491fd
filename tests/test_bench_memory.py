"""The peak-memory measurement of bench (bench/memory.py) runs end to end and adds up its budget;
the figures themselves are for bench to report, not for a test to judge."""

import importlib.util
from pathlib import Path

import pytest
from tiny_mnist import write_tiny_mnist

# Loaded from its file: the repository root stays off sys.path, where its pyflux/ folder would shadow
# an installed pyflux.
_spec = importlib.util.spec_from_file_location("bench_memory", Path(__file__).resolve().parent.parent / "bench" / "memory.py")
memory = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(memory)


def test_budget_counts_data_parameters_and_one_batch():
    # 3-2 network, 5 images, batch 4: data (3 + 2) * 5, parameters (3 + 1) * 2 = 8 three times,
    # batch values (3 + 2 * 2) * 4 twice; 4 bytes each.
    assert memory.budget_bytes(5, sizes=(3, 2), batch=4) == 4 * (25 + 3 * 8 + 2 * 28)


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc/self/clear_refs")
@pytest.mark.parametrize("mode", ["general", "captured"])
def test_an_epoch_is_measured_in_a_fresh_process(mode, tmp_path):
    folder = write_tiny_mnist(tmp_path / "mnist", n_train=300, n_test=50)
    figures = memory.measure(mode, folder)
    assert figures["mode"] == mode and figures["images"] == 300
    assert figures["budget"] == memory.budget_bytes(300)
    assert figures["peak"] >= figures["before_epoch"] >= figures["base"] > 0
    assert figures["ratio"] == figures["footprint"] / figures["budget"]
    assert mode in memory.describe(figures)


def test_a_failing_child_is_an_error_naming_the_mode(tmp_path):
    with pytest.raises(RuntimeError, match="captured memory run failed"):
        memory.measure("captured", tmp_path / "missing")
