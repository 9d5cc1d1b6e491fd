#include "kernels/dense.hpp"

#include "kernels/blas.hpp"

namespace pyflux::kernels {

namespace {

// A layer whose products gemm gives to its small loop (out x in x N small; all three products have
// that size) calls the loop directly, and sums the bias gradient on this thread: for such sizes the
// generic product's dispatch and the threads' set-up cost more than the work.
bool small_layer(index_t out, index_t in, index_t N) { return small_gemm_size(out, N, in); }

// C = op(A) op(B), through gemm or, when direct, straight through its small loop.
template <class T>
void product(bool direct, bool ta, bool tb, index_t M, index_t N, index_t K, const T* A, index_t lda, const T* B,
             index_t ldb, T* C, index_t ldc) {
    if (direct) return small_gemm<T>(ta, tb)(M, N, K, T(1), A, lda, B, ldb, T(0), C, ldc);
    gemm<T>(ta, tb, M, N, K, T(1), A, lda, B, ldb, T(0), C, ldc);
}

}  // namespace

template <class T>
void dense_forward(UnaryOp act, double param, index_t out, index_t in, index_t N, const T* W,
                   DenseInput<T> x, const T* b, T* z, T* y) {
    T* pre = z ? z : y;
    // [out x in] . [in x N] -> [out x N]
    product(small_layer(out, in, N), false, x.transposed, out, N, in, W, in, x.data, x.ld, pre, N);
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
    const bool direct = small_layer(out, in, N);
    if (db) {
        auto sums = [&](index_t begin, index_t end) {
            for (index_t o = begin; o < end; ++o) {
                T acc = 0;
                for (index_t j = 0; j < N; ++j) acc += dz[o * N + j];
                db[o] = acc;
            }
        };
        if (direct)
            sums(0, out);
        else
            parallel_for(out, std::max<index_t>(1, kGrain / std::max<index_t>(N, 1)), sums);
    }
    // dW: [out x N] . x^T [N x in] -> [out x in]
    if (dW) product(direct, false, !x.transposed, out, in, N, dz, N, x.data, x.ld, dW, in);
    // dx: W^T [in x out] . [out x N] -> [in x N]
    if (dx) product(direct, true, false, in, N, out, W, in, dz, N, dx, N);
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
