// Activation functions (NNlib's formulas and kink conventions), each forward beside its backward in
// activations.cpp. The array kernels below serve both the standalone ops and Dense's fused pass.
//
// Backward works from what the forward saved: the output y where act' can be written in y, which
// lets Dense activate its output in place; the input x otherwise (needs_input(act) is true).
//
//   from the output y
//     identity    1
//     relu        y > 0
//     sigmoid     y (1 - y)
//     tanh        1 - y²
//     hardsigmoid 1/6 on 0 < y < 1
//     hardtanh    1 on -1 < y < 1
//     leakyrelu   y > 0 ? 1 : a
//     relu6       1 on 0 < y < 6
//     elu         y > 0 ? 1 : y + α
//     selu        y > 0 ? λ : y + λα
//     celu        y > 0 ? 1 : y/α + 1
//     softshrink  y != 0
//   from the input x
//     gelu        s + 2 x s (1 - s) u',  s = σ(2u), u as in the forward
//     gelu_erf    Φ(x) + x φ(x)
//     swish       σ(x) (1 + x (1 - σ(x)))
//     hardswish   0 below -3, 1 above 3, x/3 + 1/2 on [-3, 3]
//     softplus    σ(x)
//     softsign    1 / (1 + |x|)²
//     logsigmoid  σ(-x)
//     logcosh     tanh(x)
//     mish        t + x (1 - t²) σ(x),  t = tanh(softplus(x))
//     tanhshrink  tanh²(x)
//     lisht       tanh(x) + x (1 - tanh²(x))
//
// The output forms read the branch from the sign of y, which is why leakyrelu's a and elu's α must
// be >= 0 and celu's α > 0 (checked by the ops). At the kinks: relu'(0) = 0, leakyrelu'(0) = a,
// relu6' and hardtanh' are 1 only on the open interval, elu'(0) = α, selu'(0) = λα, celu'(0) = 1.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

// The codes are the ones pyflux.activations and _core.dense use; append only.
enum class Activation {
    identity = 0, relu = 1, sigmoid = 2, tanh = 3, hardsigmoid = 4, hardtanh = 5, leakyrelu = 6,
    relu6 = 7, elu = 8, gelu = 9, gelu_erf = 10, swish = 11, hardswish = 12, selu = 13, celu = 14,
    softplus = 15, softsign = 16, logsigmoid = 17, logcosh = 18, mish = 19, tanhshrink = 20,
    softshrink = 21, lisht = 22,
};
constexpr int kActivationCount = 23;

/// Whether backward needs the input x (true) or the output y (false).
bool needs_input(Activation act);

/// The one parameter of leakyrelu (a = 0.01), elu and celu (α = 1), softshrink (λ = 0.5); 0 for
/// the others, which ignore it.
double default_param(Activation act);

/// y = act(x) over n contiguous elements; y may alias x.
template <class T>
void activation_forward(Activation act, double param, index_t n, const T* x, T* y);

/// grad = g * act'(x) over n elements, from saved = x if needs_input(act) else y; grad may alias g.
template <class T>
void activation_backward(Activation act, double param, index_t n, const T* g, const T* saved, T* grad);

/// Dense's single pass after the GEMM, over a row-major [rows x cols] block z: z[r, :] += b[r]
/// (b may be null), then y = act(z). y may alias z, which is how output-derived activations run in
/// place; the others keep z for backward.
template <class T>
void bias_activation_forward(Activation act, double param, index_t rows, index_t cols, const T* b, T* z, T* y);

}  // namespace pyflux::kernels
