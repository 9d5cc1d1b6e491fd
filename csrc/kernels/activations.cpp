#include "kernels/activations.hpp"

#include <cmath>

namespace pyflux::kernels {
namespace {

// One rule per activation: forward(x, p), and backward(g, s, p) = g * act'(x) where s is the saved
// output y, or the input x when from_input. The piecewise rules select g or 0 rather than
// multiplying, so a zero derivative stays zero for an infinite g (as NNlib's Bool factors do).

template <class T>
T sigmoid(T x) {
    // Split by sign so exp never overflows.
    const T t = std::exp(-std::abs(x));
    return x >= T(0) ? T(1) / (T(1) + t) : t / (T(1) + t);
}

template <class T>
T softplus(T x) {
    return x < T(0) ? std::log1p(std::exp(x)) : x + std::log1p(std::exp(-x));
}

struct Identity {
    static constexpr bool from_input = false;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return x; }
    template <class T> static T backward(T g, T, T) { return g; }
};

struct Relu {
    static constexpr bool from_input = false;
    static constexpr double default_param = 0;
    // x < 0 ? 0 : x keeps NaN; relu'(0) = 0 because y = 0 there.
    template <class T> static T forward(T x, T) { return x < T(0) ? T(0) : x; }
    template <class T> static T backward(T g, T y, T) { return y > T(0) ? g : T(0); }
};

struct Sigmoid {
    static constexpr bool from_input = false;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return sigmoid(x); }
    template <class T> static T backward(T g, T y, T) { return g * y * (T(1) - y); }
};

struct Tanh {
    static constexpr bool from_input = false;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return std::tanh(x); }
    template <class T> static T backward(T g, T y, T) { return g * (T(1) - y * y); }
};

struct HardSigmoid {
    static constexpr bool from_input = false;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) {
        const T v = (x + T(3)) / T(6);
        return v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
    }
    template <class T> static T backward(T g, T y, T) { return y > T(0) && y < T(1) ? g / T(6) : T(0); }
};

struct HardTanh {
    static constexpr bool from_input = false;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return x < T(-1) ? T(-1) : (x > T(1) ? T(1) : x); }
    template <class T> static T backward(T g, T y, T) { return y > T(-1) && y < T(1) ? g : T(0); }
};

struct LeakyRelu {
    static constexpr bool from_input = false;
    static constexpr double default_param = 0.01;
    // leakyrelu'(0) = a: y = 0 there.
    template <class T> static T forward(T x, T a) { return x > T(0) ? x : a * x; }
    template <class T> static T backward(T g, T y, T a) { return y > T(0) ? g : g * a; }
};

struct Relu6 {
    static constexpr bool from_input = false;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return x < T(0) ? T(0) : (x > T(6) ? T(6) : x); }
    template <class T> static T backward(T g, T y, T) { return y > T(0) && y < T(6) ? g : T(0); }
};

struct Elu {
    static constexpr bool from_input = false;
    static constexpr double default_param = 1;
    // expm1 keeps the relative accuracy of α(e^x - 1) for small |x|; for x < 0, α e^x = y + α.
    template <class T> static T forward(T x, T alpha) { return x >= T(0) ? x : alpha * std::expm1(x); }
    template <class T> static T backward(T g, T y, T alpha) { return y > T(0) ? g : g * (y + alpha); }
};

struct Selu {
    static constexpr bool from_input = false;
    static constexpr double default_param = 0;
    static constexpr double lambda = 1.0507009873554805;
    static constexpr double alpha = 1.6732632423543772;
    template <class T> static T forward(T x, T) {
        return x > T(0) ? T(lambda) * x : T(lambda) * T(alpha) * std::expm1(x);
    }
    template <class T> static T backward(T g, T y, T) {
        return y > T(0) ? g * T(lambda) : g * (y + T(lambda) * T(alpha));
    }
};

struct Celu {
    static constexpr bool from_input = false;
    static constexpr double default_param = 1;
    // For x < 0 the derivative e^{x/α} = y/α + 1.
    template <class T> static T forward(T x, T alpha) { return x >= T(0) ? x : alpha * std::expm1(x / alpha); }
    template <class T> static T backward(T g, T y, T alpha) { return y > T(0) ? g : g * (y / alpha + T(1)); }
};

