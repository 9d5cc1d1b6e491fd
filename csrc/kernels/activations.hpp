// The activation rules (NNlib's formulas and kink conventions), one functor each with its forward
// beside its backward; the op table (autodiff/ops.def) names them and says what each saves.
//
// Backward works from what the forward saved: the output y where act' can be written in y, which
// lets Dense activate its output in place; the input x otherwise (the table's `input`).
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

#include <cmath>

#include "kernels/elementwise_rules.hpp"
#include "kernels/vector_exp.hpp"

namespace pyflux::kernels::rules {

// One rule per activation: forward(x, p), and backward(g, s, p) = g * act'(x) where s is the saved
// output y, or the input x when from_input. The piecewise rules select g or 0 rather than
// multiplying, so a zero derivative stays zero for an infinite g (as NNlib's Bool factors do).

template <class T>
T sigmoid(T x) {
    // Split by sign so exp never overflows.
    const T t = std::exp(-std::abs(x));
    return x >= T(0) ? T(1) / (T(1) + t) : t / (T(1) + t);
}

// float32 takes the vectorisable exp: sigmoid layers are a large part of a float32 network's step.
inline float sigmoid(float x) {
    const float t = exp_vectorisable(-std::abs(x));
    return (x >= 0.0f ? 1.0f : t) / (1.0f + t);  // one division, so the select is a blend
}

template <class T>
T softplus(T x) {
    return x < T(0) ? std::log1p(std::exp(x)) : x + std::log1p(std::exp(-x));
}

struct Identity : Rule {
    template <class T> static T forward(T x, T) { return x; }
    template <class T> static T backward(T g, T, T) { return g; }
};

struct Relu : Rule {
    // x < 0 ? 0 : x keeps NaN; relu'(0) = 0 because y = 0 there.
    template <class T> static T forward(T x, T) { return x < T(0) ? T(0) : x; }
    template <class T> static T backward(T g, T y, T) { return y > T(0) ? g : T(0); }
};

struct Sigmoid : MathForward {
    template <class T> static T forward(T x, T) { return sigmoid(x); }
    template <class T> static T backward(T g, T y, T) { return g * y * (T(1) - y); }
};

struct Tanh : MathForward {
    template <class T> static T forward(T x, T) { return std::tanh(x); }
    template <class T> static T backward(T g, T y, T) { return g * (T(1) - y * y); }
};

struct HardSigmoid : Rule {
    template <class T> static T forward(T x, T) {
        const T v = (x + T(3)) / T(6);
        return v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
    }
    template <class T> static T backward(T g, T y, T) { return y > T(0) && y < T(1) ? g / T(6) : T(0); }
};

struct HardTanh : Rule {
    template <class T> static T forward(T x, T) { return x < T(-1) ? T(-1) : (x > T(1) ? T(1) : x); }
    template <class T> static T backward(T g, T y, T) { return y > T(-1) && y < T(1) ? g : T(0); }
};

struct LeakyRelu : Rule {
    static const char* invalid_param(double a) { return a >= 0 ? nullptr : "the slope a must be >= 0"; }
    // leakyrelu'(0) = a: y = 0 there.
    template <class T> static T forward(T x, T a) { return x > T(0) ? x : a * x; }
    template <class T> static T backward(T g, T y, T a) { return y > T(0) ? g : g * a; }
};

struct Relu6 : Rule {
    template <class T> static T forward(T x, T) { return x < T(0) ? T(0) : (x > T(6) ? T(6) : x); }
    template <class T> static T backward(T g, T y, T) { return y > T(0) && y < T(6) ? g : T(0); }
};

struct Elu : MathForward {
    static const char* invalid_param(double alpha) { return alpha >= 0 ? nullptr : "α must be >= 0"; }
    // expm1 keeps the relative accuracy of α(e^x - 1) for small |x|; for x < 0, α e^x = y + α.
    template <class T> static T forward(T x, T alpha) { return x >= T(0) ? x : alpha * std::expm1(x); }
    template <class T> static T backward(T g, T y, T alpha) { return y > T(0) ? g : g * (y + alpha); }
};

struct Selu : MathForward {
    static constexpr double lambda = 1.0507009873554805;
    static constexpr double alpha = 1.6732632423543772;
    template <class T> static T forward(T x, T) {
        return x > T(0) ? T(lambda) * x : T(lambda) * T(alpha) * std::expm1(x);
    }
    template <class T> static T backward(T g, T y, T) {
        return y > T(0) ? g * T(lambda) : g * (y + T(lambda) * T(alpha));
    }
};

struct Celu : MathForward {
    static const char* invalid_param(double alpha) { return alpha > 0 ? nullptr : "α must be > 0"; }
    // For x < 0 the derivative e^{x/α} = y/α + 1.
    template <class T> static T forward(T x, T alpha) { return x >= T(0) ? x : alpha * std::expm1(x / alpha); }
    template <class T> static T backward(T g, T y, T alpha) { return y > T(0) ? g : g * (y / alpha + T(1)); }
};

struct SoftShrink : Rule {
    static const char* invalid_param(double lambda) { return lambda >= 0 ? nullptr : "λ must be >= 0"; }
    // The slope is 1 wherever the output is nonzero, 0 on [-λ, λ] (its ends included); NaN, which
    // fails every comparison, passes through.
    template <class T> static T forward(T x, T lambda) {
        return x >= lambda ? x - lambda : (x <= -lambda ? x + lambda : (x == x ? T(0) : x));
    }
    template <class T> static T backward(T g, T y, T) { return y != T(0) ? g : T(0); }
};

struct Gelu : MathBoth {
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

struct GeluErf : MathBoth {
    // x/2 (1 + erf(x/√2)) = x Φ(x), in NNlib's order of operations so that the values agree to
    // the last digit.
    static constexpr double sqrt2 = 1.4142135623730951;
    static constexpr double inv_sqrt2pi = 0.3989422804014327;
    template <class T> static T forward(T x, T) { return x / T(2) * (T(1) + std::erf(x / T(sqrt2))); }
    template <class T> static T backward(T g, T x, T) {
        return g * ((T(1) + std::erf(x / T(sqrt2))) / T(2) + x * T(inv_sqrt2pi) * std::exp(T(-0.5) * x * x));
    }
};

struct Swish : MathBoth {
    template <class T> static T forward(T x, T) { return x * sigmoid(x); }
    template <class T> static T backward(T g, T x, T) {
        const T s = sigmoid(x);
        return g * s * (T(1) + x * (T(1) - s));
    }
};

struct HardSwish : Rule {
    template <class T> static T forward(T x, T) { return x * HardSigmoid::forward(x, T(0)); }
    // NNlib's convention at the kinks: the middle formula holds on the closed interval [-3, 3].
    template <class T> static T backward(T g, T x, T) {
        return x < T(-3) ? T(0) : (x > T(3) ? g : g * (x / T(3) + T(0.5)));
    }
};

struct Softplus : MathBoth {
    template <class T> static T forward(T x, T) { return softplus(x); }
    template <class T> static T backward(T g, T x, T) { return g * sigmoid(x); }
};

struct SoftSign : Rule {
    template <class T> static T forward(T x, T) { return x / (T(1) + std::abs(x)); }
    template <class T> static T backward(T g, T x, T) {
        const T d = T(1) + std::abs(x);
        return g / (d * d);
    }
};

struct LogSigmoid : MathBoth {
    template <class T> static T forward(T x, T) { return -softplus(-x); }
    template <class T> static T backward(T g, T x, T) { return g * sigmoid(-x); }
};

struct LogCosh : MathBoth {
    static constexpr double log2 = 0.6931471805599453;
    template <class T> static T forward(T x, T) { return x + softplus(T(-2) * x) - T(log2); }
    template <class T> static T backward(T g, T x, T) { return g * std::tanh(x); }
};

struct Mish : MathBoth {
    template <class T> static T forward(T x, T) { return x * std::tanh(softplus(x)); }
    template <class T> static T backward(T g, T x, T) {
        const T t = std::tanh(softplus(x));
        return g * (t + x * (T(1) - t * t) * sigmoid(x));
    }
};

struct TanhShrink : MathBoth {
    template <class T> static T forward(T x, T) { return x - std::tanh(x); }
    template <class T> static T backward(T g, T x, T) {
        const T t = std::tanh(x);
        return g * t * t;
    }
};

struct Lisht : MathBoth {
    template <class T> static T forward(T x, T) { return x * std::tanh(x); }
    template <class T> static T backward(T g, T x, T) {
        const T t = std::tanh(x);
        return g * (t + x * (T(1) - t * t));
    }
};

}  // namespace pyflux::kernels::rules
