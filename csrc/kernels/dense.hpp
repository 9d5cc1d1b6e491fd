// The fused Dense layer: y = act(W x + b) as one GEMM and one pass over the output, and its
// backward from the saved output.
#pragma once

#include "kernels/activations.hpp"
#include "kernels/common.hpp"

namespace pyflux::kernels {

/// Where the input x, logically [in x N], sits in memory: row-major with row stride ld
/// (transposed = false), or as the row-major transpose [N x in] with row stride ld (transposed =
/// true; this is a batch-first array viewed as features x batch, taken without a copy).
template <class T>
struct DenseInput {
    const T* data;
    index_t ld;
    bool transposed;
};

/// y[out x N] = act(W[out x in] . x[in x N] + b[out]); b may be null. y is contiguous.
template <class T>
void dense_forward(Activation act, index_t out, index_t in, index_t N, const T* W, DenseInput<T> x,
                   const T* b, T* y);

/// From dy and the saved y:  dz = dy * act'(y),  db = sum over N of dz,  dW = dz . x^T,
/// dx = W^T . dz. dz_scratch holds out*N elements (unused for identity). Null outputs are skipped.
template <class T>
void dense_backward(Activation act, index_t out, index_t in, index_t N, const T* dy, const T* y,
                    const T* W, DenseInput<T> x, T* dz_scratch, T* dW, T* db, T* dx);

}  // namespace pyflux::kernels
