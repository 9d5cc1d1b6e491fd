// Optimiser rules, one struct each: named hyperparameters and an `apply` that runs one fused pass over a
// parameter and its state, in place. The formulas are Optimisers.jl's (0.4.8, Flux 0.16); g is the
// gradient, p the parameter, Δ the rule's step. The rules are listed once, in PYFLUX_OPTIMISERS below;
// optimisers/ builds each parameter's state from that list and bindings/ exposes it.
//
// A rule struct has:
//   - `name`: its Python class name;
//   - `hypers(f)`: calls f(name, field) for each hyperparameter (a double), in Python's order, with Python's
//     names (`beta` is split into beta1, beta2; a bool such as `couple` is 0 or 1);
//   - `states()`: the names of its state arrays, each shaped like p, filled with `initial(k)` by init;
//   - `clocked`: whether it keeps the step count t and the powers β1^t, β2^t (advanced by `Clock::tick`);
//   - `apply(a, clock)`: one step over a's n elements.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// The operands of one update over n elements: gradient g, parameter p and the rule's state arrays s.
/// Δ is subtracted from p in place (p -= Δ); when d is set, Δ is written to d instead and p is only read.
/// d may be g itself: every rule reads g[i] before it writes d[i].
template <class T>
struct UpdateArgs {
    index_t n = 0;
    const T* g = nullptr;
    T* p = nullptr;
    T* d = nullptr;
    T* s[3] = {nullptr, nullptr, nullptr};
};

/// Step count and bias-correction powers of the Adam family: t counts steps from 1 and beta_t = β^t.
struct Clock {
    std::int64_t t = 0;
    double beta_t[2] = {1.0, 1.0};
    void tick(double beta1, double beta2) {
        ++t;
        beta_t[0] *= beta1;
        beta_t[1] *= beta2;
    }
};

using StateNames = std::vector<const char*>;

/// Defaults shared by the rule structs: no state, no clock.
struct RuleBase {
    static constexpr bool clocked = false;
    StateNames states() const { return {}; }
    double initial(int) const { return 0.0; }
};

