// The elementwise unary ops, math functions and activations alike, as the op table
// (autodiff/ops.def) declares them: y = f(x) or f(x, p), each rule's forward beside its backward
// in elementwise_rules.hpp and activations.hpp. The array kernels serve the standalone ops and
// Dense's fused pass.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// One code per PYFLUX_UNARY entry, in table order.
enum class UnaryOp {
#define PYFLUX_UNARY(name, Rule, kind, saves, param, default_, doc) name,
#include "autodiff/ops.def"
#undef PYFLUX_UNARY
};

constexpr int kUnaryOpCount = 0
#define PYFLUX_UNARY(name, Rule, kind, saves, param, default_, doc) +1
#include "autodiff/ops.def"
#undef PYFLUX_UNARY
    ;

/// What a backward rule reads besides the incoming gradient.
enum class Saves { nothing, input, output };

/// The op for a code, or false when the code is not one of the table's.
bool unary_op_of(long code, UnaryOp* op);

/// What op's backward reads: its input x, its output y, or nothing.
Saves saves(UnaryOp op);

/// The default of op's one parameter (leakyrelu's a = 0.01, elu's and celu's α = 1, softshrink's
/// λ = 0.5); 0 for the ops without one, which ignore it.
double default_param(UnaryOp op);

/// Why param is outside what op's backward supports, or null when it is fine.
const char* invalid_param(UnaryOp op, double param);

/// y = f(x) over n contiguous elements; y may alias x.
template <class T>
void unary_forward(UnaryOp op, double param, index_t n, const T* x, T* y);

/// grad = g * f'(x) over n elements, from saved = x or y as saves(op) says (ignored for nothing);
/// grad may alias g.
template <class T>
void unary_backward(UnaryOp op, double param, index_t n, const T* g, const T* saved, T* grad);

/// Dense's single pass after the GEMM, over a row-major [rows x cols] block z: z[r, :] += b[r]
/// (b may be null), then y = f(z). y may alias z, which is how ops whose backward does not read
/// the input run in place; the others keep z for backward.
template <class T>
void bias_activation_forward(UnaryOp op, double param, index_t rows, index_t cols, const T* b, T* z, T* y);

}  // namespace pyflux::kernels
