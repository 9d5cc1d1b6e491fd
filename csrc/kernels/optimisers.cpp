#include "kernels/optimisers.hpp"

#include <cmath>

namespace pyflux::kernels {

template <class T>
void descent_update(index_t n, T eta, const T* g, T* p) {
    parallel_for(n, kGrain, [&](index_t begin, index_t end) {
        for (index_t i = begin; i < end; ++i) p[i] -= eta * g[i];
    });
}

template <class T>
void rmsprop_update(index_t n, T eta, T rho, T eps, const T* g, T* s, T* a, T* p) {
    parallel_for(n, kGrain, [&](index_t begin, index_t end) {
        for (index_t i = begin; i < end; ++i) {
            s[i] = rho * s[i] + (T(1) - rho) * g[i] * g[i];
            T var = s[i];
            if (a) {
                a[i] = rho * a[i] + (T(1) - rho) * g[i];
                var -= a[i] * a[i];
            }
            p[i] -= eta * g[i] / (std::sqrt(var) + eps);
        }
    });
}

template <class T>
void adam_update(index_t n, T eta, T b1, T b2, T eps, T b1t, T b2t, const T* g, T* m, T* v, T* p) {
    const T c1 = T(1) / (T(1) - b1t), c2 = T(1) / (T(1) - b2t);
    parallel_for(n, kGrain, [&](index_t begin, index_t end) {
        for (index_t i = begin; i < end; ++i) {
            m[i] = b1 * m[i] + (T(1) - b1) * g[i];
            v[i] = b2 * v[i] + (T(1) - b2) * g[i] * g[i];
            p[i] -= eta * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
        }
    });
}

#define PYFLUX_INSTANTIATE(T)                                                                    \
    template void descent_update<T>(index_t, T, const T*, T*);                                 \
    template void rmsprop_update<T>(index_t, T, T, T, const T*, T*, T*, T*);                   \
    template void adam_update<T>(index_t, T, T, T, T, T, T, const T*, T*, T*, T*);
PYFLUX_INSTANTIATE(float)
PYFLUX_INSTANTIATE(double)
#undef PYFLUX_INSTANTIATE

}  // namespace pyflux::kernels
