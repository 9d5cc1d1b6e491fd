// Sum and mean over all elements or one axis, and their backward (broadcast back).
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// x is contiguous and viewed as [outer x n x inner]; out[o, i] = scale * sum_k x[o, k, i].
/// scale is 1 for sum and 1/n for mean. A whole-array reduction is outer = inner = 1.
template <class T>
void reduce_sum(index_t outer, index_t n, index_t inner, const T* x, T scale, T* out);

/// gx[o, k, i] = scale * g[o, i]: the backward of reduce_sum.
template <class T>
void reduce_sum_backward(index_t outer, index_t n, index_t inner, const T* g, T scale, T* gx);

}  // namespace pyflux::kernels
