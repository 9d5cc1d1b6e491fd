// The math functions of the op table, one functor each: forward(x, p) beside backward(g, s, p) =
// g * f'(x), where s is what the table says the rule saves (the input x or the output y; ignored
// when it saves nothing).
#pragma once

#include <cmath>

namespace pyflux::kernels::rules {

// Work per element in units of an add, which decides from what size an op splits across threads
// (kGrain / cost elements per thread): a call to exp, log, tanh, a trig function or erf costs tens
// of adds, so such ops gain from threads on arrays a sixteenth the size.
constexpr int kMathCost = 16;

/// The base of every rule: no parameter to check; forward and backward cost about an add.
struct Rule {
    static const char* invalid_param(double) { return nullptr; }
    static constexpr int forward_cost = 1, backward_cost = 1;
};

/// A rule whose forward calls a math function.
struct MathForward : Rule {
    static constexpr int forward_cost = kMathCost;
};

/// A rule whose forward and backward both call one.
struct MathBoth : MathForward {
    static constexpr int backward_cost = kMathCost;
};

struct Neg : Rule {
    template <class T> static T forward(T x, T) { return -x; }
    template <class T> static T backward(T g, T, T) { return -g; }
};

struct Exp : MathForward {
    template <class T> static T forward(T x, T) { return std::exp(x); }
    template <class T> static T backward(T g, T y, T) { return g * y; }
};

struct Log : MathForward {
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

struct Sin : MathBoth {
    template <class T> static T forward(T x, T) { return std::sin(x); }
    template <class T> static T backward(T g, T x, T) { return g * std::cos(x); }
};

struct Cos : MathBoth {
    template <class T> static T forward(T x, T) { return std::cos(x); }
    template <class T> static T backward(T g, T x, T) { return -g * std::sin(x); }
};

struct Tan : MathForward {
    template <class T> static T forward(T x, T) { return std::tan(x); }
    template <class T> static T backward(T g, T y, T) { return g * (T(1) + y * y); }
};

struct Exp2 : MathForward {
    template <class T> static T forward(T x, T) { return std::exp2(x); }
    template <class T> static T backward(T g, T y, T) { return g * y * T(0.6931471805599453); }
};

struct Log2 : MathForward {
    template <class T> static T forward(T x, T) { return std::log2(x); }
    template <class T> static T backward(T g, T x, T) { return g / (x * T(0.6931471805599453)); }
};

struct Log1p : MathForward {
    template <class T> static T forward(T x, T) { return std::log1p(x); }
    template <class T> static T backward(T g, T x, T) { return g / (T(1) + x); }
};

struct Expm1 : MathForward {
    template <class T> static T forward(T x, T) { return std::expm1(x); }
    template <class T> static T backward(T g, T y, T) { return g * (y + T(1)); }
};

// x log x, continued by its limit 0 at x = 0, where the derivative (log x + 1) is taken as 0, as
// Flux's xlogx differentiates.
struct XLogX : MathBoth {
    template <class T> static T forward(T x, T) { return x == T(0) ? T(0) : x * std::log(x); }
    template <class T> static T backward(T g, T x, T) { return x == T(0) ? T(0) : g * (std::log(x) + T(1)); }
};

// Piecewise constant: the derivative is 0 wherever it exists, and taken as 0 at the jump.
struct Sign : Rule {
    template <class T> static T forward(T x, T) { return x > T(0) ? T(1) : x < T(0) ? T(-1) : x; }
    template <class T> static T backward(T, T, T) { return T(0); }
};

}  // namespace pyflux::kernels::rules
