#include "kernels/gemv_split.hpp"

namespace pyflux::kernels {
namespace {

// Below this many matrix elements the product fits in cache and a fork-join costs more than it saves.
constexpr index_t kSplitElements = 1 << 16;

template <class T>
T scaled(T alpha, T acc, T beta, T old) {
    return beta == T(0) ? alpha * acc : alpha * acc + beta * old;  // beta 0 ignores y, as BLAS does
}

// y[r] for r in [begin, end): dot products of A's rows with x, four rows at a time so the loads of
// x are shared and four sums are in flight.
template <class T>
void rows_dot(index_t begin, index_t end, index_t cols, T alpha, const T* A, index_t lda, const T* x, T beta,
              T* y) {
    index_t r = begin;
    for (; r + 4 <= end; r += 4) {
        const T *a0 = A + r * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
        for (index_t k = 0; k < cols; ++k) {
            const T xk = x[k];
            s0 += a0[k] * xk;
            s1 += a1[k] * xk;
            s2 += a2[k] * xk;
            s3 += a3[k] * xk;
        }
        y[r] = scaled(alpha, s0, beta, y[r]);
        y[r + 1] = scaled(alpha, s1, beta, y[r + 1]);
        y[r + 2] = scaled(alpha, s2, beta, y[r + 2]);
        y[r + 3] = scaled(alpha, s3, beta, y[r + 3]);
    }
    for (; r < end; ++r) {
        const T* a = A + r * lda;
        T s = 0;
#pragma omp simd reduction(+ : s)
        for (index_t k = 0; k < cols; ++k) s += a[k] * x[k];
        y[r] = scaled(alpha, s, beta, y[r]);
    }
}

// y[c] for c in [begin, end) of A^T x, A stored [rows x lda]: y's slice gathers x[k] A[k, slice]
// down the stored rows.
template <class T>
void columns_axpy(index_t begin, index_t end, index_t rows, T alpha, const T* A, index_t lda, const T* x, T beta,
                  T* y) {
    for (index_t c = begin; c < end; ++c) y[c] = beta == T(0) ? T(0) : beta * y[c];
    for (index_t k = 0; k < rows; ++k) {
        const T xk = alpha * x[k];
        const T* a = A + k * lda;
#pragma omp simd
        for (index_t c = begin; c < end; ++c) y[c] += xk * a[c];
    }
}

}  // namespace

template <class T>
bool gemv_split(bool trans, index_t rows, index_t cols, T alpha, const T* A, index_t lda, const T* x, T beta,
                T* y) {
    if (rows < 8 || rows * cols < kSplitElements || omp_get_max_threads() < 2 || omp_in_parallel() ||
        forked_child.load(std::memory_order_relaxed) || contended())
        return false;
    // Whole rows of y per thread, in multiples of 8 so that slices stay aligned with vectors.
    const index_t blocks = (rows + 7) / 8;
    parallel_for(blocks, 1, [&](index_t b0, index_t b1) {
        const index_t begin = b0 * 8, end = std::min(rows, b1 * 8);
        if (trans)
            columns_axpy(begin, end, cols, alpha, A, lda, x, beta, y);
        else
            rows_dot(begin, end, cols, alpha, A, lda, x, beta, y);
    });
    return true;
}

template bool gemv_split<float>(bool, index_t, index_t, float, const float*, index_t, const float*, float, float*);
template bool gemv_split<double>(bool, index_t, index_t, double, const double*, index_t, const double*, double,
                                 double*);

}  // namespace pyflux::kernels
