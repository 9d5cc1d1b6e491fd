#include "kernels/optimisers.hpp"

#include <cmath>
#include <limits>

namespace pyflux::kernels {
namespace {

// Runs step(i), which updates the state at i and returns Δ_i, over every element in parallel:
// p -= Δ, or d = Δ when d is set (step reads g[i] before d[i] is written, so d may be g).
template <class T, class Step>
void for_each_step(const UpdateArgs<T>& a, Step step) {
    T* const p = a.p;
    T* const d = a.d;
    parallel_for(a.n, kGrain, [&](index_t begin, index_t end) {
        if (d) {
            for (index_t i = begin; i < end; ++i) d[i] = step(i);
        } else {
            for (index_t i = begin; i < end; ++i) p[i] -= step(i);
        }
    });
}

template <class T>
T sign(T x) {
    return static_cast<T>((x > T(0)) - (x < T(0)));
}

}  // namespace

// Δ = eta g
template <class T>
void descent_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0];
    const T* g = a.g;
    for_each_step(a, [=](index_t i) { return eta * g[i]; });
}

// v = rho v + eta g; Δ = v
template <class T>
void momentum_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], rho = a.h[1];
    const T* g = a.g;
    T* v = a.s[0];
    for_each_step(a, [=](index_t i) { return v[i] = rho * v[i] + eta * g[i]; });
}

// Δ = -rho² v + (1 + rho) eta g; v = rho v - eta g
template <class T>
void nesterov_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], rho = a.h[1];
    const T* g = a.g;
    T* v = a.s[0];
    for_each_step(a, [=](index_t i) {
        const T gi = g[i], vi = v[i];
        v[i] = rho * vi - eta * gi;
        return -rho * rho * vi + (T(1) + rho) * eta * gi;
    });
}

// s = rho s + (1 - rho) g²; a = rho a + (1 - rho) g (centred); Δ = eta g / (sqrt(s - a²) + eps)
template <class T>
void rmsprop_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], rho = a.h[1], eps = a.h[2];
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

// The moments every Adam-family rule keeps: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g².
template <class T>
inline void moments(T gi, T b1, T b2, T& m, T& v) {
    m = b1 * m + (T(1) - b1) * gi;
    v = b2 * v + (T(1) - b2) * gi * gi;
}

// m, v as above; Δ = eta (m / (1 - b1t)) / (sqrt(v / (1 - b2t)) + eps)
template <class T>
void adam_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], b1 = a.h[1], b2 = a.h[2], eps = a.h[3];
    const T c1 = T(1) / (T(1) - a.h[4]), c2 = T(1) / (T(1) - a.h[5]);
    const T* g = a.g;
    T *m = a.s[0], *v = a.s[1];
    for_each_step(a, [=](index_t i) {
        moments(g[i], b1, b2, m[i], v[i]);
        return eta * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
    });
}

// u = (m / (1 - b1t)) / (sqrt(v / (1 - b2t)) + eps); Δ = eta (u + lambda p) or eta u + lambda p
template <class T>
void adamw_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], b1 = a.h[1], b2 = a.h[2], eps = a.h[3];
    const T c1 = T(1) / (T(1) - a.h[4]), c2 = T(1) / (T(1) - a.h[5]);
    const T decay = a.h[7] != T(0) ? eta * a.h[6] : a.h[6];
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
void radam_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], b1 = a.h[1], b2 = a.h[2], eps = a.h[3], r = a.h[6];
    const T c1 = T(1) / (T(1) - a.h[4]), c2 = T(1) / (T(1) - a.h[5]);
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
void adamax_update(const UpdateArgs<T>& a) {
    const T b1 = a.h[1], b2 = a.h[2], eps = a.h[3];
    const T step = a.h[0] / (T(1) - a.h[4]);
    const T* g = a.g;
    T *m = a.s[0], *u = a.s[1];
    for_each_step(a, [=](index_t i) {
        const T gi = g[i];
        m[i] = b1 * m[i] + (T(1) - b1) * gi;
        u[i] = std::max(b2 * u[i], std::abs(gi));
        return step * m[i] / (u[i] + eps);
    });
}

// acc = acc + g²; Δ = eta g / (sqrt(acc) + eps)
template <class T>
void adagrad_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], eps = a.h[1];
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
void adadelta_update(const UpdateArgs<T>& a) {
    const T rho = a.h[0], eps = a.h[1];
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

// m, v as Adam; vmax = max(vmax, v); Δ = eta m / (sqrt(vmax) + eps)
template <class T>
void amsgrad_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], b1 = a.h[1], b2 = a.h[2], eps = a.h[3];
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
void nadam_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], b1 = a.h[1], b2 = a.h[2], eps = a.h[3], b1t = a.h[4], b2t = a.h[5];
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
void oadam_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], b1 = a.h[1], b2 = a.h[2], eps = a.h[3];
    const T c1 = T(1) / (T(1) - a.h[4]), c2 = T(1) / (T(1) - a.h[5]);
    const T* g = a.g;
    T *m = a.s[0], *v = a.s[1], *term = a.s[2];
    for_each_step(a, [=](index_t i) {
        moments(g[i], b1, b2, m[i], v[i]);
        const T previous = term[i];
        term[i] = eta * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
        return T(2) * term[i] - previous;
    });
}

// m = b2 g + (1 - b2) m; Δ = eta sign((b2 - b1) g + b1 m)
template <class T>
void lion_update(const UpdateArgs<T>& a) {
    const T eta = a.h[0], b1 = a.h[1], b2 = a.h[2];
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
void clipgrad_update(const UpdateArgs<T>& a) {
    const T delta = a.h[0];
    const T* g = a.g;
    for_each_step(a, [=](index_t i) { return std::min(std::max(g[i], -delta), delta); });
}

// Δ = c g
template <class T>
void scale_update(const UpdateArgs<T>& a) {
    const T c = a.h[0];
    const T* g = a.g;
    for_each_step(a, [=](index_t i) { return c * g[i]; });
}

// Δ = g + lambda p
template <class T>
void weightdecay_update(const UpdateArgs<T>& a) {
    const T lambda = a.h[0];
    const T *g = a.g, *p = a.p;
    for_each_step(a, [=](index_t i) { return g[i] + lambda * p[i]; });
}

// Δ = g + lambda sign(p)
template <class T>
void signdecay_update(const UpdateArgs<T>& a) {
    const T lambda = a.h[0];
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

#define PYFLUX_RULES(X)                                                                          \
    X(descent) X(momentum) X(nesterov) X(rmsprop) X(adam) X(adamw) X(radam) X(adamax) X(adagrad)  \
    X(adadelta) X(amsgrad) X(nadam) X(oadam) X(lion) X(clipgrad) X(scale) X(weightdecay) X(signdecay)
#define PYFLUX_INSTANTIATE_RULE(rule)                                  \
    template void rule##_update<float>(const UpdateArgs<float>&);      \
    template void rule##_update<double>(const UpdateArgs<double>&);
PYFLUX_RULES(PYFLUX_INSTANTIATE_RULE)
template double pnorm<float>(index_t, const float*, double);
template double pnorm<double>(index_t, const double*, double);
#undef PYFLUX_INSTANTIATE_RULE
#undef PYFLUX_RULES

}  // namespace pyflux::kernels
