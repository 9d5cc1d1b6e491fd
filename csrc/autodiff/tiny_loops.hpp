// The loops of tiny instructions (autodiff/tiny.hpp), one function template per kind of
// instruction. `In` is TinyInstr, whose fields are read when the loop runs, or, in a native step
// (capture/native_source.cpp), a Fixed whose sizes and flags are constants, so that the compiler
// unrolls the loops for them; the arithmetic, and so the rounding, is the same code.
#pragma once

#include "autodiff/tiny.hpp"
#include "kernels/reduce.hpp"
#include "kernels/rule_tables.hpp"

// A native step inlines every loop, so that the compiler sees which of its arrays each operand is
// (one call left by an inlining heuristic would make them all memory that any store may change).
#if defined(__GNUC__)
#define PYFLUX_TINY_LOOP [[gnu::always_inline]] inline
#else
#define PYFLUX_TINY_LOOP inline
#endif

namespace pyflux::autodiff::tiny_loops {

/// An instruction of a native step: its sizes and flags constants, its operands the buffers
/// themselves (the step's own copies, or a datum of the current step), its param read when the
/// step starts.
template <TinyInstr::Code Code, bool Add, index_t N, index_t M, index_t K, index_t Outer, index_t Inner,
          index_t Lda, index_t Ldb, index_t Ldc>
struct Fixed {
    static constexpr TinyInstr::Code code = Code;
    static constexpr bool add = Add;
    static constexpr index_t n = N, m = M, k = K, outer = Outer, inner = Inner, lda = Lda, ldb = Ldb, ldc = Ldc;
    std::array<void*, 5> p;
    double param;
};

// An instruction's operand k: through the address of its buffer's pointer (TinyInstr), or as it is
// (Fixed).
template <class T>
const T* operand(const TinyInstr& i, int k) { return static_cast<const T*>(*i.p[k]); }
template <class T>
T* target(const TinyInstr& i, int k) { return static_cast<T*>(*i.p[k]); }
template <class T, class In>
const T* operand(const In& i, int k) { return static_cast<const T*>(i.p[k]); }
template <class T, class In>
T* target(const In& i, int k) { return static_cast<T*>(i.p[k]); }

/// to[e] = from[e] for e < N: a native step's copies of its buffers, made when it starts and
/// written back when it returns.
template <class T, std::size_t N>
void copy_from(T (&to)[N], const T* from) {
    for (std::size_t e = 0; e < N; ++e) to[e] = from[e];
}
template <class T, std::size_t N>
void copy_to(T* to, const T (&from)[N]) {
    for (std::size_t e = 0; e < N; ++e) to[e] = from[e];
}

// to[j] = value(j), or += where the instruction adds, for j < n.
template <class T, class F>
PYFLUX_TINY_LOOP void store(bool add, index_t n, T* to, F&& value) {
    if (add)
        for (index_t j = 0; j < n; ++j) to[j] += value(j);
    else
        for (index_t j = 0; j < n; ++j) to[j] = value(j);
}

template <class T, class R, int SA, int SB, class In = TinyInstr>
PYFLUX_TINY_LOOP void binary(const In& i) {
    const T *a = operand<T>(i, 0), *b = operand<T>(i, 1);
    T* out = target<T>(i, 2);
    const index_t n = i.n;
    for (index_t j = 0; j < n; ++j) out[j] = R::f(a[j * SA], b[j * SB]);
}

// The gradient for input Wrt, whole or (binary_grad_one) summed to its one value.
template <class T, class R, int SA, int SB, int Wrt, class In = TinyInstr>
PYFLUX_TINY_LOOP void binary_grad(const In& i) {
    const T *g = operand<T>(i, 0), *a = operand<T>(i, 1), *b = operand<T>(i, 2), *o = operand<T>(i, 3);
    auto d = [=](index_t j) {
        return Wrt == 0 ? R::da(g[j], a[j * SA], b[j * SB], o[j]) : R::db(g[j], a[j * SA], b[j * SB], o[j]);
    };
    if (i.code == TinyInstr::binary_grad) return store(i.add, i.n, target<T>(i, 4), d);
    T total = 0;
    const index_t n = i.n;
    for (index_t j = 0; j < n; ++j) total += d(j);
    store(i.add, 1, target<T>(i, 4), [total](index_t) { return total; });
}

template <class T, class Rule, class In = TinyInstr>
PYFLUX_TINY_LOOP void unary(const In& i) {
    const T* x = operand<T>(i, 0);
    T* y = target<T>(i, 1);
    const T q = static_cast<T>(i.param);
    const index_t n = i.n;
    for (index_t j = 0; j < n; ++j) y[j] = Rule::forward(x[j], q);
}

template <class T, class Rule, class In = TinyInstr>
PYFLUX_TINY_LOOP void unary_grad(const In& i) {
    const T *g = operand<T>(i, 0), *saved = operand<T>(i, 1);
    const T q = static_cast<T>(i.param);
    store(i.add, i.n, target<T>(i, 2), [=](index_t j) { return Rule::backward(g[j], saved[j], q); });
}

template <class T, class In = TinyInstr>
PYFLUX_TINY_LOOP void sum(const In& i) {
    const T* x = operand<T>(i, 0);
    T* out = target<T>(i, 1);
    const T scale = static_cast<T>(i.param);
    const index_t n = i.n, inner = i.inner;
    if (i.outer * inner == 1) return kernels::sum_block(n, 1, x, scale, out);  // a loss
    for (index_t o = 0; o < i.outer; ++o) kernels::sum_block(n, inner, x + o * n * inner, scale, out + o * inner);
}

template <class T, class In = TinyInstr>
PYFLUX_TINY_LOOP void sum_grad(const In& i) {
    const T* g = operand<T>(i, 0);
    T* gx = target<T>(i, 1);
    const T scale = static_cast<T>(i.param);
    const index_t n = i.n, inner = i.inner;
    if (i.outer * inner == 1) {  // a loss's: every element gets the same
        const T each = scale * g[0];
        return store(i.add, n, gx, [each](index_t) { return each; });
    }
    for (index_t o = 0; o < i.outer; ++o)
        for (index_t k = 0; k < n; ++k) {
            const T* go = g + o * inner;
            store(i.add, inner, gx + (o * n + k) * inner, [=](index_t j) { return scale * go[j]; });
        }
}

// c = v, or c += v where the instruction adds.
template <bool Add, class T>
inline void put(T& c, T v) {
    if (Add)
        c += v;
    else
        c = v;
}

// As kernels' small GEMM: each element's products added in k order.
template <class T, bool TA, bool TB, bool Add, class In = TinyInstr>
PYFLUX_TINY_LOOP void gemm(const In& i) {
    const T *A = operand<T>(i, 0), *B = operand<T>(i, 1);
    T* C = target<T>(i, 2);
    const index_t M = i.m, N = i.n, K = i.k, lda = i.lda, ldb = i.ldb, ldc = i.ldc;
    const index_t a_row = TA ? 1 : lda, a_k = TA ? lda : 1, b_col = TB ? ldb : 1, b_k = TB ? 1 : ldb;
    if (K == 1) {  // an outer product: a sample's weight gradient
        for (index_t r = 0; r < M; ++r) {
            const T a = A[r * a_row];
            T* row = C + r * ldc;
            for (index_t c = 0; c < N; ++c) put<Add>(row[c], a * B[c * b_col]);
        }
        return;
    }
    if (N == 1) {  // a product with a vector: a sample's layer and its input gradient
        for (index_t r = 0; r < M; ++r) {
            const T* a = A + r * a_row;
            T acc = a[0] * B[0];
            for (index_t k = 1; k < K; ++k) acc += a[k * a_k] * B[k * b_k];
            put<Add>(C[r * ldc], acc);
        }
        return;
    }
    for (index_t r = 0; r < M; ++r)
        for (index_t c = 0; c < N; ++c) {
            const T* a = A + r * a_row;
            const T* b = B + c * b_col;
            T acc = a[0] * b[0];  // K >= 1 (TinyCode::small_gemm)
            for (index_t k = 1; k < K; ++k) acc += a[k * a_k] * b[k * b_k];
            put<Add>(C[r * ldc + c], acc);
        }
}

template <class T, class In = TinyInstr>
PYFLUX_TINY_LOOP void bias(const In& i) {
    const T* b = operand<T>(i, 0);
    T* z = target<T>(i, 1);
    const index_t rows = i.m, cols = i.n;
    if (cols == 1) {
        for (index_t r = 0; r < rows; ++r) z[r] += b[r];
        return;
    }
    for (index_t r = 0; r < rows; ++r)
        for (index_t c = 0; c < cols; ++c) z[r * cols + c] += b[r];
}

template <class T, bool Add, class In = TinyInstr>
PYFLUX_TINY_LOOP void bias_grad(const In& i) {
    const T* g = operand<T>(i, 0);
    T* db = target<T>(i, 1);
    const index_t rows = i.m, cols = i.n;
    for (index_t r = 0; r < rows; ++r) {
        T total = g[r * cols];
        for (index_t c = 1; c < cols; ++c) total += g[r * cols + c];
        put<Add>(db[r], total);
    }
}

// p -= eta g, as the Descent rule's update.
template <class T, class In = TinyInstr>
PYFLUX_TINY_LOOP void descent(const In& i) {
    const T* g = operand<T>(i, 0);
    T* p = target<T>(i, 1);
    const T eta = static_cast<T>(i.param);
    const index_t n = i.n;
    for (index_t j = 0; j < n; ++j) p[j] -= eta * g[j];
}

}  // namespace pyflux::autodiff::tiny_loops
