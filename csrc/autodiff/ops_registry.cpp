// The names of the differentiable ops, read from the op table (ops.def).
#include "autodiff/ops.hpp"

namespace pyflux::autodiff {

std::vector<std::string> op_names() {
    return {
#define PYFLUX_UNARY(name, Rule, kind, saves, param, default_, doc) #name,
#define PYFLUX_BINARY(name, doc) #name,
#define PYFLUX_OP(name, doc) #name,
#include "autodiff/ops.def"
#undef PYFLUX_UNARY
#undef PYFLUX_BINARY
#undef PYFLUX_OP
    };
}

}  // namespace pyflux::autodiff
