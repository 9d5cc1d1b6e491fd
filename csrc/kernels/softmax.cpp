#include "kernels/softmax.hpp"

#include <cmath>
#include <limits>

#include "kernels/lines.hpp"

namespace pyflux::kernels {
namespace {

template <class T>
T line_max(const T* x, index_t n, index_t s) {
    T m = -std::numeric_limits<T>::infinity();
    for (index_t k = 0; k < n; ++k) m = x[k * s] > m ? x[k * s] : m;
    return m;
}

}  // namespace

// x - m, with NNlib's rule for a line whose maximum m is +Inf: its +Inf entries become 0 and the
// others -Inf (x - m would be NaN), so that they share all the weight.
template <class T>
T shifted(T x, T m) {
    if (m == std::numeric_limits<T>::infinity()) return x == m ? T(0) : -m;
    return x - m;
}

template <class T>
void softmax_forward(index_t outer, index_t n, index_t inner, const T* x, T* y) {
    for_each_line(outer, n, inner, [&](index_t, index_t base, index_t s) {
        const T* xl = x + base;
        T* yl = y + base;
        const T m = line_max(xl, n, s);
        T total = 0;
        for (index_t k = 0; k < n; ++k) total += (yl[k * s] = std::exp(shifted(xl[k * s], m)));
        const T inv = T(1) / total;
        for (index_t k = 0; k < n; ++k) yl[k * s] *= inv;
    });
}

template <class T>
void softmax_backward(index_t outer, index_t n, index_t inner, const T* g, const T* y, T* dx) {
    for_each_line(outer, n, inner, [&](index_t, index_t base, index_t s) {
        T dot = 0;
        for (index_t k = 0; k < n; ++k) dot += g[base + k * s] * y[base + k * s];
        for (index_t k = 0; k < n; ++k) dx[base + k * s] = y[base + k * s] * (g[base + k * s] - dot);
    });
}

// (x - m) - log Σ exp(x - m): subtracting m first keeps the digits of x - m at large logits.
template <class T>
void logsoftmax_forward(index_t outer, index_t n, index_t inner, const T* x, T* y) {
    for_each_line(outer, n, inner, [&](index_t, index_t base, index_t s) {
        const T* xl = x + base;
        T* yl = y + base;
        const T m = line_max(xl, n, s);
        T total = 0;
        for (index_t k = 0; k < n; ++k) total += std::exp(yl[k * s] = shifted(xl[k * s], m));
        const T log_total = std::log(total);
        for (index_t k = 0; k < n; ++k) yl[k * s] -= log_total;
    });
}

template <class T>
void logsoftmax_backward(index_t outer, index_t n, index_t inner, const T* g, const T* y, T* dx) {
    for_each_line(outer, n, inner, [&](index_t, index_t base, index_t s) {
        T total = 0;
        for (index_t k = 0; k < n; ++k) total += g[base + k * s];
        for (index_t k = 0; k < n; ++k) dx[base + k * s] = g[base + k * s] - std::exp(y[base + k * s]) * total;
    });
}

template <class T>
void logsumexp_forward(index_t outer, index_t n, index_t inner, const T* x, T* out) {
    for_each_line(outer, n, inner, [&](index_t l, index_t base, index_t s) {
        const T* xl = x + base;
        const T m = line_max(xl, n, s);
        if (std::isinf(m)) {
            out[l] = m;
            return;
        }
        T total = 0;
        for (index_t k = 0; k < n; ++k) total += std::exp(xl[k * s] - m);
        out[l] = m + std::log(total);
    });
}

template <class T>
void logsumexp_backward(index_t outer, index_t n, index_t inner, const T* g, const T* x, const T* out, T* dx) {
    for_each_line(outer, n, inner, [&](index_t l, index_t base, index_t s) {
        const T* xl = x + base;
        T* dl = dx + base;
        const T o = out[l];
        if (o == -std::numeric_limits<T>::infinity()) {
            for (index_t k = 0; k < n; ++k) dl[k * s] = T(0);
        } else if (o == std::numeric_limits<T>::infinity()) {
            index_t count = 0;
            for (index_t k = 0; k < n; ++k) count += xl[k * s] == o;
            for (index_t k = 0; k < n; ++k) dl[k * s] = xl[k * s] == o ? g[l] / static_cast<T>(count) : T(0);
        } else {
            for (index_t k = 0; k < n; ++k) dl[k * s] = g[l] * std::exp(xl[k * s] - o);
        }
    });
}

#define PYFLUX_INSTANTIATE(T)                                                                        \
    template void softmax_forward<T>(index_t, index_t, index_t, const T*, T*);                      \
    template void softmax_backward<T>(index_t, index_t, index_t, const T*, const T*, T*);           \
    template void logsoftmax_forward<T>(index_t, index_t, index_t, const T*, T*);                   \
    template void logsoftmax_backward<T>(index_t, index_t, index_t, const T*, const T*, T*);           \
    template void logsumexp_forward<T>(index_t, index_t, index_t, const T*, T*);                    \
    template void logsumexp_backward<T>(index_t, index_t, index_t, const T*, const T*, const T*, T*);
PYFLUX_INSTANTIATE(float)
PYFLUX_INSTANTIATE(double)
#undef PYFLUX_INSTANTIATE

}  // namespace pyflux::kernels
