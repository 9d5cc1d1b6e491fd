// Optimiser updates, each one fused pass over a parameter and its state, in place. The formulas are
// Optimisers.jl's (0.4.8, Flux 0.16); g is the gradient, p the parameter, Δ the rule's step.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// The operands of one update over n elements: gradient g, parameter p, the rule's state arrays s
/// (null where a rule does not use one) and its hyperparameters h, already in T. The step Δ is
/// subtracted from p in place (p -= Δ); when d is set, Δ is written to d instead and p is only read.
/// d may be g itself: every kernel reads g[i] before it writes d[i].
template <class T>
struct UpdateArgs {
    index_t n = 0;
    const T* g = nullptr;
    T* p = nullptr;
    T* d = nullptr;
    T* s[3] = {nullptr, nullptr, nullptr};
    T h[8] = {};
};

// Each rule below lists its state s[...] and hyperparameters h[...]; t counts steps from 1 and
// b1t = b1^t, b2t = b2^t are the bias-correction powers kept by the caller.

/// Descent, h = {eta}: Δ = eta g.
template <class T> void descent_update(const UpdateArgs<T>& a);
/// Momentum, s = {v}, h = {eta, rho}: v = rho v + eta g; Δ = v.
template <class T> void momentum_update(const UpdateArgs<T>& a);
/// Nesterov, s = {v}, h = {eta, rho}: Δ = -rho² v + (1 + rho) eta g; then v = rho v - eta g.
template <class T> void nesterov_update(const UpdateArgs<T>& a);
/// RMSProp, s = {s, a (null unless centred)}, h = {eta, rho, eps}: s = rho s + (1 - rho) g²;
/// a = rho a + (1 - rho) g; Δ = eta g / (sqrt(s - a²) + eps), a = 0 when not centred.
template <class T> void rmsprop_update(const UpdateArgs<T>& a);
/// Adam, s = {m, v}, h = {eta, b1, b2, eps, b1t, b2t}: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²;
/// Δ = eta (m / (1 - b1t)) / (sqrt(v / (1 - b2t)) + eps).
template <class T> void adam_update(const UpdateArgs<T>& a);
/// AdamW, s = {m, v}, h = {eta, b1, b2, eps, b1t, b2t, lambda, couple}: u = Adam's step with eta = 1;
/// couple != 0: Δ = eta (u + lambda p); couple == 0: Δ = eta u + lambda p.
template <class T> void adamw_update(const UpdateArgs<T>& a);
/// RAdam, s = {m, v}, h = {eta, b1, b2, eps, b1t, b2t, r}: m, v as Adam; with the rectification
/// r > 0: Δ = eta r (m / (1 - b1t)) / (sqrt(v / (1 - b2t)) + eps); r <= 0: Δ = eta m / (1 - b1t).
template <class T> void radam_update(const UpdateArgs<T>& a);
/// AdaMax, s = {m, u}, h = {eta, b1, b2, eps, b1t}: m = b1 m + (1 - b1) g; u = max(b2 u, |g|);
/// Δ = eta / (1 - b1t) m / (u + eps).
template <class T> void adamax_update(const UpdateArgs<T>& a);
/// AdaGrad, s = {acc}, h = {eta, eps}: acc = acc + g²; Δ = eta g / (sqrt(acc) + eps).
template <class T> void adagrad_update(const UpdateArgs<T>& a);
/// AdaDelta, s = {acc, dacc}, h = {rho, eps}: acc = rho acc + (1 - rho) g²;
/// Δ = g sqrt(dacc + eps) / sqrt(acc + eps); then dacc = rho dacc + (1 - rho) Δ².
template <class T> void adadelta_update(const UpdateArgs<T>& a);
/// AMSGrad, s = {m, v, vmax}, h = {eta, b1, b2, eps}: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²;
/// vmax = max(vmax, v); Δ = eta m / (sqrt(vmax) + eps).
template <class T> void amsgrad_update(const UpdateArgs<T>& a);
/// NAdam, s = {m, v}, h = {eta, b1, b2, eps, b1t, b2t}: m, v as Adam;
/// Δ = eta (b1 m / (1 - b1 b1t) + (1 - b1) g / (1 - b1t)) / (sqrt(b2 v / (1 - b2t)) + eps).
template <class T> void nadam_update(const UpdateArgs<T>& a);
/// OAdam, s = {m, v, term}, h = {eta, b1, b2, eps, b1t, b2t}: m, v as Adam;
/// term' = eta (m / (1 - b1t)) / (sqrt(v / (1 - b2t)) + eps); Δ = 2 term' - term; term = term'.
template <class T> void oadam_update(const UpdateArgs<T>& a);
/// Lion, s = {m}, h = {eta, b1, b2}: m = b2 g + (1 - b2) m; Δ = eta sign((b2 - b1) g + b1 m).
template <class T> void lion_update(const UpdateArgs<T>& a);

// Gradient transforms: stateless, usually placed in an OptimiserChain before an update rule.

/// ClipGrad, h = {delta}: Δ = clamp(g, -delta, delta).
template <class T> void clipgrad_update(const UpdateArgs<T>& a);
/// Scaling, h = {c}: Δ = c g (ClipNorm's second pass, with c = min(omega / norm(g, p), 1)).
template <class T> void scale_update(const UpdateArgs<T>& a);
/// WeightDecay, h = {lambda}: Δ = g + lambda p.
template <class T> void weightdecay_update(const UpdateArgs<T>& a);
/// SignDecay, h = {lambda}: Δ = g + lambda sign(p).
template <class T> void signdecay_update(const UpdateArgs<T>& a);

/// The p-norm of x's n elements, as Julia's norm(x, p): p = Inf the largest |x|, p = -Inf the
/// smallest, p = 0 the count of non-zeros, otherwise (sum |x|^p)^(1/p). Accumulates in double.
template <class T> double pnorm(index_t n, const T* x, double p);

}  // namespace pyflux::kernels
