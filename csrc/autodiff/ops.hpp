// Every differentiable op, in one list. Each is defined in ops_<family>.cpp as its forward
// followed by its backward rule. An op records itself on the current tape only when one of its
// inputs is traced; outside gradient it just computes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "autodiff/axes.hpp"
#include "autodiff/tensor.hpp"
#include "kernels/elementwise_unary.hpp"

namespace pyflux::autodiff {

using kernels::UnaryOp;

// ops_elementwise.cpp: the PYFLUX_BINARY ops of ops.def (add, sub, mul, div, pow) with numpy
// broadcasting; both operands must have the same dtype.
#define PYFLUX_BINARY(name, doc) Tensor name(const Tensor& a, const Tensor& b);
#include "autodiff/ops.def"
#undef PYFLUX_BINARY
/// numpy's where(cond, a, b) with broadcasting, all three of one dtype; cond (nonzero: true) is a
/// constant, the gradient goes to a where it holds and to b elsewhere.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
/// The same values in another dtype (how mixed float32/float64 operands meet).
Tensor cast(const Tensor& x, DType dtype);

// ops_matmul.cpp
/// numpy's a @ b for 1-D and 2-D operands.
Tensor matmul(const Tensor& a, const Tensor& b);
/// act(W x + b) fused: W [out x in], b [out] or null, x [in] or [in x N]; param as activation's.
Tensor dense(const Tensor& W, const Tensor& b, const Tensor& x, UnaryOp act, double param);

// ops_unary.cpp
/// op(x) elementwise, for the PYFLUX_UNARY ops of ops.def; param is leakyrelu's a, elu's and celu's
/// α, softshrink's λ (ignored by the others; kernels::default_param gives Flux's defaults).
Tensor unary(const Tensor& x, UnaryOp op, double param);
inline Tensor neg(const Tensor& x) { return unary(x, UnaryOp::neg, 0); }
/// Throws std::invalid_argument naming op when param is outside what code's backward supports.
void check_unary_param(const char* op, UnaryOp code, double param);

// ops_softmax.cpp: normalised along the given axes (negative counts from the end), or over all
// elements (nullopt).
Tensor softmax(const Tensor& x, const Axes& axes);
Tensor logsoftmax(const Tensor& x, const Axes& axes);

// ops_reduce.cpp: over the given axes (negative counts from the end) or all elements (nullopt); the
// reduced axes are removed, or kept with size 1. max and min give the gradient to the extreme
// element (shared among ties); prod's backward is exact with zeros; logsumexp is computed stably.
Tensor sum(const Tensor& x, const Axes& dims, bool keepdims);
Tensor mean(const Tensor& x, const Axes& dims, bool keepdims);
Tensor max(const Tensor& x, const Axes& dims, bool keepdims);
Tensor min(const Tensor& x, const Axes& dims, bool keepdims);
Tensor prod(const Tensor& x, const Axes& dims, bool keepdims);
Tensor logsumexp(const Tensor& x, const Axes& dims, bool keepdims);

// ops_shape.cpp
/// One entry per axis of x: the slice start:start+count*step:step, or (keep = false) the single
/// integer index start, which removes the axis.
struct AxisIndex {
    index_t start = 0;
    index_t step = 1;
    index_t count = 0;
    bool keep = true;
};
Tensor index(const Tensor& x, const std::vector<AxisIndex>& spec);
/// The arrays joined along `axis` (numpy's concatenate): one dtype, equal shapes but for that axis.
Tensor cat(const std::vector<Tensor>& xs, int axis);
/// x[..., indices, ...] along `axis`: the axis replaced by index_shape (indices holds its elements,
/// negative ones counting from the end); out-of-range indices are std::out_of_range. The gradient is
/// a scatter-add (repeated indices accumulate).
Tensor gather(const Tensor& x, int axis, std::vector<index_t> indices, const Shape& index_shape);
/// Reverses the axes (numpy's .T).
Tensor transpose(const Tensor& x);
Tensor reshape(const Tensor& x, const Shape& shape);

/// The names of the ops above as the bindings expose them; every one needs a gradient test.
std::vector<std::string> op_names();

}  // namespace pyflux::autodiff
