// Reductions along the middle axis of [outer x n x inner] (sum, mean, max, min, prod), each beside
// its backward.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// x is contiguous and viewed as [outer x n x inner]; out[o, i] = scale * sum_k x[o, k, i].
/// scale is 1 for sum and 1/n for mean. A whole-array reduction is outer = inner = 1.
template <class T>
void reduce_sum(index_t outer, index_t n, index_t inner, const T* x, T scale, T* out);

/// One block of reduce_sum: row[i] = scale * sum_k block[k * inner + i], a single line (inner 1)
/// summed in double, side-by-side lines in T.
template <class T>
inline void sum_block(index_t n, index_t inner, const T* block, T scale, T* row) {
    if (inner == 1) {
        double acc = 0;
        for (index_t k = 0; k < n; ++k) acc += block[k];
        row[0] = static_cast<T>(acc * static_cast<double>(scale));
        return;
    }
    for (index_t i = 0; i < inner; ++i) row[i] = T(0);
    for (index_t k = 0; k < n; ++k)
        for (index_t i = 0; i < inner; ++i) row[i] += block[k * inner + i];
    for (index_t i = 0; i < inner; ++i) row[i] *= scale;
}

/// gx[o, k, i] = scale * g[o, i]: the backward of reduce_sum.
template <class T>
void reduce_sum_backward(index_t outer, index_t n, index_t inner, const T* g, T scale, T* gx);

/// out[o, i] = max (largest) or min of x[o, :, i], NaN if any element is; n >= 1.
template <class T>
void reduce_extreme(bool largest, index_t outer, index_t n, index_t inner, const T* x, T* out);

/// gx = g where x equals its line's result (NaN at NaN), shared equally among ties, 0 elsewhere.
template <class T>
void reduce_extreme_backward(index_t outer, index_t n, index_t inner, const T* g, const T* x, const T* out, T* gx);

/// out[o, i] = prod_k x[o, k, i] (1 for an empty line).
template <class T>
void reduce_prod(index_t outer, index_t n, index_t inner, const T* x, T* out);

/// gx[o, k, i] = g[o, i] * the product of the line's other elements: exact with zeros in the line,
/// never out / x.
template <class T>
void reduce_prod_backward(index_t outer, index_t n, index_t inner, const T* g, const T* x, T* gx);

}  // namespace pyflux::kernels
