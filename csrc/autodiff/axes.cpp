#include "autodiff/axes.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace pyflux::autodiff {

AxesPlan plan_axes(const char* op, const Shape& shape, const Axes& axes, const char* what) {
    AxesPlan plan;
    if (!axes) {
        plan.chosen.fill(true);
    } else {
        for (int axis : *axes) {
            const int a = axis < 0 ? axis + shape.ndim : axis;
            if (a < 0 || a >= shape.ndim)
                throw std::out_of_range(std::string(op) + ": " + what + " " + std::to_string(axis) +
                                        " is out of bounds for shape " + shape.str());
            if (plan.chosen[a])
                throw std::invalid_argument(std::string(op) + ": " + what + " repeats axis " + std::to_string(a));
            plan.chosen[a] = true;
        }
    }
    int first = shape.ndim, last = -1;
    for (int d = 0; d < shape.ndim; ++d)
        if (plan.chosen[d]) first = std::min(first, d), last = std::max(last, d);
    bool adjacent = true;
    for (int d = first; d <= last; ++d) adjacent = adjacent && plan.chosen[d];
    if (adjacent) {
        for (int d = 0; d < shape.ndim; ++d) {
            if (d < first) plan.lines.outer *= shape[d];
            else if (d > last) plan.lines.inner *= shape[d];
            else plan.lines.n *= shape[d];
        }
        return plan;
    }
    plan.permuted = true;
    int k = 0;
    for (int d = 0; d < shape.ndim; ++d)
        if (!plan.chosen[d]) plan.order[k++] = d, plan.lines.outer *= shape[d];
    for (int d = 0; d < shape.ndim; ++d)
        if (plan.chosen[d]) plan.order[k++] = d, plan.lines.n *= shape[d];
    return plan;
}

Tensor permute(const Tensor& t, const std::array<int, kMaxDims>& order, bool inverse) {
    Shape shape;
    shape.ndim = t->shape.ndim;
    Strides strides{};
    for (int d = 0; d < shape.ndim; ++d) {
        const int from = inverse ? d : order[d], to = inverse ? order[d] : d;
        shape.dims[to] = t->shape[from];
        strides[to] = t->strides[from];
    }
    return contiguous(view(t, shape, strides, 0));
}

Shape reduced_shape(const AxesPlan& plan, const Shape& shape, bool keepdims) {
    Shape out;
    for (int d = 0; d < shape.ndim; ++d) {
        if (!plan.chosen[d]) out.dims[out.ndim++] = shape[d];
        else if (keepdims) out.dims[out.ndim++] = 1;
    }
    return out;
}

}  // namespace pyflux::autodiff
