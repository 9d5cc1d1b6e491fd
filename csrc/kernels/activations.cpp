#include "kernels/activations.hpp"

#include <cmath>

namespace pyflux::kernels {

template <class T>
void activation_forward(Activation act, index_t n, const T* x, T* y) {
    parallel_for(n, kGrain, [&](index_t begin, index_t end) {
        switch (act) {
            case Activation::identity:
                if (y != x) for (index_t i = begin; i < end; ++i) y[i] = x[i];
                break;
            case Activation::relu:
                // relu'(0) = 0 follows from y > 0 in backward.
                for (index_t i = begin; i < end; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
                break;
            case Activation::sigmoid:
                for (index_t i = begin; i < end; ++i) y[i] = sigmoid_scalar(x[i]);
                break;
            case Activation::tanh:
                for (index_t i = begin; i < end; ++i) y[i] = std::tanh(x[i]);
                break;
        }
    });
}

template <class T>
void activation_backward(Activation act, index_t n, const T* g, const T* y, T* grad) {
    parallel_for(n, kGrain, [&](index_t begin, index_t end) {
        switch (act) {
            case Activation::identity:
                if (grad != g) for (index_t i = begin; i < end; ++i) grad[i] = g[i];
                break;
            case Activation::relu:
                for (index_t i = begin; i < end; ++i) grad[i] = y[i] > T(0) ? g[i] : T(0);
                break;
            case Activation::sigmoid:
                for (index_t i = begin; i < end; ++i) grad[i] = g[i] * y[i] * (T(1) - y[i]);
                break;
            case Activation::tanh:
                for (index_t i = begin; i < end; ++i) grad[i] = g[i] * (T(1) - y[i] * y[i]);
                break;
        }
    });
}

template void activation_forward<float>(Activation, index_t, const float*, float*);
template void activation_forward<double>(Activation, index_t, const double*, double*);
template void activation_backward<float>(Activation, index_t, const float*, const float*, float*);
template void activation_backward<double>(Activation, index_t, const double*, const double*, double*);

}  // namespace pyflux::kernels
