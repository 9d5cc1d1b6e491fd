#include "kernels/optimisers.hpp"

namespace pyflux::kernels {

template <class T>
void descent_update(index_t n, T eta, const T* g, T* p) {
    parallel_for(n, kGrain, [&](index_t begin, index_t end) {
        for (index_t i = begin; i < end; ++i) p[i] -= eta * g[i];
    });
}

template void descent_update<float>(index_t, float, const float*, float*);
template void descent_update<double>(index_t, double, const double*, double*);

}  // namespace pyflux::kernels
