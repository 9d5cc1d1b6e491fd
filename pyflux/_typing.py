"""Type aliases for the annotations of the public API."""

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from pyflux._core import Tensor

# What layers, losses and ops take: a numpy array (or anything numpy can make one of) or a traced value.
Input = ArrayLike | Tensor
# What a layer gives back: a numpy array outside gradient, a Tensor inside.
Array = np.ndarray | Tensor
# What a loss gives back: a float (an array for an aggregation that keeps elements) or, inside gradient, a Tensor.
Output = float | np.ndarray | Tensor
# An activation or any other elementwise function a layer applies to its output.
Activation = Callable[[Any], Any]
# An initialiser: init(dims...) gives a new array of that shape (glorot_uniform, zeros32, ...).
Initialiser = Callable[..., np.ndarray]
# A loss's aggregation of the elementwise losses (mean, sum, or any array -> number function).
Aggregate = Callable[[Any], Any]
