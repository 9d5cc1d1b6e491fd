// A compiled step whose buffers are all small, as one list of plain loops. For a per-sample step
// the kernels' own set-up (shape products, branches for threads and broadcasting) costs more than
// their arithmetic; here each op's forward and backward are instructions with their sizes and
// buffers fixed, each run by a scalar loop chosen once for its op, operand layout and dtype, with
// the op tables' rules inlined. Flat ops that fit offer their instructions (FlatOp::lower_forward
// and lower_backward); the results are the flat ops' own, up to the order of additions in a sum.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace pyflux::autodiff {

struct FlatBuf;

/// One loop over small contiguous buffers. Each operand is the address of a buffer's data pointer,
/// read when the instruction runs (a datum's buffer moves from step to step). `add` adds the result
/// to the target instead of writing it.
struct TinyInstr {
    enum Code : std::uint8_t {
        binary,       // out[i] = f(a[i sa], b[i sb]), i < n; p = a, b, out; sa, sb 1 (whole) or 0 (one value)
        binary_grad,  // target[i] = d(g[i], a[i sa], b[i sb], o[i]) for input `wrt`; p = g, a, b, o, target
        binary_grad_one,  // target[0] = the sum of those n values (an operand of one value)
        unary,        // out[i] = f(x[i], param); p = x, out
        unary_grad,   // target[i] = f'(g[i], saved[i], param); p = g, saved, target
        sum,          // out[o, j] = param * sum_k x[o, k, j] over lines (outer, n, inner); p = x, out
        sum_grad,     // target[o, k, j] = param * g[o, j]; p = g, target
        gemm,         // C[m x n] = op(A)[m x k] op(B)[k x n], op transposing where ta, tb; p = A, B, C
        bias,         // z[r, c] += b[r] over rows m, columns n; p = b, z
        bias_grad,    // target[r] = sum_c g[r, c]; p = g, target
        descent,      // p[i] -= param g[i]: the Descent rule's update; p = g, p
    };
    Code code;
    std::uint8_t op = 0;  // the BinaryOp or UnaryOp
    std::uint8_t wrt = 0;
    bool add = false;
    bool ta = false, tb = false;
    index_t sa = 1, sb = 1;
    index_t n = 0, m = 0, k = 0, outer = 1, inner = 1;
    index_t lda = 0, ldb = 0, ldc = 0;
    double param = 0;
    std::array<void* const*, 5> p{};
    void (*run)(const TinyInstr&) = nullptr;  // the loop for these fields, chosen by TinyCode::push
};

/// A step's instructions, all in one dtype.
struct TinyCode {
    DType dtype = DType::f32;
    std::vector<TinyInstr> code;

    /// The operand for a flat buffer or a tensor: the address of its data pointer.
    static void* const* at(const FlatBuf& buf);
    static void* const* at(const Tensor& t) { return &t->data; }
    /// Whether n elements are few enough for a plain scalar loop (more go to the kernels, which
    /// vectorise and thread).
    static bool small(index_t n);
    static constexpr index_t kLargest = 256;
    /// Whether an [m x k] by [k x n] product is small enough for a plain loop.
    static bool small_gemm(index_t m, index_t n, index_t k);
    /// Appends instr with the loop that runs it.
    void push(TinyInstr instr);
    /// Runs every instruction in order.
    void run() const;
    /// The loop that runs instr, as C++ text naming a function template of autodiff/tiny_loops.hpp
    /// with its arguments (for a native step: capture/native_source.cpp).
    std::string loop_text(const TinyInstr& instr) const;
};

/// What a native step (capture/native_source.cpp) reads: the step's instructions, whose
/// buffers and `param` it takes from here and whose other fields it has as constants, and the
/// data of `steps` steps.
struct TinyRun {
    const TinyInstr *forward, *backward, *descents;
    const void* const* pointers;    // each step's data: one pointer per datum, step after step
    void* loss;                     // the loss's buffer: one value
    void* seed;                     // the loss's gradient buffer, set to 1 before the backward
    index_t steps;
    double* losses;                 // each step's loss
};

/// The function a native step exports as "pyflux_steps": runs the steps in order; returns how many
/// ran, less than r.steps where step (return value) had a NaN or infinite loss, which is written to
/// losses but not stepped on.
using TinySteps = index_t (*)(const TinyRun& r);

/// Differs between builds whose TinyInstr or TinyRun are laid out differently: a native step
/// exports the value it was built with as "pyflux_steps_abi", and one built for another layout is
/// not loaded (capture/native_library.hpp).
constexpr std::uint64_t tiny_abi() {
    return 1u + 100u * sizeof(TinyInstr) + 100000u * sizeof(TinyRun) + 10000000u * offsetof(TinyInstr, p) +
           1000000000u * offsetof(TinyInstr, param);
}

}  // namespace pyflux::autodiff
