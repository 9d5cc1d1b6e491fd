#include "kernels/optimisers.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace pyflux::kernels {
namespace {

// Runs step(i), which updates the state at i and returns Δ_i, over every element (in parallel only when
// the work is large): p -= Δ, or d = Δ when d is set (step reads g[i] before d[i] is written, so d may be g).
template <class T, class Step>
void for_each_step(const UpdateArgs<T>& a, Step step) {
    T* const p = a.p;
    T* const d = a.d;
    // A moment whose gradient has become 0 (a dead ReLU unit, an input that is always 0 from then
    // on) decays through the subnormal range for over a hundred steps (subnormals.hpp); the
    // threads of parallel_for take this thread's mode.
    const SubnormalMode flush(SubnormalMode::for_training());
    parallel_for(a.n, kGrain, [&](index_t begin, index_t end) {
        // A local copy of the rule's constants: the caller's copy is reachable from the OpenMP region,
        // so the compiler must assume the stores below may change it, and then leaves the loop scalar.
        const Step local = step;
        if (d) {
            for (index_t i = begin; i < end; ++i) d[i] = local(i);
        } else {
            for (index_t i = begin; i < end; ++i) p[i] -= local(i);
        }
    });
}

template <class T>
T sign(T x) {
    return static_cast<T>((x > T(0)) - (x < T(0)));
}

// The moments every Adam-family rule keeps: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g².
template <class T>
inline void moments(T gi, T b1, T b2, T& m, T& v) {
    m = b1 * m + (T(1) - b1) * gi;
    v = b2 * v + (T(1) - b2) * gi * gi;
}

// The bias corrections 1 / (1 - β1^t) and 1 / (1 - β2^t) after the clock has ticked.
template <class T>
std::pair<T, T> corrections(const Clock& c) {
    return {T(1) / (T(1) - static_cast<T>(c.beta_t[0])), T(1) / (T(1) - static_cast<T>(c.beta_t[1]))};
}

// Δ = c g
template <class T>
void scale(const UpdateArgs<T>& a, T c) {
    const T* g = a.g;
    for_each_step(a, [=](index_t i) { return c * g[i]; });
}

// RAdam's rectification r at step t, or 0 while ρt <= 4 (then the step is unrectified).
double rectification(double beta2, const Clock& c) {
    const double rho_inf = 2 / (1 - beta2) - 1;
    const double rho = rho_inf - 2 * static_cast<double>(c.t) * c.beta_t[1] / (1 - c.beta_t[1]);
    if (!(rho > 4)) return 0.0;
    return std::sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho));
}

}  // namespace

// Δ = eta g
template <class T>
void Descent::apply(const UpdateArgs<T>& a, Clock&) const {
    scale(a, static_cast<T>(eta));
}

// v = rho v + eta g; Δ = v
template <class T>
void Momentum::apply(const UpdateArgs<T>& a, Clock&) const {
    const T eta = static_cast<T>(this->eta), rho = static_cast<T>(this->rho);
    const T* g = a.g;
    T* v = a.s[0];
    for_each_step(a, [=](index_t i) { return v[i] = rho * v[i] + eta * g[i]; });
}

// Δ = -rho² v + (1 + rho) eta g; v = rho v - eta g
template <class T>
void Nesterov::apply(const UpdateArgs<T>& a, Clock&) const {
    const T eta = static_cast<T>(this->eta), rho = static_cast<T>(this->rho);
    const T* g = a.g;
    T* v = a.s[0];
    for_each_step(a, [=](index_t i) {
        const T gi = g[i], vi = v[i];
        v[i] = rho * vi - eta * gi;
        return -rho * rho * vi + (T(1) + rho) * eta * gi;
    });
}

// s = rho s + (1 - rho) g²; a = rho a + (1 - rho) g (centred: a has a state array); Δ = eta g / (sqrt(s - a²) + eps)
template <class T>
void RMSProp::apply(const UpdateArgs<T>& a, Clock&) const {
    const T eta = static_cast<T>(this->eta), rho = static_cast<T>(this->rho), eps = static_cast<T>(epsilon);
    const T* g = a.g;
    T *s = a.s[0], *lin = a.s[1];
    for_each_step(a, [=](index_t i) {
        const T gi = g[i];
        s[i] = rho * s[i] + (T(1) - rho) * gi * gi;
        T var = s[i];
        if (lin) {
            lin[i] = rho * lin[i] + (T(1) - rho) * gi;
            var -= lin[i] * lin[i];
        }
        return eta * gi / (std::sqrt(var) + eps);
    });
}

// m, v as above; Δ = eta (m / (1 - b1t)) / (sqrt(v / (1 - b2t)) + eps)
template <class T>
void Adam::apply(const UpdateArgs<T>& a, Clock& c) const {
    c.tick(beta1, beta2);
    const T eta = static_cast<T>(this->eta), b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T eps = static_cast<T>(epsilon);
    const auto [c1, c2] = corrections<T>(c);
    const T* g = a.g;
    T *m = a.s[0], *v = a.s[1];
    for_each_step(a, [=](index_t i) {
        moments(g[i], b1, b2, m[i], v[i]);
        return eta * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
    });
}

