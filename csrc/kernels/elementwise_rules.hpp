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

}  // namespace pyflux::kernels::rules
