// Elementwise arithmetic with numpy broadcasting, each forward beside its backward, and the
// reduction that broadcasting needs in backward ("sum in reverse").
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

enum class BinaryOp {
#define PYFLUX_BINARY(name, doc) name,
#include "autodiff/ops.def"
#undef PYFLUX_BINARY
};

/// out[i] = a[i] op b[i] over `shape`; a and b are strided (stride 0 where broadcast), out is
/// contiguous.
template <class T>
void binary_forward(BinaryOp op, int ndim, const index_t* shape, const T* a, const index_t* a_strides,
                    const T* b, const index_t* b_strides, T* out);

/// grad[i] = g[i] * d(a op b)/d(input `wrt`) at i, where wrt is 0 for a and 1 for b; g, out (the
/// forward result, needed by div and pow only; may be null otherwise) and grad are contiguous with
/// `shape`.
template <class T>
void binary_backward(BinaryOp op, int wrt, int ndim, const index_t* shape, const T* g, const T* a,
                     const index_t* a_strides, const T* b, const index_t* b_strides, const T* out,
                     T* grad);

/// out[i] = cond[i] != 0 ? a[i] : b[i] over `shape` (numpy's where; NaN counts as true); cond, a and
/// b strided (stride 0 where broadcast), out contiguous.
template <class T>
void select_forward(int ndim, const index_t* shape, const T* cond, const index_t* cond_strides, const T* a,
                    const index_t* a_strides, const T* b, const index_t* b_strides, T* out);

/// grad[i] = (cond[i] != 0) == taken ? g[i] : 0: where's backward to a (taken) or b (!taken); g and
/// grad contiguous with `shape`.
template <class T>
void select_backward(bool taken, int ndim, const index_t* shape, const T* g, const T* cond,
                     const index_t* cond_strides, T* grad);

/// For small contiguous operands: out[i] = a[i * sa] op b[i * sb] for i < n, where an operand's step
/// is 1 when it is as long as out (whole) and 0 when it is one value broadcast. The loop for op and
/// the steps is chosen once, so a caller that runs it often pays no dispatch; it uses one thread.
template <class T>
using BinaryLoop = void (*)(index_t n, const T* a, const T* b, T* out);
template <class T>
BinaryLoop<T> binary_loop(BinaryOp op, bool a_whole, bool b_whole);
/// The same for binary_backward: grad[i] = g[i] * d(a op b)/d(input wrt) at i; o is the output.
template <class T>
using BinaryGradLoop = void (*)(index_t n, const T* g, const T* a, const T* b, const T* o, T* grad);
template <class T>
BinaryGradLoop<T> binary_grad_loop(BinaryOp op, int wrt, bool a_whole, bool b_whole);
/// target = sum of the contiguous array g (with `shape`) over the dimensions where target_strides
/// is 0; target has target_size contiguous elements and is overwritten.
template <class T>
void sum_to(int ndim, const index_t* shape, const T* g, const index_t* target_strides,
            index_t target_size, T* target);

/// dst = src elementwise over `shape`, both strided.
template <class T>
void strided_copy(int ndim, const index_t* shape, const T* src, const index_t* src_strides, T* dst,
                  const index_t* dst_strides);

/// dst = src converted between float and double, contiguous.
template <class From, class To>
void convert(index_t n, const From* src, To* dst);

/// dst[i] = value.
template <class T>
void fill(index_t n, T value, T* dst);

}  // namespace pyflux::kernels
