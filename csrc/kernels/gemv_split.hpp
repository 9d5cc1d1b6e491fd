// Matrix-vector products large enough to share between threads. A single sample through a wide
// layer (784 -> 512: 1.6 MB of float weights) is bound by how fast the weights stream from L3, and
// one core streams at about half the rate two do; OpenBLAS runs such a gemv on one thread. Here each
// thread takes its own rows of the result, so no thread writes what another reads.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// y = alpha op(A) x + beta y with op(A) [rows x cols] (A row-major with leading dimension lda, or
/// its transpose stored [cols x rows]) and unit strides, split across threads. Returns false, doing
/// nothing, when the product is too small to gain from threads or threads are not to be used now
/// (parallel_for's rules), and the caller then runs it on one thread.
template <class T>
bool gemv_split(bool trans, index_t rows, index_t cols, T alpha, const T* A, index_t lda, const T* x, T beta,
                T* y);

}  // namespace pyflux::kernels
