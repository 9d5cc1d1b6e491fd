#include "kernels/blas.hpp"

#include "kernels/gemv_split.hpp"

#include <cblas.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <type_traits>

#define PYFLUX_CAT2(a, b) a##b
#define PYFLUX_CAT(a, b) PYFLUX_CAT2(a, b)
#define PYFLUX_BLAS(name) PYFLUX_CAT(PYFLUX_BLAS_PREFIX, name)

namespace pyflux::kernels {
namespace {

// Products with fewer multiply-adds than this run the plain loop below.
constexpr index_t kSmallGemm = 4096;

// Not vectorised: for the few multiply-adds per output of the products that come here, the vector
// loop's set-up and remainder cost more than the arithmetic. An outer product (K = 1, as in the
// weight gradient of one sample) skips the per-output loop.
template <class T, bool TA, bool TB>
__attribute__((optimize("no-tree-vectorize"))) void gemm_small(index_t M, index_t N, index_t K, T alpha, const T* A,
                                                               index_t lda, const T* B, index_t ldb, T beta, T* C,
                                                               index_t ldc) {
    auto put = [alpha, beta](T& c, T acc) { c = (beta == T(0)) ? alpha * acc : alpha * acc + beta * c; };
    if (K == 1) {
        for (index_t i = 0; i < M; ++i) {
            const T a = TA ? A[i] : A[i * lda];
            T* c = C + i * ldc;
            for (index_t j = 0; j < N; ++j) put(c[j], a * (TB ? B[j * ldb] : B[j]));
        }
        return;
    }
    for (index_t i = 0; i < M; ++i) {
        for (index_t j = 0; j < N; ++j) {
            T acc = 0;
            for (index_t k = 0; k < K; ++k) {
                const T a = TA ? A[k * lda + i] : A[i * lda + k];
                const T b = TB ? B[j * ldb + k] : B[k * ldb + j];
                acc += a * b;
            }
            put(C[i * ldc + j], acc);
        }
    }
}

}  // namespace

template <class T>
GemmLoop<T> small_gemm(bool ta, bool tb) {
    if (ta) return tb ? &gemm_small<T, true, true> : &gemm_small<T, true, false>;
    return tb ? &gemm_small<T, false, true> : &gemm_small<T, false, false>;
}

bool small_gemm_size(index_t M, index_t N, index_t K) { return M * N * K <= kSmallGemm; }

namespace {

inline CBLAS_TRANSPOSE op(bool t) { return t ? CblasTrans : CblasNoTrans; }

// OpenBLAS's threaded jobs wait for one another, so they cannot run one after the other: in a
// forked child (no OpenMP pool, see forked_child) BLAS becomes single-threaded before its first call,
// and while other processes compete for the cores (contention.hpp) it runs on one thread too.
#ifdef PYFLUX_OPENBLAS_CALLBACK
std::atomic<int> blas_threads{0};  // what OpenBLAS was last told; 0: its start-up setting
#endif

void choose_blas_threads() {
#ifdef PYFLUX_OPENBLAS_CALLBACK
    const bool one = forked_child.load(std::memory_order_relaxed) || contended();
    const int want = one ? 1 : omp_get_max_threads();
    if (blas_threads.load(std::memory_order_relaxed) != want && blas_threads.exchange(want) != want)
        PYFLUX_BLAS(openblas_set_num_threads)(want);
#endif
}

}  // namespace

// y = alpha * op(A) x + beta * y with op(A) [rows x cols] stored row-major (lda) or transposed.
template <class T>
void gemv(bool trans, index_t rows, index_t cols, T alpha, const T* A, index_t lda, const T* x, index_t incx, T beta,
          T* y, index_t incy) {
    if (incx == 1 && incy == 1 && gemv_split(trans, rows, cols, alpha, A, lda, x, beta, y)) return;
    const auto stored_rows = static_cast<blasint>(trans ? cols : rows);
    const auto stored_cols = static_cast<blasint>(trans ? rows : cols);
    const auto la = static_cast<blasint>(lda), ix = static_cast<blasint>(incx), iy = static_cast<blasint>(incy);
    choose_blas_threads();
    if constexpr (std::is_same_v<T, float>)
        PYFLUX_BLAS(cblas_sgemv)(CblasRowMajor, op(trans), stored_rows, stored_cols, alpha, A, la, x, ix, beta, y, iy);
    else
        PYFLUX_BLAS(cblas_dgemv)(CblasRowMajor, op(trans), stored_rows, stored_cols, alpha, A, la, x, ix, beta, y, iy);
}

template <class T>
void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
          index_t ldb, T beta, T* C, index_t ldc) {
    if (M == 0 || N == 0) return;
    if (small_gemm_size(M, N, K)) return small_gemm<T>(ta, tb)(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    // A single column or row is a matrix-vector product, which gemv does several times faster.
    if (N == 1) return gemv(ta, M, K, alpha, A, lda, B, tb ? 1 : ldb, beta, C, ldc);
    if (M == 1) return gemv(!tb, N, K, alpha, B, ldb, A, ta ? lda : 1, beta, C, 1);
    const auto m = static_cast<blasint>(M), n = static_cast<blasint>(N), k = static_cast<blasint>(K);
    const auto la = static_cast<blasint>(lda), lb = static_cast<blasint>(ldb), lc = static_cast<blasint>(ldc);
    choose_blas_threads();
    if constexpr (std::is_same_v<T, float>)
        PYFLUX_BLAS(cblas_sgemm)(CblasRowMajor, op(ta), op(tb), m, n, k, alpha, A, la, B, lb, beta, C, lc);
    else
        PYFLUX_BLAS(cblas_dgemm)(CblasRowMajor, op(ta), op(tb), m, n, k, alpha, A, la, B, lb, beta, C, lc);
}

template void gemm<float>(bool, bool, index_t, index_t, index_t, float, const float*, index_t, const float*, index_t,
                          float, float*, index_t);
template GemmLoop<float> small_gemm<float>(bool, bool);
template GemmLoop<double> small_gemm<double>(bool, bool);
template void gemm<double>(bool, bool, index_t, index_t, index_t, double, const double*, index_t, const double*,
                           index_t, double, double*, index_t);

void set_num_threads(int n) {
    if (n < 1) n = 1;
    omp_set_num_threads(n);
#ifdef PYFLUX_OPENBLAS_CALLBACK
    const int blas = forked_child.load(std::memory_order_relaxed) ? 1 : n;
    blas_threads.store(blas);
    PYFLUX_BLAS(openblas_set_num_threads)(blas);
#endif
}

int get_num_threads() { return omp_get_max_threads(); }

#ifdef PYFLUX_OPENBLAS_CALLBACK
namespace {
// OpenBLAS hands us numjobs jobs laid out jobdata_elsize bytes apart; each job index doubles as the
// thread slot OpenBLAS uses for its buffers, so it must be unique per job.
void run_blas_jobs_on_openmp(int /*sync*/, openblas_dojob_callback dojob, int numjobs,
                             size_t jobdata_elsize, void* jobdata, int dojob_data) {
    char* base = static_cast<char*>(jobdata);
    if (omp_in_parallel() || numjobs == 1) {
        for (int i = 0; i < numjobs; ++i) dojob(i, base + static_cast<size_t>(i) * jobdata_elsize, dojob_data);
        return;
    }
    StartTimes started;
    const SubnormalMode::Bits mode = SubnormalMode::current();
#pragma omp parallel for schedule(static) num_threads(numjobs)
    for (int i = 0; i < numjobs; ++i) {
        const SubnormalMode inherited(mode);
        started.mark(omp_get_thread_num());
        dojob(i, base + static_cast<size_t>(i) * jobdata_elsize, dojob_data);
    }
    started.report(numjobs);
}
}  // namespace
#endif

void install_blas_threading() {
#ifdef PYFLUX_OPENBLAS_CALLBACK
    // PYFLUX_BLAS_OWN_THREADS=1 keeps OpenBLAS's own thread pool (for comparison).
    const char* own = std::getenv("PYFLUX_BLAS_OWN_THREADS");
    if (!own || std::string(own) != "1")
        PYFLUX_BLAS(openblas_set_threads_callback_function)(run_blas_jobs_on_openmp);
    blas_threads.store(omp_get_max_threads());
    PYFLUX_BLAS(openblas_set_num_threads)(omp_get_max_threads());
#endif
}

const char* blas_info() {
#ifdef PYFLUX_OPENBLAS_CALLBACK
    return PYFLUX_BLAS(openblas_get_config)();
#else
    return PYFLUX_BLAS_NAME;
#endif
}

}  // namespace pyflux::kernels