// u = (m / (1 - b1t)) / (sqrt(v / (1 - b2t)) + eps); Δ = eta (u + lambd p) or eta u + lambd p
template <class T>
void AdamW::apply(const UpdateArgs<T>& a, Clock& c) const {
    c.tick(beta1, beta2);
    const T eta = static_cast<T>(this->eta), b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T eps = static_cast<T>(epsilon);
    const auto [c1, c2] = corrections<T>(c);
    const T decay = couple != 0 ? eta * static_cast<T>(lambd) : static_cast<T>(lambd);
    const T* g = a.g;
    const T* p = a.p;
    T *m = a.s[0], *v = a.s[1];
    for_each_step(a, [=](index_t i) {
        moments(g[i], b1, b2, m[i], v[i]);
        return eta * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps) + decay * p[i];
    });
}

// m, v as Adam; r > 0: Δ = eta r (m / (1 - b1t)) / (sqrt(v / (1 - b2t)) + eps); else Δ = eta m / (1 - b1t)
template <class T>
void RAdam::apply(const UpdateArgs<T>& a, Clock& c) const {
    c.tick(beta1, beta2);
    const T eta = static_cast<T>(this->eta), b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T eps = static_cast<T>(epsilon), r = static_cast<T>(rectification(beta2, c));
    const auto [c1, c2] = corrections<T>(c);
    const T* g = a.g;
    T *m = a.s[0], *v = a.s[1];
    if (r > T(0)) {
        for_each_step(a, [=](index_t i) {
            moments(g[i], b1, b2, m[i], v[i]);
            return eta * r * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
        });
    } else {
        for_each_step(a, [=](index_t i) {
            moments(g[i], b1, b2, m[i], v[i]);
            return eta * m[i] * c1;
        });
    }
}

// m = b1 m + (1 - b1) g; u = max(b2 u, |g|); Δ = eta / (1 - b1t) m / (u + eps)
template <class T>
void AdaMax::apply(const UpdateArgs<T>& a, Clock& c) const {
    c.tick(beta1, beta2);
    const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2), eps = static_cast<T>(epsilon);
    const T step = static_cast<T>(eta) / (T(1) - static_cast<T>(c.beta_t[0]));
    const T* g = a.g;
    T *m = a.s[0], *u = a.s[1];
    for_each_step(a, [=](index_t i) {
        const T gi = g[i];
        m[i] = b1 * m[i] + (T(1) - b1) * gi;
        u[i] = std::max(b2 * u[i], std::abs(gi));
        return step * m[i] / (u[i] + eps);
    });
}

// m, v as Adam; vmax = max(vmax, v); Δ = eta m / (sqrt(vmax) + eps)
template <class T>
void AMSGrad::apply(const UpdateArgs<T>& a, Clock&) const {
    const T eta = static_cast<T>(this->eta), b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T eps = static_cast<T>(epsilon);
    const T* g = a.g;
    T *m = a.s[0], *v = a.s[1], *vmax = a.s[2];
    for_each_step(a, [=](index_t i) {
        moments(g[i], b1, b2, m[i], v[i]);
        vmax[i] = std::max(vmax[i], v[i]);
        return eta * m[i] / (std::sqrt(vmax[i]) + eps);
    });
}

// m, v as Adam; Δ = eta (b1 m / (1 - b1 b1t) + (1 - b1) g / (1 - b1t)) / (sqrt(b2 v / (1 - b2t)) + eps)
template <class T>
void NAdam::apply(const UpdateArgs<T>& a, Clock& c) const {
    c.tick(beta1, beta2);
    const T eta = static_cast<T>(this->eta), b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T eps = static_cast<T>(epsilon);
    const T b1t = static_cast<T>(c.beta_t[0]), b2t = static_cast<T>(c.beta_t[1]);
    const T cm = b1 / (T(1) - b1 * b1t), cg = (T(1) - b1) / (T(1) - b1t), cv = b2 / (T(1) - b2t);
    const T* g = a.g;
    T *m = a.s[0], *v = a.s[1];
    for_each_step(a, [=](index_t i) {
        const T gi = g[i];
        moments(gi, b1, b2, m[i], v[i]);
        return eta * (cm * m[i] + cg * gi) / (std::sqrt(cv * v[i]) + eps);
    });
}

// m, v as Adam; term' = eta (m / (1 - b1t)) / (sqrt(v / (1 - b2t)) + eps); Δ = 2 term' - term
template <class T>
void OAdam::apply(const UpdateArgs<T>& a, Clock& c) const {
    c.tick(beta1, beta2);
    const T eta = static_cast<T>(this->eta), b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T eps = static_cast<T>(epsilon);
    const auto [c1, c2] = corrections<T>(c);
    const T* g = a.g;
    T *m = a.s[0], *v = a.s[1], *term = a.s[2];
    for_each_step(a, [=](index_t i) {
        moments(g[i], b1, b2, m[i], v[i]);
        const T previous = term[i];
        term[i] = eta * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
        return T(2) * term[i] - previous;
    });
}

