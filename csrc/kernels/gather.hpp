// Gather along one axis by a list of indices, and its backward, a scatter-add.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// x contiguous as [outer x n x inner], out as [outer x m x inner]:
/// out[o, j, i] = x[o, index[j], i], every index in [0, n).
template <class T>
void gather(index_t outer, index_t n, index_t inner, const T* x, index_t m, const index_t* index, T* out);

/// gx = 0, then gx[o, index[j], i] += g[o, j, i]: repeated indices accumulate.
template <class T>
void scatter_add(index_t outer, index_t n, index_t inner, const T* g, index_t m, const index_t* index, T* gx);

}  // namespace pyflux::kernels
