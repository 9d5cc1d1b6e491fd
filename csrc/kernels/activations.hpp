// Activation functions, each forward beside its backward. Backward works from the saved output y,
// which every activation here allows: relu' = (y > 0), sigmoid' = y(1 - y), tanh' = 1 - y^2.
#pragma once

#include <cmath>

#include "kernels/common.hpp"

namespace pyflux::kernels {

enum class Activation { identity = 0, relu = 1, sigmoid = 2, tanh = 3 };

/// y = act(x) over n contiguous elements; y may alias x.
template <class T>
void activation_forward(Activation act, index_t n, const T* x, T* y);

/// grad = g * act'(x), computed from y = act(x); grad may alias g.
template <class T>
void activation_backward(Activation act, index_t n, const T* g, const T* y, T* grad);

/// The scalar forms, shared with the fused Dense pass.
template <class T>
inline T sigmoid_scalar(T x) {
    // Split by sign so exp never overflows.
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
}

}  // namespace pyflux::kernels
