#include "kernels/dense.hpp"

#include "kernels/blas.hpp"

namespace pyflux::kernels {

namespace {

// One sample through a layer whose products gemm would give to its small loop: plain loops here,
// whose sums run in the same order as that loop's, without the generic product's dispatch (which
// costs more than such a product) and without the threads' set-up for the bias gradient.
bool single_small(index_t out, index_t in, index_t N) { return N == 1 && small_gemm_size(out, 1, in); }

// The stride between a single sample's features.
template <class T>
index_t feature_stride(DenseInput<T> x) {
    return x.transposed ? 1 : x.ld;
}

}  // namespace

template <class T>
void dense_forward(UnaryOp act, double param, index_t out, index_t in, index_t N, const T* W,
                   DenseInput<T> x, const T* b, T* z, T* y) {
    T* pre = z ? z : y;
    if (single_small(out, in, N)) {
        const index_t sx = feature_stride(x);
        for (index_t o = 0; o < out; ++o) {
            T acc = 0;
            for (index_t k = 0; k < in; ++k) acc += W[o * in + k] * x.data[k * sx];
            pre[o] = acc;
        }
    } else {
        // [out x in] . [in x N] -> [out x N]
        gemm<T>(false, x.transposed, out, N, in, T(1), W, in, x.data, x.ld, T(0), pre, N);
    }
    bias_activation_forward(act, param, out, N, b, pre, y);
}

template <class T>
void dense_backward(UnaryOp act, double param, index_t out, index_t in, index_t N, const T* dy,
                    const T* saved, const T* W, DenseInput<T> x, T* dz_scratch, T* dW, T* db, T* dx) {
    const T* dz = dy;
    if (act != UnaryOp::identity) {
        unary_backward(act, param, out * N, dy, saved, dz_scratch);
        dz = dz_scratch;
    }
    if (single_small(out, in, N)) {
        const index_t sx = feature_stride(x);
        for (index_t o = 0; o < out; ++o) {
            if (db) db[o] = T(0) + dz[o];
            if (dW)
                for (index_t k = 0; k < in; ++k) dW[o * in + k] = dz[o] * x.data[k * sx];
        }
        if (dx)
            for (index_t k = 0; k < in; ++k) {
                T acc = 0;
                for (index_t o = 0; o < out; ++o) acc += W[o * in + k] * dz[o];
                dx[k] = acc;
            }
        return;
    }
    if (db) {
        const index_t grain = std::max<index_t>(1, kGrain / std::max<index_t>(N, 1));
        parallel_for(out, grain, [&](index_t begin, index_t end) {
            for (index_t o = begin; o < end; ++o) {
                T acc = 0;
                for (index_t j = 0; j < N; ++j) acc += dz[o * N + j];
                db[o] = acc;
            }
        });
    }
    // dW: [out x N] . x^T [N x in] -> [out x in]
    if (dW) gemm<T>(false, !x.transposed, out, in, N, T(1), dz, N, x.data, x.ld, T(0), dW, in);
    // dx: W^T [in x out] . [out x N] -> [in x N]
    if (dx) gemm<T>(true, false, in, N, out, T(1), W, in, dz, N, T(0), dx, N);
}

template void dense_forward<float>(UnaryOp, double, index_t, index_t, index_t, const float*, DenseInput<float>,
                                   const float*, float*, float*);
template void dense_forward<double>(UnaryOp, double, index_t, index_t, index_t, const double*, DenseInput<double>,
                                    const double*, double*, double*);
template void dense_backward<float>(UnaryOp, double, index_t, index_t, index_t, const float*, const float*,
                                    const float*, DenseInput<float>, float*, float*, float*, float*);
template void dense_backward<double>(UnaryOp, double, index_t, index_t, index_t, const double*, const double*,
                                     const double*, DenseInput<double>, double*, double*, double*, double*);

}  // namespace pyflux::kernels
