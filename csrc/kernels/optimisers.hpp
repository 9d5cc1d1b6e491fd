// Optimiser updates, each one fused pass over a parameter and its state, in place. The formulas are
// Optimisers.jl's (Flux 0.16); g is the gradient, p the parameter.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// Descent: p -= eta * g.
template <class T>
void descent_update(index_t n, T eta, const T* g, T* p);

/// RMSProp: s = rho s + (1 - rho) g^2; centred (a non-null): a = rho a + (1 - rho) g;
/// p -= eta g / (sqrt(s - a^2) + eps).
template <class T>
void rmsprop_update(index_t n, T eta, T rho, T eps, const T* g, T* s, T* a, T* p);

/// Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= eta (m / (1 - b1t)) / (sqrt(v / (1 - b2t)) + eps), with b1t = b1^t and b2t = b2^t at step t.
template <class T>
void adam_update(index_t n, T eta, T b1, T b2, T eps, T b1t, T b2t, const T* g, T* m, T* v, T* p);

}  // namespace pyflux::kernels
