#include "autodiff/flat.hpp"

namespace pyflux::autodiff {

FlatOp::FlatOp(const FlatArgs& io) : io_(io) {
    for (int k = 0; k < 3; ++k)
        if (io.grad_in[k] && io.add[k]) scratch_[k] = empty(io.grad_in[k]->dtype, io.grad_in[k]->shape);
}

}  // namespace pyflux::autodiff
