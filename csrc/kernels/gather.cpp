#include "kernels/gather.hpp"

#include <algorithm>

namespace pyflux::kernels {
namespace {

// Calls f(o, i_begin, i_end) over blocks of [outer x inner]: each block owns its output rows, so a
// scatter into it needs no synchronisation.
template <class F>
void for_each_block(index_t outer, index_t m, index_t inner, F&& f) {
    const index_t work = std::max<index_t>(m, 1);
    if (outer == 0) return;
    if (outer > 1) {
        const index_t grain = std::max<index_t>(1, kGrain / std::max<index_t>(work * inner, 1));
        parallel_for(outer, grain, [&](index_t begin, index_t end) {
            for (index_t o = begin; o < end; ++o) f(o, index_t{0}, inner);
        });
    } else {
        const index_t grain = std::max<index_t>(1, kGrain / work);
        parallel_for(inner, grain, [&](index_t begin, index_t end) { f(index_t{0}, begin, end); });
    }
}

}  // namespace

template <class T>
void gather(index_t outer, index_t n, index_t inner, const T* x, index_t m, const index_t* index, T* out) {
    for_each_block(outer, m, inner, [&](index_t o, index_t i0, index_t i1) {
        for (index_t j = 0; j < m; ++j) {
            const T* src = x + (o * n + index[j]) * inner;
            T* dst = out + (o * m + j) * inner;
            for (index_t i = i0; i < i1; ++i) dst[i] = src[i];
        }
    });
}

template <class T>
void scatter_add(index_t outer, index_t n, index_t inner, const T* g, index_t m, const index_t* index, T* gx) {
    for_each_block(outer, m, inner, [&](index_t o, index_t i0, index_t i1) {
        for (index_t k = 0; k < n; ++k)
            for (index_t i = i0; i < i1; ++i) gx[(o * n + k) * inner + i] = T(0);
        for (index_t j = 0; j < m; ++j) {
            const T* src = g + (o * m + j) * inner;
            T* dst = gx + (o * n + index[j]) * inner;
            for (index_t i = i0; i < i1; ++i) dst[i] += src[i];
        }
    });
}

#define PYFLUX_INSTANTIATE(T)                                                                     \
    template void gather<T>(index_t, index_t, index_t, const T*, index_t, const index_t*, T*);   \
    template void scatter_add<T>(index_t, index_t, index_t, const T*, index_t, const index_t*, T*);
PYFLUX_INSTANTIATE(float)
PYFLUX_INSTANTIATE(double)
#undef PYFLUX_INSTANTIATE

}  // namespace pyflux::kernels
