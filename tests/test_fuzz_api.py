"""API fuzzing: hypothesis draws batches of calls (ops, gradient, layers, activations, losses,
optimisers, data, save/load) with random shapes (0-size and huge included), dtypes, memory layouts
and wrong types, and runs each batch in a fresh process (fuzz_calls.py). Any Python exception is an
acceptable answer to hostile input; a crash, a hang or a sanitizer report fails the test, printing
the batch to reproduce it."""

import json
import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_calls

RUNNER = os.path.join(os.path.dirname(__file__), "fuzz_calls.py")
HUGE = [2**31, 2**32 + 1, 2**62 + 1, 2**63 - 1, 2**64, 2**70, -(2**63), -(2**70)]

sides = st.one_of(st.integers(0, 4), st.just(1))
shape = st.lists(sides, min_size=0, max_size=4)
dtype = st.sampled_from(sorted(fuzz_calls._DTYPES))
layout = st.sampled_from(["contiguous", "transposed", "strided", "unaligned", "readonly"])
seed = st.integers(0, 2**16)
array = st.tuples(st.just("array"), shape, dtype, layout, seed).map(list)
param = st.tuples(st.just("param"), shape, st.sampled_from(["f32", "f64"]), st.just("contiguous"), seed).map(list)
tensor = st.tuples(st.just("tensor"), shape, dtype, layout, seed).map(list)
number = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True), st.booleans())
wrong = st.sampled_from([None, "text", [], {}, [1, "a"], [[1, 2], [3]]])
bigint = st.sampled_from(HUGE).map(lambda n: ["bigint", str(n)])
scalar = st.one_of(number, wrong).map(lambda v: ["value", v])
index = st.one_of(st.integers(-6, 6), st.sampled_from(HUGE)).map(lambda n: ["bigint", str(n)])
operand = st.one_of(array, array, param, tensor, scalar, bigint)
dims = st.lists(st.one_of(st.integers(-1, 6), st.sampled_from(HUGE)), max_size=4).map(
    lambda ds: [["bigint", str(d)] for d in ds])
axes = dims.map(lambda ds: ["tuple", ds])
size = st.one_of(st.integers(-1, 5), st.sampled_from([2**62, 2**70]), st.floats(0, 5)).map(
    lambda v: ["bigint", str(v)] if isinstance(v, int) else ["value", v])
activation_layer = st.tuples(st.just("layer"), st.sampled_from(["Dense", "Scale", "LayerNorm", "BatchNorm",
                                                                   "Embedding", "Dropout"]),
                             st.lists(size, min_size=1, max_size=3)).map(list)

calls = st.one_of(
    st.tuples(st.just("unary"), st.sampled_from(fuzz_calls.UNARY), st.lists(operand, min_size=1, max_size=2)),
    st.tuples(st.just("reduce"), st.sampled_from(fuzz_calls.REDUCE),
              st.tuples(operand, st.one_of(index, scalar)).map(list)),
    st.tuples(st.just("binary"), st.sampled_from(sorted(fuzz_calls.BINARY)), st.lists(operand, min_size=2, max_size=2)),
    st.tuples(st.just("loss"), st.sampled_from(fuzz_calls.LOSSES), st.lists(operand, min_size=2, max_size=2)),
    st.tuples(st.just("method"), st.sampled_from(["reshape", "sum", "mean", "item", "numpy", "copy"]),
              st.tuples(st.one_of(param, tensor), dims).map(lambda t: [t[0], *t[1]])),
    st.tuples(st.just("index"), st.just(""), st.tuples(st.one_of(param, tensor), st.one_of(index, scalar)).map(list)),
    st.tuples(st.just("traced"), st.sampled_from(fuzz_calls.UNARY + fuzz_calls.REDUCE + ["reshape", "index", "T",
                                                                                           "item", "float", "len"]),
              st.tuples(st.one_of(array, param), st.lists(st.one_of(index, operand), max_size=2))
              .map(lambda t: [t[0], *t[1]])),
    st.tuples(st.just("traced"), st.sampled_from(sorted(fuzz_calls.BINARY) + fuzz_calls.LOSSES),
              st.lists(operand, min_size=2, max_size=2)),
    st.tuples(st.just("multi"), st.sampled_from(sorted(fuzz_calls.MULTI)),
              st.lists(st.one_of(operand, index, axes), min_size=3, max_size=3)),
    st.tuples(st.just("traced"), st.sampled_from(sorted(fuzz_calls.MULTI)),
              st.tuples(st.one_of(array, param), st.lists(st.one_of(index, operand, axes), min_size=2, max_size=2))
              .map(lambda t: [t[0], *t[1]])),
    st.tuples(st.just("layer"), st.just(""), st.tuples(activation_layer, operand).map(list)),
    st.tuples(st.just("train"), st.integers(0, 20).map(str),
              st.tuples(st.tuples(st.just("layer"), st.just("Dense"), st.lists(size, min_size=2, max_size=2)).map(list),
                        operand).map(list)),
    st.tuples(st.just("capture"), st.integers(0, 20).map(str),
              st.tuples(st.tuples(st.just("layer"), st.just("Dense"), st.lists(size, min_size=2, max_size=2)).map(list),
                        operand, operand).map(list)),
    st.tuples(st.just("data"), st.sampled_from(["onehotbatch", "onecold", "label_smoothing", "DataLoader"]),
              st.lists(st.one_of(operand, index), min_size=1, max_size=2)),
    st.tuples(st.just("save"), st.just(""), st.tuples(activation_layer, activation_layer).map(list)),
    st.tuples(st.just("tape"), st.just(""), st.just([])),
).map(list)


@settings(max_examples=int(os.environ.get("PYFLUX_FUZZ_BATCHES", "15")), deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(calls, min_size=10, max_size=40))
def test_no_input_crashes_the_process(batch):
    text = json.dumps(batch)
    try:
        done = subprocess.run([sys.executable, RUNNER, text], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the batch hung:\n{text}") from None
    assert done.returncode == 0 and done.stdout.strip().endswith("done"), (
        f"the batch crashed (exit {done.returncode}):\n{text}\n{done.stderr[-4000:]}")
