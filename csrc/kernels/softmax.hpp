// softmax, logsoftmax and logsumexp along one axis, each forward beside its backward from the output.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// x and y contiguous, viewed as [outer x n x inner]; the axis of length n is normalised.
/// y = exp(x - max) / sum(exp(x - max)); y may not alias x. Where a line's max is +Inf, its +Inf
/// entries share the weight equally and the others get 0 (NNlib's rule).
template <class T>
void softmax_forward(index_t outer, index_t n, index_t inner, const T* x, T* y);

/// dx = y * (g - sum(g * y)) along the axis, from the saved output y.
template <class T>
void softmax_backward(index_t outer, index_t n, index_t inner, const T* g, const T* y, T* dx);

/// y = (x - max) - log(sum(exp(x - max))); with a +Inf max, 0 at the +Inf entries and -Inf elsewhere.
template <class T>
void logsoftmax_forward(index_t outer, index_t n, index_t inner, const T* x, T* y);

/// dx = g - exp(y) * sum(g) along the axis, from the saved output y.
template <class T>
void logsoftmax_backward(index_t outer, index_t n, index_t inner, const T* g, const T* y, T* dx);

/// out[o, i] = log(sum_k exp(x[o, k, i])), computed as max + log(sum(exp(x - max))); a line whose max is
/// +Inf or -Inf (all -Inf, or empty) gives that max.
template <class T>
void logsumexp_forward(index_t outer, index_t n, index_t inner, const T* x, T* out);

/// dx = g * exp(x - out) (the softmax of the line); a +Inf line shares g among its +Inf entries, a
/// -Inf line gets 0.
template <class T>
void logsumexp_backward(index_t outer, index_t n, index_t inner, const T* g, const T* x, const T* out, T* dx);

}  // namespace pyflux::kernels
