// The fused Dense layer: y = act(W x + b) as one GEMM and one pass over the output, and its
// backward from what the forward kept (y, or the pre-activation z where act' needs the input).
#pragma once

#include "kernels/elementwise_unary.hpp"
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

/// y[out x N] = act(W[out x in] . x[in x N] + b[out]); b may be null. y is contiguous. When z is
/// non-null it receives the pre-activation W x + b ([out x N]), which backward needs for the
/// activations with saves(act) == Saves::input; otherwise the GEMM writes into y and y is activated in place.
template <class T>
void dense_forward(UnaryOp act, double param, index_t out, index_t in, index_t N, const T* W,
                   DenseInput<T> x, const T* b, T* z, T* y);

/// From dy and saved (z if saves(act) == Saves::input, else y):  dz = dy * act'(z),  db = sum over N of dz,
/// dW = dz . x^T,  dx = W^T . dz. dz_scratch holds out*N elements (unused for identity). Null
/// outputs are skipped.
template <class T>
void dense_backward(UnaryOp act, double param, index_t out, index_t in, index_t N, const T* dy,
                    const T* saved, const T* W, DenseInput<T> x, T* dz_scratch, T* dW, T* db, T* dx);

}  // namespace pyflux::kernels
