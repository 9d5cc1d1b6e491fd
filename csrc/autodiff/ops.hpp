// Every differentiable op, in one list. Each is defined in ops_<family>.cpp as its forward
// followed by its backward rule. An op records itself on the current tape only when one of its
// inputs is traced; outside gradient it just computes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"
#include "kernels/activations.hpp"

namespace pyflux::autodiff {

using kernels::Activation;

// ops_elementwise.cpp: numpy broadcasting; both operands must have the same dtype.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
/// The same values in another dtype (how mixed float32/float64 operands meet).
Tensor cast(const Tensor& x, DType dtype);

// ops_matmul.cpp
/// numpy's a @ b for 1-D and 2-D operands.
Tensor matmul(const Tensor& a, const Tensor& b);
/// act(W x + b) fused: W [out x in], b [out] or null, x [in] or [in x N]; param as activation's.
Tensor dense(const Tensor& W, const Tensor& b, const Tensor& x, Activation act, double param);

// ops_activations.cpp
/// act(x) elementwise; param is leakyrelu's a, elu's and celu's α, softshrink's λ (ignored by the
/// others; kernels::default_param gives Flux's defaults).
Tensor activation(const Tensor& x, Activation act, double param);
/// Throws std::invalid_argument naming op when param is outside what act's backward supports.
void check_activation_param(const char* op, Activation act, double param);

// ops_softmax.cpp: normalised along `axis` (negative counts from the end).
Tensor softmax(const Tensor& x, int axis);
Tensor logsoftmax(const Tensor& x, int axis);

// ops_reduce.cpp: over all elements (axis empty) or one axis (negative counts from the end).
Tensor sum(const Tensor& x, std::optional<int> axis);
Tensor mean(const Tensor& x, std::optional<int> axis);

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
/// Reverses the axes (numpy's .T).
Tensor transpose(const Tensor& x);
Tensor reshape(const Tensor& x, const Shape& shape);

/// The names of the ops above as the bindings expose them; every one needs a gradient test.
std::vector<std::string> op_names();

}  // namespace pyflux::autodiff
