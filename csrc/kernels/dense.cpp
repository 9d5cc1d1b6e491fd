#include "kernels/dense.hpp"

#include <cmath>

#include "kernels/blas.hpp"

namespace pyflux::kernels {
namespace {

// y[o, :] = act(y[o, :] + b[o]) for each output row: the single pass after the GEMM.
template <class T, class F>
void bias_act_rows(index_t out, index_t N, const T* b, T* y, F act) {
    const index_t grain = std::max<index_t>(1, kGrain / std::max<index_t>(N, 1));
    parallel_for(out, grain, [&](index_t begin, index_t end) {
        for (index_t o = begin; o < end; ++o) {
            const T bias = b ? b[o] : T(0);
            T* row = y + o * N;
            for (index_t j = 0; j < N; ++j) row[j] = act(row[j] + bias);
        }
    });
}

}  // namespace

template <class T>
void dense_forward(Activation act, index_t out, index_t in, index_t N, const T* W, DenseInput<T> x,
                   const T* b, T* y) {
    // [out x in] . [in x N] -> [out x N]
    gemm<T>(false, x.transposed, out, N, in, T(1), W, in, x.data, x.ld, T(0), y, N);
    switch (act) {
        case Activation::identity:
            if (b) bias_act_rows(out, N, b, y, [](T v) { return v; });
            break;
        case Activation::relu:
            bias_act_rows(out, N, b, y, [](T v) { return v > T(0) ? v : T(0); });
            break;
        case Activation::sigmoid:
            bias_act_rows(out, N, b, y, [](T v) { return sigmoid_scalar(v); });
            break;
        case Activation::tanh:
            bias_act_rows(out, N, b, y, [](T v) { return std::tanh(v); });
            break;
    }
}

template <class T>
void dense_backward(Activation act, index_t out, index_t in, index_t N, const T* dy, const T* y,
                    const T* W, DenseInput<T> x, T* dz_scratch, T* dW, T* db, T* dx) {
    const T* dz = dy;
    if (act != Activation::identity) {
        activation_backward(act, out * N, dy, y, dz_scratch);
        dz = dz_scratch;
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

template void dense_forward<float>(Activation, index_t, index_t, index_t, const float*, DenseInput<float>, const float*, float*);
template void dense_forward<double>(Activation, index_t, index_t, index_t, const double*, DenseInput<double>, const double*, double*);
template void dense_backward<float>(Activation, index_t, index_t, index_t, const float*, const float*, const float*,
                                    DenseInput<float>, float*, float*, float*, float*);
template void dense_backward<double>(Activation, index_t, index_t, index_t, const double*, const double*, const double*,
                                     DenseInput<double>, double*, double*, double*, double*);

}  // namespace pyflux::kernels
