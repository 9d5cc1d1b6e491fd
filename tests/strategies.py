"""Hypothesis strategies for the core's tests, and the numpy references and forward tolerances
that results are compared with.

Values stay bounded, and where an op has a kink or a singularity (relu at 0, log/div/pow near 0)
the strategies keep away from it, so that finite differences are meaningful.
"""

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from activation_references import REFERENCES, reference

FLOAT_DTYPES = (np.float32, np.float64)
float_dtypes = st.sampled_from(FLOAT_DTYPES)


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes; min_side=0 adds size-0 dimensions (for forward tests)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_pairs(max_dims=3, min_side=1, max_side=4):
    """Two shapes that broadcast together: scalars () and size-1 dimensions on either side."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda b: b.input_shapes)


def _floats(lo, hi, dtype):
    dtype = np.dtype(dtype)
    # Bounds that dtype represents, rounded inwards.
    lo_r, hi_r = dtype.type(lo), dtype.type(hi)
    lo_r = lo_r if lo_r >= lo else np.nextafter(lo_r, dtype.type(np.inf))
    hi_r = hi_r if hi_r <= hi else np.nextafter(hi_r, dtype.type(-np.inf))
    return st.floats(float(lo_r), float(hi_r), allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=8 * dtype.itemsize)


def arrays(shape, lo=-2.0, hi=2.0, dtype=np.float64):
    """Arrays (shape: a tuple or a strategy) with every element drawn independently from [lo, hi]."""
    return hnp.arrays(dtype, shape, elements=_floats(lo, hi, dtype), fill=st.nothing())


def positive(shape, lo=0.5, hi=2.0, dtype=np.float64):
    """Values in [lo, hi], away from log's and div's singularity at 0."""
    return arrays(shape, lo, hi, dtype)


def away_from_zero(shape, lo=0.1, hi=2.0, dtype=np.float64):
    """Values of either sign with lo <= |x| <= hi (relu's kink is at 0)."""
    elements = st.one_of(_floats(lo, hi, dtype), _floats(-hi, -lo, dtype))
    return hnp.arrays(dtype, shape, elements=elements, fill=st.nothing())


def index_keys(shape):
    """numpy basic indices: ints (negative too), slices (negative steps too) and Ellipsis."""
    return hnp.basic_indices(shape, min_dims=0, allow_newaxis=False, allow_ellipsis=True)


@st.composite
def reshape_targets(draw, shape):
    """A shape with as many elements as `shape`, sometimes with one dimension given as -1."""
    dims = draw(st.permutations(list(shape)))
    target = []
    for d in dims:
        if target and draw(st.booleans()):
            target[-1] *= d  # merge with the previous dimension
        else:
            target.append(d)
    for _ in range(draw(st.integers(0, 2 if len(target) < 4 else 0))):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and math.prod(target) > 0 and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


# Forward comparisons against numpy (float64 references computed from the same inputs).
FORWARD_TOL = {
    np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6),
    np.dtype(np.float64): dict(rtol=1e-12, atol=1e-14),
}


def assert_forward_close(got, expected, dtype):
    """`got` is a plain numpy result of `dtype` and `expected`'s shape, equal to rounding."""
    dtype = np.dtype(dtype)
    assert isinstance(got, (np.ndarray, np.generic)), f"expected a numpy result, got {type(got).__name__}"
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.dtype == dtype, f"dtype {got.dtype}, expected {dtype}"
    assert got.shape == expected.shape, f"shape {got.shape}, expected {expected.shape}"
    np.testing.assert_allclose(got, expected, **FORWARD_TOL[dtype])


def sigmoid_reference(x):
    """1 / (1 + exp(-x)) in float64 without overflow."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, np.float64)))


# numpy versions of the activations (with their default parameters), by the codes dense takes.
ACTIVATION_REFERENCES = {code: reference(name) for name, (code, _, _) in REFERENCES.items()}