struct SoftShrink {
    static constexpr bool from_input = false;
    static constexpr double default_param = 0.5;
    // The slope is 1 wherever the output is nonzero, 0 on [-λ, λ] (its ends included).
    template <class T> static T forward(T x, T lambda) {
        return x >= lambda ? x - lambda : (x <= -lambda ? x + lambda : T(0));
    }
    template <class T> static T backward(T g, T y, T) { return y != T(0) ? g : T(0); }
};

struct Gelu {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    // 0.5 x (1 + tanh(u)) with u = √(2/π)(x + 0.044715 x³), evaluated as x σ(2u): the same function
    // without the cancellation in 1 + tanh(u) for negative x.
    static constexpr double k = 0.7978845608028654;  // √(2/π)
    static constexpr double c = 0.044715;
    template <class T> static T forward(T x, T) { return x * sigmoid(T(2 * k) * (x + T(c) * x * x * x)); }
    template <class T> static T backward(T g, T x, T) {
        const T s = sigmoid(T(2 * k) * (x + T(c) * x * x * x));
        const T ds = s * (T(1) - s);
        // Saturated (ds = 0), skip the second term: for huge |x| its du is infinite and 0 * inf NaN.
        if (ds == T(0)) return g * s;
        const T du = T(k) * (T(1) + T(3 * c) * x * x);
        return g * (s + T(2) * x * ds * du);
    }
};

struct GeluErf {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    // 0.5 x (1 + erf(x/√2)) = x Φ(x), with Φ through erfc to keep its tail accurate.
    static constexpr double inv_sqrt2 = 0.7071067811865476;
    static constexpr double inv_sqrt2pi = 0.3989422804014327;
    template <class T> static T forward(T x, T) { return x * T(0.5) * std::erfc(-x * T(inv_sqrt2)); }
    template <class T> static T backward(T g, T x, T) {
        return g * (T(0.5) * std::erfc(-x * T(inv_sqrt2)) + x * T(inv_sqrt2pi) * std::exp(T(-0.5) * x * x));
    }
};

struct Swish {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return x * sigmoid(x); }
    template <class T> static T backward(T g, T x, T) {
        const T s = sigmoid(x);
        return g * s * (T(1) + x * (T(1) - s));
    }
};

struct HardSwish {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return x * HardSigmoid::forward(x, T(0)); }
    // NNlib's convention at the kinks: the middle formula holds on the closed interval [-3, 3].
    template <class T> static T backward(T g, T x, T) {
        return x < T(-3) ? T(0) : (x > T(3) ? g : g * (x / T(3) + T(0.5)));
    }
};

struct Softplus {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return softplus(x); }
    template <class T> static T backward(T g, T x, T) { return g * sigmoid(x); }
};

struct SoftSign {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return x / (T(1) + std::abs(x)); }
    template <class T> static T backward(T g, T x, T) {
        const T d = T(1) + std::abs(x);
        return g / (d * d);
    }
};

struct LogSigmoid {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return -softplus(-x); }
    template <class T> static T backward(T g, T x, T) { return g * sigmoid(-x); }
};

struct LogCosh {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    static constexpr double log2 = 0.6931471805599453;
    template <class T> static T forward(T x, T) { return x + softplus(T(-2) * x) - T(log2); }
    template <class T> static T backward(T g, T x, T) { return g * std::tanh(x); }
};

struct Mish {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return x * std::tanh(softplus(x)); }
    template <class T> static T backward(T g, T x, T) {
        const T t = std::tanh(softplus(x));
        return g * (t + x * (T(1) - t * t) * sigmoid(x));
    }
};

struct TanhShrink {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return x - std::tanh(x); }
    template <class T> static T backward(T g, T x, T) {
        const T t = std::tanh(x);
        return g * t * t;
    }
};

struct Lisht {
    static constexpr bool from_input = true;
    static constexpr double default_param = 0;
    template <class T> static T forward(T x, T) { return x * std::tanh(x); }
    template <class T> static T backward(T g, T x, T) {
        const T t = std::tanh(x);
        return g * (t + x * (T(1) - t * t));
    }
};