// acc = acc + g²; Δ = eta g / (sqrt(acc) + eps)
template <class T>
void AdaGrad::apply(const UpdateArgs<T>& a, Clock&) const {
    const T eta = static_cast<T>(this->eta), eps = static_cast<T>(epsilon);
    const T* g = a.g;
    T* acc = a.s[0];
    for_each_step(a, [=](index_t i) {
        const T gi = g[i];
        acc[i] += gi * gi;
        return eta * gi / (std::sqrt(acc[i]) + eps);
    });
}

// acc = rho acc + (1 - rho) g²; Δ = g sqrt(dacc + eps) / sqrt(acc + eps); dacc = rho dacc + (1 - rho) Δ²
template <class T>
void AdaDelta::apply(const UpdateArgs<T>& a, Clock&) const {
    const T rho = static_cast<T>(this->rho), eps = static_cast<T>(epsilon);
    const T* g = a.g;
    T *acc = a.s[0], *dacc = a.s[1];
    for_each_step(a, [=](index_t i) {
        const T gi = g[i];
        acc[i] = rho * acc[i] + (T(1) - rho) * gi * gi;
        const T delta = gi * std::sqrt(dacc[i] + eps) / std::sqrt(acc[i] + eps);
        dacc[i] = rho * dacc[i] + (T(1) - rho) * delta * delta;
        return delta;
    });
}

// m = b2 g + (1 - b2) m; Δ = eta sign((b2 - b1) g + b1 m)
template <class T>
void Lion::apply(const UpdateArgs<T>& a, Clock&) const {
    const T eta = static_cast<T>(this->eta), b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T* g = a.g;
    T* m = a.s[0];
    for_each_step(a, [=](index_t i) {
        const T gi = g[i];
        m[i] = b2 * gi + (T(1) - b2) * m[i];
        return eta * sign((b2 - b1) * gi + b1 * m[i]);
    });
}

// Δ = clamp(g, -delta, delta)
template <class T>
void ClipGrad::apply(const UpdateArgs<T>& a, Clock&) const {
    const T delta = static_cast<T>(this->delta);
    const T* g = a.g;
    for_each_step(a, [=](index_t i) { return std::min(std::max(g[i], -delta), delta); });
}

// n = norm(g, p); Δ = g min(omega / n, 1)
template <class T>
void ClipNorm::apply(const UpdateArgs<T>& a, Clock&) const {
    const double norm = pnorm(a.n, a.g, p);
    if (throw_ != 0 && !std::isfinite(norm)) {
        std::ostringstream text;
        text << "ClipNorm: the gradient has " << p << "-norm " << norm << ", for an array of " << a.n
             << " elements (use throw=False to allow)";
        throw std::domain_error(text.str());
    }
    scale(a, static_cast<T>(std::min(omega / norm, 1.0)));
}

// Δ = g + lambd p
template <class T>
void WeightDecay::apply(const UpdateArgs<T>& a, Clock&) const {
    const T lambda = static_cast<T>(lambd);
    const T *g = a.g, *p = a.p;
    for_each_step(a, [=](index_t i) { return g[i] + lambda * p[i]; });
}

// Δ = g + lambd sign(p)
template <class T>
void SignDecay::apply(const UpdateArgs<T>& a, Clock&) const {
    const T lambda = static_cast<T>(lambd);
    const T *g = a.g, *p = a.p;
    for_each_step(a, [=](index_t i) { return g[i] + lambda * sign(p[i]); });
}

template <class T>
double pnorm(index_t n, const T* x, double p) {
    if (n == 0) return 0.0;
    if (std::isinf(p)) {
        double best = std::abs(static_cast<double>(x[0]));
        for (index_t i = 1; i < n; ++i) {
            const double xi = std::abs(static_cast<double>(x[i]));
            if (std::isnan(xi)) return xi;
            best = p > 0 ? std::max(best, xi) : std::min(best, xi);
        }
        return best;
    }
    double sum = 0.0;
    if (p == 0) {
        for (index_t i = 0; i < n; ++i) sum += x[i] != T(0) ? 1.0 : 0.0;
        return sum;
    }
    if (p == 1) {
        for (index_t i = 0; i < n; ++i) sum += std::abs(static_cast<double>(x[i]));
        return sum;
    }
    if (p == 2) {
        for (index_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
        return std::sqrt(sum);
    }
    for (index_t i = 0; i < n; ++i) sum += std::pow(std::abs(static_cast<double>(x[i])), p);
    return std::pow(sum, 1.0 / p);
}

#define PYFLUX_INSTANTIATE(Rule)                                                      \
    template void Rule::apply<float>(const UpdateArgs<float>&, Clock&) const; \
    template void Rule::apply<double>(const UpdateArgs<double>&, Clock&) const;
PYFLUX_OPTIMISERS(PYFLUX_INSTANTIATE)
#undef PYFLUX_INSTANTIATE
template double pnorm<float>(index_t, const float*, double);
template double pnorm<double>(index_t, const double*, double);

}  // namespace pyflux::kernels
