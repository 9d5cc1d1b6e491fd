// The math functions of the op table, one functor each: forward(x, p) beside backward(g, s, p) =
// g * f'(x), where s is what the table says the rule saves (the input x or the output y; ignored
// when it saves nothing).
#pragma once

#include <cmath>

namespace pyflux::kernels::rules {

/// The base of every rule: no parameter to check.
struct Rule {
    static const char* invalid_param(double) { return nullptr; }
};

struct Neg : Rule {
    template <class T> static T forward(T x, T) { return -x; }
    template <class T> static T backward(T g, T, T) { return -g; }
};

struct Exp : Rule {
    template <class T> static T forward(T x, T) { return std::exp(x); }
    template <class T> static T backward(T g, T y, T) { return g * y; }
};

struct Log : Rule {
    template <class T> static T forward(T x, T) { return std::log(x); }
    template <class T> static T backward(T g, T x, T) { return g / x; }
};

struct Abs : Rule {
    template <class T> static T forward(T x, T) { return std::abs(x); }
    template <class T> static T backward(T g, T x, T) { return x > T(0) ? g : x < T(0) ? -g : T(0); }
};

struct Sqrt : Rule {
    template <class T> static T forward(T x, T) { return std::sqrt(x); }
    template <class T> static T backward(T g, T y, T) { return g / (T(2) * y); }
};

struct Square : Rule {
    template <class T> static T forward(T x, T) { return x * x; }
    template <class T> static T backward(T g, T x, T) { return T(2) * x * g; }
};

struct Sin : Rule {
    template <class T> static T forward(T x, T) { return std::sin(x); }
    template <class T> static T backward(T g, T x, T) { return g * std::cos(x); }
};

struct Cos : Rule {
    template <class T> static T forward(T x, T) { return std::cos(x); }
    template <class T> static T backward(T g, T x, T) { return -g * std::sin(x); }
};

struct Tan : Rule {
    template <class T> static T forward(T x, T) { return std::tan(x); }
    template <class T> static T backward(T g, T y, T) { return g * (T(1) + y * y); }
};

struct Exp2 : Rule {
    template <class T> static T forward(T x, T) { return std::exp2(x); }
    template <class T> static T backward(T g, T y, T) { return g * y * T(0.6931471805599453); }
};

struct Log2 : Rule {
    template <class T> static T forward(T x, T) { return std::log2(x); }
    template <class T> static T backward(T g, T x, T) { return g / (x * T(0.6931471805599453)); }
};

struct Log1p : Rule {
    template <class T> static T forward(T x, T) { return std::log1p(x); }
    template <class T> static T backward(T g, T x, T) { return g / (T(1) + x); }
};

struct Expm1 : Rule {
    template <class T> static T forward(T x, T) { return std::expm1(x); }
    template <class T> static T backward(T g, T y, T) { return g * (y + T(1)); }
};

// x log x, continued by its limit 0 at x = 0, where the derivative (log x + 1) is taken as 0, as
// Flux's xlogx differentiates.
struct XLogX : Rule {
    template <class T> static T forward(T x, T) { return x == T(0) ? T(0) : x * std::log(x); }
    template <class T> static T backward(T g, T x, T) { return x == T(0) ? T(0) : g * (std::log(x) + T(1)); }
};

// Piecewise constant: the derivative is 0 wherever it exists, and taken as 0 at the jump.
struct Sign : Rule {
    template <class T> static T forward(T x, T) { return x > T(0) ? T(1) : x < T(0) ? T(-1) : x; }
    template <class T> static T backward(T, T, T) { return T(0); }
};

}  // namespace pyflux::kernels::rules