// Calls f(Rule{}) for act's rule: one switch per call, so the loops inline the scalar rule.
template <class F>
decltype(auto) visit(Activation act, F&& f) {
    switch (act) {
        case Activation::identity: return f(Identity{});
        case Activation::relu: return f(Relu{});
        case Activation::sigmoid: return f(Sigmoid{});
        case Activation::tanh: return f(Tanh{});
        case Activation::hardsigmoid: return f(HardSigmoid{});
        case Activation::hardtanh: return f(HardTanh{});
        case Activation::leakyrelu: return f(LeakyRelu{});
        case Activation::relu6: return f(Relu6{});
        case Activation::elu: return f(Elu{});
        case Activation::gelu: return f(Gelu{});
        case Activation::gelu_erf: return f(GeluErf{});
        case Activation::swish: return f(Swish{});
        case Activation::hardswish: return f(HardSwish{});
        case Activation::selu: return f(Selu{});
        case Activation::celu: return f(Celu{});
        case Activation::softplus: return f(Softplus{});
        case Activation::softsign: return f(SoftSign{});
        case Activation::logsigmoid: return f(LogSigmoid{});
        case Activation::logcosh: return f(LogCosh{});
        case Activation::mish: return f(Mish{});
        case Activation::tanhshrink: return f(TanhShrink{});
        case Activation::softshrink: return f(SoftShrink{});
        case Activation::lisht: return f(Lisht{});
    }
    return f(Identity{});
}

}  // namespace

bool needs_input(Activation act) {
    return visit(act, [](auto rule) { return decltype(rule)::from_input; });
}

double default_param(Activation act) {
    return visit(act, [](auto rule) { return decltype(rule)::default_param; });
}

template <class T>
void activation_forward(Activation act, double param, index_t n, const T* x, T* y) {
    if (act == Activation::identity && x == y) return;
    const T p = static_cast<T>(param);
    visit(act, [&](auto rule) {
        using Rule = decltype(rule);
        parallel_for(n, kGrain, [&](index_t begin, index_t end) {
            for (index_t i = begin; i < end; ++i) y[i] = Rule::forward(x[i], p);
        });
    });
}

template <class T>
void activation_backward(Activation act, double param, index_t n, const T* g, const T* saved, T* grad) {
    if (act == Activation::identity && g == grad) return;
    const T p = static_cast<T>(param);
    visit(act, [&](auto rule) {
        using Rule = decltype(rule);
        parallel_for(n, kGrain, [&](index_t begin, index_t end) {
            for (index_t i = begin; i < end; ++i) grad[i] = Rule::backward(g[i], saved[i], p);
        });
    });
}

template <class T>
void bias_activation_forward(Activation act, double param, index_t rows, index_t cols, const T* b, T* z, T* y) {
    if (act == Activation::identity && !b && z == y) return;
    const T p = static_cast<T>(param);
    const index_t grain = std::max<index_t>(1, kGrain / std::max<index_t>(cols, 1));
    visit(act, [&](auto rule) {
        using Rule = decltype(rule);
        parallel_for(rows, grain, [&](index_t begin, index_t end) {
            for (index_t r = begin; r < end; ++r) {
                const T bias = b ? b[r] : T(0);
                T* zr = z + r * cols;
                T* yr = y + r * cols;
                if (zr == yr) {
                    for (index_t j = 0; j < cols; ++j) yr[j] = Rule::forward(zr[j] + bias, p);
                } else {
                    for (index_t j = 0; j < cols; ++j) {
                        const T v = zr[j] + bias;
                        zr[j] = v;
                        yr[j] = Rule::forward(v, p);
                    }
                }
            }
        });
    });
}

template void activation_forward<float>(Activation, double, index_t, const float*, float*);
template void activation_forward<double>(Activation, double, index_t, const double*, double*);
template void activation_backward<float>(Activation, double, index_t, const float*, const float*, float*);
template void activation_backward<double>(Activation, double, index_t, const double*, const double*, double*);
template void bias_activation_forward<float>(Activation, double, index_t, index_t, const float*, float*, float*);
template void bias_activation_forward<double>(Activation, double, index_t, index_t, const double*, double*, double*);

}  // namespace pyflux::kernels