/// Descent: Δ = eta g.
struct Descent : RuleBase {
    static constexpr const char* name = "Descent";
    double eta = 0.1;
    template <class F> void hypers(F&& f) { f("eta", eta); }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// The hyperparameters of Momentum and Nesterov, with their velocity v.
struct MomentumLike : RuleBase {
    double eta = 0.01, rho = 0.9;
    template <class F> void hypers(F&& f) { f("eta", eta); f("rho", rho); }
    StateNames states() const { return {"v"}; }
};

/// Momentum: v = rho v + eta g; Δ = v.
struct Momentum : MomentumLike {
    static constexpr const char* name = "Momentum";
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// Nesterov: Δ = -rho² v + (1 + rho) eta g; then v = rho v - eta g.
struct Nesterov : MomentumLike {
    static constexpr const char* name = "Nesterov";
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// RMSProp: s = rho s + (1 - rho) g²; centred also keeps a = rho a + (1 - rho) g;
/// Δ = eta g / (sqrt(s - a²) + epsilon), a = 0 when not centred.
struct RMSProp : RuleBase {
    static constexpr const char* name = "RMSProp";
    double eta = 0.001, rho = 0.9, epsilon = 1e-8, centred = 0;
    template <class F> void hypers(F&& f) { f("eta", eta); f("rho", rho); f("epsilon", epsilon); f("centred", centred); }
    StateNames states() const { return centred != 0 ? StateNames{"s", "a"} : StateNames{"s"}; }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// The hyperparameters of the Adam family: eta, (beta1, beta2), epsilon, with the clock.
struct AdamLike : RuleBase {
    static constexpr bool clocked = true;
    double eta = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
    template <class F> void hypers(F&& f) { f("eta", eta); f("beta1", beta1); f("beta2", beta2); f("epsilon", epsilon); }
    StateNames states() const { return {"m", "v"}; }
};

/// Adam: m = β1 m + (1 - β1) g; v = β2 v + (1 - β2) g²; Δ = eta (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + eps).
struct Adam : AdamLike {
    static constexpr const char* name = "Adam";
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// AdamW: u = Adam's step with eta = 1; couple != 0: Δ = eta (u + lambd p); couple == 0: Δ = eta u + lambd p.
struct AdamW : AdamLike {
    static constexpr const char* name = "AdamW";
    double lambd = 0.0, couple = 1;
    template <class F> void hypers(F&& f) {
        f("eta", eta); f("beta1", beta1); f("beta2", beta2); f("lambd", lambd); f("epsilon", epsilon); f("couple", couple);
    }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// RAdam: m, v as Adam; ρ∞ = 2 / (1 - β2) - 1, ρt = ρ∞ - 2 t β2^t / (1 - β2^t); if ρt > 4,
/// r = sqrt((ρt - 4)(ρt - 2) ρ∞ / ((ρ∞ - 4)(ρ∞ - 2) ρt)) and Δ = eta r m̂ / (sqrt(v̂) + eps), else Δ = eta m̂.
struct RAdam : AdamLike {
    static constexpr const char* name = "RAdam";
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// AdaMax: m = β1 m + (1 - β1) g; u = max(β2 u, |g|); Δ = eta / (1 - β1^t) m / (u + eps).
struct AdaMax : AdamLike {
    static constexpr const char* name = "AdaMax";
    StateNames states() const { return {"m", "u"}; }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// AMSGrad: m, v as Adam; vmax = max(vmax, v); Δ = eta m / (sqrt(vmax) + eps). All state starts at eps.
struct AMSGrad : AdamLike {
    static constexpr const char* name = "AMSGrad";
    static constexpr bool clocked = false;
    StateNames states() const { return {"m", "v", "vmax"}; }
    double initial(int) const { return epsilon; }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// NAdam: m, v as Adam; Δ = eta (β1 m / (1 - β1 β1^t) + (1 - β1) g / (1 - β1^t)) / (sqrt(β2 v / (1 - β2^t)) + eps).
struct NAdam : AdamLike {
    static constexpr const char* name = "NAdam";
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// OAdam: m, v as Adam; term' = eta (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + eps); Δ = 2 term' - term.
struct OAdam : AdamLike {
    static constexpr const char* name = "OAdam";
    OAdam() { beta1 = 0.5, beta2 = 0.9; }
    StateNames states() const { return {"m", "v", "term"}; }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// AdaGrad: acc = acc + g²; Δ = eta g / (sqrt(acc) + epsilon). acc starts at epsilon.
struct AdaGrad : RuleBase {
    static constexpr const char* name = "AdaGrad";
    double eta = 0.1, epsilon = 1e-8;
    template <class F> void hypers(F&& f) { f("eta", eta); f("epsilon", epsilon); }
    StateNames states() const { return {"acc"}; }
    double initial(int) const { return epsilon; }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// AdaDelta: acc = rho acc + (1 - rho) g²; Δ = g sqrt(dacc + eps) / sqrt(acc + eps); dacc = rho dacc + (1 - rho) Δ².
struct AdaDelta : RuleBase {
    static constexpr const char* name = "AdaDelta";
    double rho = 0.9, epsilon = 1e-8;
    template <class F> void hypers(F&& f) { f("rho", rho); f("epsilon", epsilon); }
    StateNames states() const { return {"acc", "dacc"}; }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// Lion: m = β2 g + (1 - β2) m; Δ = eta sign((β2 - β1) g + β1 m).
struct Lion : RuleBase {
    static constexpr const char* name = "Lion";
    double eta = 0.001, beta1 = 0.9, beta2 = 0.999;
    template <class F> void hypers(F&& f) { f("eta", eta); f("beta1", beta1); f("beta2", beta2); }
    StateNames states() const { return {"m"}; }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

// Gradient transforms: stateless, usually placed in an OptimiserChain before an update rule.

/// ClipGrad: Δ = clamp(g, -delta, delta).
struct ClipGrad : RuleBase {
    static constexpr const char* name = "ClipGrad";
    double delta = 10.0;
    template <class F> void hypers(F&& f) { f("delta", delta); }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// ClipNorm: with n = norm(g, p) of this array alone, Δ = g min(omega / n, 1). A non-finite n throws
/// std::domain_error when `throw` is set.
struct ClipNorm : RuleBase {
    static constexpr const char* name = "ClipNorm";
    double omega = 10.0, p = 2, throw_ = 1;
    template <class F> void hypers(F&& f) { f("omega", omega); f("p", p); f("throw", throw_); }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// WeightDecay: Δ = g + lambd p.
struct WeightDecay : RuleBase {
    static constexpr const char* name = "WeightDecay";
    double lambd = 5e-4;
    template <class F> void hypers(F&& f) { f("lambd", lambd); }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// SignDecay: Δ = g + lambd sign(p).
struct SignDecay : RuleBase {
    static constexpr const char* name = "SignDecay";
    double lambd = 1e-3;
    template <class F> void hypers(F&& f) { f("lambd", lambd); }
    template <class T> void apply(const UpdateArgs<T>& a, Clock& c) const;
};

/// Every rule, once. Adding a rule: its struct above with its apply in optimisers.cpp, and its entry here.
#define PYFLUX_OPTIMISERS(X)                                                                                \
    X(Descent) X(Momentum) X(Nesterov) X(RMSProp) X(Adam) X(AdamW) X(RAdam) X(AdaMax) X(AMSGrad) X(NAdam) \
    X(OAdam) X(AdaGrad) X(AdaDelta) X(Lion) X(ClipGrad) X(ClipNorm) X(WeightDecay) X(SignDecay)

/// The p-norm of x's n elements, as Julia's norm(x, p): p = Inf the largest |x|, p = -Inf the
/// smallest, p = 0 the count of non-zeros, otherwise (sum |x|^p)^(1/p). Accumulates in double.
template <class T> double pnorm(index_t n, const T* x, double p);

}  // namespace pyflux::kernels
