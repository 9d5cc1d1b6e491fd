// The registry of differentiable ops, read by the gradient-test coverage check.
#include "autodiff/ops.hpp"

namespace pyflux::autodiff {

std::vector<std::string> op_names() {
    return {"add",        "sub",        "mul",       "div",        "pow",       "neg",        "exp",
            "log",        "cast",       "matmul",    "dense",      "identity",  "relu",       "sigmoid",
            "tanh",       "hardsigmoid", "hardtanh", "leakyrelu",  "relu6",     "elu",        "gelu",
            "gelu_erf",   "swish",      "hardswish", "selu",       "celu",      "softplus",   "softsign",
            "logsigmoid", "logcosh",    "mish",      "tanhshrink", "softshrink", "lisht",     "softmax",
            "logsoftmax", "sum",        "mean",      "index",      "transpose", "reshape"};
}

}  // namespace pyflux::autodiff
