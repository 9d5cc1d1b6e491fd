"""Types of pyflux.activations, whose functions are made at import from the core's op table (so
type checkers, which do not run that code, read their names here; tests/test_typing.py checks that
this list matches the table)."""

from typing import Any

class Activation:
    """A named elementwise function; ``code`` selects its kernel inside Dense's fused pass."""

    name: str
    code: int
    param: float | None
    def __init__(
        self, name: str, code: int, op: Any, doc: str, param: float | None = None, keyword: str | None = None
    ) -> None: ...
    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any: ...

__all__ = [
    "celu", "elu", "gelu", "gelu_erf", "gelu_tanh", "hardsigmoid", "hardswish", "hardtanh", "hardσ", "identity",
    "leakyrelu", "lisht", "logcosh", "logsigmoid", "logσ", "mish", "relu", "relu6", "selu", "sigmoid",
    "softplus", "softshrink", "softsign", "swish", "tanh", "tanhshrink", "σ",
]

celu: Activation
elu: Activation
gelu: Activation
gelu_erf: Activation
gelu_tanh: Activation
hardsigmoid: Activation
hardswish: Activation
hardtanh: Activation
hardσ: Activation
identity: Activation
leakyrelu: Activation
lisht: Activation
logcosh: Activation
logsigmoid: Activation
logσ: Activation
mish: Activation
relu: Activation
relu6: Activation
selu: Activation
sigmoid: Activation
softplus: Activation
softshrink: Activation
softsign: Activation
swish: Activation
tanh: Activation
tanhshrink: Activation
σ: Activation
