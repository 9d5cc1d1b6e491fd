// How an op over a set of axes (softmax's dims, a reduction's) meets the kernels, which work on the
// middle axis of a contiguous [outer x n x inner] block. Adjacent axes are that block as they lie;
// any other set goes through a permuted contiguous copy with the chosen axes last.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "autodiff/tensor.hpp"

namespace pyflux::autodiff {

/// Axes as the ops take them: a list (negative counts from the end), or nullopt for all axes.
using Axes = std::optional<std::vector<int>>;

struct Lines {
    index_t outer = 1, n = 1, inner = 1;
};

struct AxesPlan {
    Lines lines;
    bool permuted = false;             // whether the chosen axes need the permutation `order`
    std::array<int, kMaxDims> order{};  // kept axes, then chosen ones
    std::array<bool, kMaxDims> chosen{};
};

/// The plan for `axes` of `shape`; out-of-range axes are std::out_of_range, repeated ones
/// std::invalid_argument, both naming op and shape; `what` is the argument's name in messages.
AxesPlan plan_axes(const char* op, const Shape& shape, const Axes& axes, const char* what = "dims");

/// t's axes in `order` as a contiguous tensor, or (inverse) a tensor so permuted put back.
Tensor permute(const Tensor& t, const std::array<int, kMaxDims>& order, bool inverse);

/// `in` in the plan's kernel layout (contiguous, chosen axes as the middle block).
inline Tensor to_lines(const AxesPlan& plan, const Tensor& in) {
    return plan.permuted ? permute(in, plan.order, false) : contiguous(in);
}

/// A tensor of the input's shape in the kernel layout, back in the input's axis order.
inline Tensor from_lines(const AxesPlan& plan, const Tensor& out) {
    return plan.permuted ? permute(out, plan.order, true) : out;
}

/// The shape left when the chosen axes are removed (or, keepdims, set to 1).
Shape reduced_shape(const AxesPlan& plan, const Shape& shape, bool keepdims);

}  // namespace pyflux::autodiff
