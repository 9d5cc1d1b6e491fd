#include "kernels/reduce.hpp"

#include <vector>

#include "kernels/lines.hpp"

namespace pyflux::kernels {

template <class T>
void reduce_sum(index_t outer, index_t n, index_t inner, const T* x, T scale, T* out) {
    if (outer * inner == 1 && n < 2 * kGrain) {
        // One result over few elements, with no set-up (the loop below gives the same value, but
        // costs more than the sum for a per-sample loss).
        sum_block(n, 1, x, scale, out);
        return;
    }
    if (outer * inner == 1) {
        // One result over enough elements for threads: per-thread partial sums in double, added in
        // thread order.
        const int slots = omp_get_max_threads();
        std::vector<double> partial(static_cast<size_t>(slots), 0.0);
        parallel_for(n, kGrain, [&](index_t begin, index_t end) {
            double acc = 0;
            for (index_t k = begin; k < end; ++k) acc += x[k];
            partial[static_cast<size_t>(omp_get_thread_num())] = acc;
        });
        double total = 0;
        for (double p : partial) total += p;
        out[0] = static_cast<T>(total * static_cast<double>(scale));
        return;
    }
    const index_t grain = std::max<index_t>(1, kGrain / std::max<index_t>(n * inner, 1));
    parallel_for(outer, grain, [&](index_t begin, index_t end) {
        for (index_t o = begin; o < end; ++o) sum_block(n, inner, x + o * n * inner, scale, out + o * inner);
    });
}

template <class T>
void reduce_sum_backward(index_t outer, index_t n, index_t inner, const T* g, T scale, T* gx) {
    if (outer * inner == 1) {  // one result: every element gets the same share
        const T each = scale * g[0];
        for (index_t k = 0; k < n; ++k) gx[k] = each;
        return;
    }
    const index_t grain = std::max<index_t>(1, kGrain / std::max<index_t>(n * inner, 1));
    parallel_for(outer, grain, [&](index_t begin, index_t end) {
        for (index_t o = begin; o < end; ++o)
            for (index_t k = 0; k < n; ++k)
                for (index_t i = 0; i < inner; ++i) gx[(o * n + k) * inner + i] = scale * g[o * inner + i];
    });
}

template <class T>
void reduce_extreme(bool largest, index_t outer, index_t n, index_t inner, const T* x, T* out) {
    for_each_line(outer, n, inner, [&](index_t l, index_t base, index_t s) {
        const T* xl = x + base;
        T m = xl[0];
        for (index_t k = 1; k < n && m == m; ++k) {
            const T v = xl[k * s];
            if (v != v || (largest ? v > m : v < m)) m = v;
        }
        out[l] = m;
    });
}

template <class T>
void reduce_extreme_backward(index_t outer, index_t n, index_t inner, const T* g, const T* x, const T* out, T* gx) {
    for_each_line(outer, n, inner, [&](index_t l, index_t base, index_t s) {
        const T* xl = x + base;
        const T m = out[l];
        const auto hit = [m](T v) { return v == m || (m != m && v != v); };
        index_t ties = 0;
        for (index_t k = 0; k < n; ++k) ties += hit(xl[k * s]);
        const T share = g[l] / static_cast<T>(ties);
        for (index_t k = 0; k < n; ++k) gx[base + k * s] = hit(xl[k * s]) ? share : T(0);
    });
}

template <class T>
void reduce_prod(index_t outer, index_t n, index_t inner, const T* x, T* out) {
    for_each_line(outer, n, inner, [&](index_t l, index_t base, index_t s) {
        T p = 1;
        for (index_t k = 0; k < n; ++k) p *= x[base + k * s];
        out[l] = p;
    });
}

// The product of the others as (product before k) * (product after k): exact where a zero in the
// line makes out / x undefined.
template <class T>
void reduce_prod_backward(index_t outer, index_t n, index_t inner, const T* g, const T* x, T* gx) {
    for_each_line(outer, n, inner, [&](index_t l, index_t base, index_t s) {
        T prefix = 1;
        for (index_t k = 0; k < n; ++k) {
            gx[base + k * s] = prefix;
            prefix *= x[base + k * s];
        }
        T suffix = g[l];
        for (index_t k = n - 1; k >= 0; --k) {
            gx[base + k * s] *= suffix;
            suffix *= x[base + k * s];
        }
    });
}

#define PYFLUX_INSTANTIATE(T)                                                                             \
    template void reduce_extreme<T>(bool, index_t, index_t, index_t, const T*, T*);                       \
    template void reduce_extreme_backward<T>(index_t, index_t, index_t, const T*, const T*, const T*, T*); \
    template void reduce_prod<T>(index_t, index_t, index_t, const T*, T*);                                \
    template void reduce_prod_backward<T>(index_t, index_t, index_t, const T*, const T*, T*);
PYFLUX_INSTANTIATE(float)
PYFLUX_INSTANTIATE(double)
#undef PYFLUX_INSTANTIATE

template void reduce_sum<float>(index_t, index_t, index_t, const float*, float, float*);
template void reduce_sum<double>(index_t, index_t, index_t, const double*, double, double*);
template void reduce_sum_backward<float>(index_t, index_t, index_t, const float*, float, float*);
template void reduce_sum_backward<double>(index_t, index_t, index_t, const double*, double, double*);

}  // namespace pyflux::kernels
