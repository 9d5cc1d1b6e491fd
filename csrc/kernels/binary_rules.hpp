// The broadcasting binary ops of the op table, one functor each, named as the op: f(a, b) beside
// da and db, the gradient g times the partial derivative with respect to a and b (o is the output).
#pragma once

#include <cmath>

namespace pyflux::kernels::binary_rules {

struct add {
    template <class T> static T f(T a, T b) { return a + b; }
    template <class T> static T da(T g, T, T, T) { return g; }
    template <class T> static T db(T g, T, T, T) { return g; }
};

struct sub {
    template <class T> static T f(T a, T b) { return a - b; }
    template <class T> static T da(T g, T, T, T) { return g; }
    template <class T> static T db(T g, T, T, T) { return -g; }
};

struct mul {
    template <class T> static T f(T a, T b) { return a * b; }
    template <class T> static T da(T g, T, T b, T) { return g * b; }
    template <class T> static T db(T g, T a, T, T) { return g * a; }
};

struct div {
    template <class T> static T f(T a, T b) { return a / b; }
    template <class T> static T da(T g, T, T b, T) { return g / b; }
    template <class T> static T db(T g, T, T b, T o) { return -g * o / b; }
};

// An exponent of 2 squares. At a = 0 the limits are finite where the products would give 0 * inf.
struct pow {
    template <class T> static T f(T a, T b) { return b == T(2) ? a * a : std::pow(a, b); }
    template <class T> static T da(T g, T a, T b, T) {
        if (b == T(2)) return g * T(2) * a;
        return b == T(0) ? T(0) : g * b * std::pow(a, b - T(1));
    }
    template <class T> static T db(T g, T a, T, T o) { return o == T(0) ? T(0) : g * o * std::log(a); }
};

// The chosen operand takes the gradient; a tie splits it; NaN propagates (and takes it).
template <bool Larger>
struct extremum {
    template <class T> static T f(T a, T b) { return a != a || (Larger ? a > b : a < b) ? a : b; }
    template <class T> static T da(T g, T a, T b, T) { return share(g, a, b); }
    template <class T> static T db(T g, T a, T b, T) { return share(g, b, a); }

private:
    template <class T> static T share(T g, T mine, T other) {
        if (mine == other) return g / T(2);
        return (Larger ? mine > other : mine < other) || mine != mine ? g : T(0);
    }
};
using maximum = extremum<true>;
using minimum = extremum<false>;

// a log b, exactly 0 where a == 0 (whatever b is), with no gradient to b there either.
struct xlogy {
    template <class T> static T f(T a, T b) { return a == T(0) ? T(0) : a * std::log(b); }
    template <class T> static T da(T g, T, T b, T) { return g * std::log(b); }
    template <class T> static T db(T g, T a, T b, T) { return a == T(0) ? T(0) : g * a / b; }
};

}  // namespace pyflux::kernels::binary_rules
