// The only door to BLAS: row-major GEMM for float and double, and the thread settings that BLAS
// and OpenMP share.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C, all row-major.
/// op(A) = A (lda >= K) or, with trans_a, A^T of a stored [K x M] matrix (lda >= M); likewise B.
/// Tiny products run a plain loop: for them the BLAS call itself costs more than the arithmetic.
template <class T>
void gemm(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha, const T* A,
          index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc);

/// gemm's plain loop for tiny products with the transposes fixed once: no size checks, one thread,
/// for a caller that runs the same small product often. small_gemm_size says which products gemm
/// itself gives to it.
template <class T>
using GemmLoop = void (*)(index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B, index_t ldb,
                          T beta, T* C, index_t ldc);
template <class T>
GemmLoop<T> small_gemm(bool trans_a, bool trans_b);
bool small_gemm_size(index_t M, index_t N, index_t K);
/// Sets the threads used by both OpenMP kernels and BLAS.
void set_num_threads(int n);
int get_num_threads();

/// Makes OpenBLAS run its parallel jobs on OpenMP's threads, so the two thread pools do not spin
/// against each other when GEMM and OpenMP kernels alternate. Called once at import.
void install_blas_threading();

/// "scipy-openblas32 <config>" or "system".
const char* blas_info();

}  // namespace pyflux::kernels
