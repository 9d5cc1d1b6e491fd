#include "autodiff/tiny.hpp"

#include "autodiff/flat.hpp"
#include "kernels/blas.hpp"
#include "kernels/reduce.hpp"
#include "kernels/rule_tables.hpp"

// The loops run over a few elements each, where vectorised code's set-up and remainder loops cost
// more than they save.
#pragma GCC optimize("no-tree-vectorize")

namespace pyflux::autodiff {
namespace {

using I = TinyInstr;

template <class T>
const T* operand(const I& i, int k) { return static_cast<const T*>(*i.p[k]); }
template <class T>
T* target(const I& i, int k) { return static_cast<T*>(*i.p[k]); }

// to[j] = value(j), or += where the instruction adds, for j < n.
template <class T, class F>
void store(bool add, index_t n, T* to, F&& value) {
    if (add)
        for (index_t j = 0; j < n; ++j) to[j] += value(j);
    else
        for (index_t j = 0; j < n; ++j) to[j] = value(j);
}

using Run = void (*)(const I&);

template <class T, class R, int SA, int SB>
void binary(const I& i) {
    const T *a = operand<T>(i, 0), *b = operand<T>(i, 1);
    T* out = target<T>(i, 2);
    const index_t n = i.n;
    for (index_t j = 0; j < n; ++j) out[j] = R::f(a[j * SA], b[j * SB]);
}

// The gradient for input Wrt, whole or (binary_grad_one) summed to its one value.
template <class T, class R, int SA, int SB, int Wrt>
void binary_grad(const I& i) {
    const T *g = operand<T>(i, 0), *a = operand<T>(i, 1), *b = operand<T>(i, 2), *o = operand<T>(i, 3);
    auto d = [=](index_t j) {
        return Wrt == 0 ? R::da(g[j], a[j * SA], b[j * SB], o[j]) : R::db(g[j], a[j * SA], b[j * SB], o[j]);
    };
    if (i.code == I::binary_grad) return store(i.add, i.n, target<T>(i, 4), d);
    T total = 0;
    const index_t n = i.n;
    for (index_t j = 0; j < n; ++j) total += d(j);
    store(i.add, 1, target<T>(i, 4), [total](index_t) { return total; });
}

template <class T, class Rule>
void unary(const I& i) {
    const T* x = operand<T>(i, 0);
    T* y = target<T>(i, 1);
    const T q = static_cast<T>(i.param);
    const index_t n = i.n;
    for (index_t j = 0; j < n; ++j) y[j] = Rule::forward(x[j], q);
}

template <class T, class Rule>
void unary_grad(const I& i) {
    const T *g = operand<T>(i, 0), *saved = operand<T>(i, 1);
    const T q = static_cast<T>(i.param);
    store(i.add, i.n, target<T>(i, 2), [=](index_t j) { return Rule::backward(g[j], saved[j], q); });
}

template <class T>
void sum(const I& i) {
    const T* x = operand<T>(i, 0);
    T* out = target<T>(i, 1);
    const T scale = static_cast<T>(i.param);
    const index_t n = i.n, inner = i.inner;
    if (i.outer * inner == 1) return kernels::sum_block(n, 1, x, scale, out);  // a loss
    for (index_t o = 0; o < i.outer; ++o) kernels::sum_block(n, inner, x + o * n * inner, scale, out + o * inner);
}

template <class T>
void sum_grad(const I& i) {
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
template <class T, bool TA, bool TB, bool Add>
void gemm(const I& i) {
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

template <class T>
void bias(const I& i) {
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

template <class T, bool Add>
void bias_grad(const I& i) {
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
template <class T>
void descent(const I& i) {
    const T* g = operand<T>(i, 0);
    T* p = target<T>(i, 1);
    const T eta = static_cast<T>(i.param);
    const index_t n = i.n;
    for (index_t j = 0; j < n; ++j) p[j] -= eta * g[j];
}

// F<SA, SB> for the operands' steps (1: whole, 0: one value).
template <template <int, int> class F>
Run by_steps(const I& i) {
    if (i.sa) return i.sb ? F<1, 1>::run : F<1, 0>::run;
    return i.sb ? F<0, 1>::run : F<0, 0>::run;
}

template <class T, class R>
struct Binary {
    template <int SA, int SB>
    struct Forward {
        static constexpr Run run = &binary<T, R, SA, SB>;
    };
    template <int SA, int SB>
    struct GradA {
        static constexpr Run run = &binary_grad<T, R, SA, SB, 0>;
    };
    template <int SA, int SB>
    struct GradB {
        static constexpr Run run = &binary_grad<T, R, SA, SB, 1>;
    };
};

template <class T, bool Add>
Run gemm_for(const I& i) {
    if (i.ta) return i.tb ? &gemm<T, true, true, Add> : &gemm<T, true, false, Add>;
    return i.tb ? &gemm<T, false, true, Add> : &gemm<T, false, false, Add>;
}

template <class T>
Run loop_for(const I& i) {
    switch (i.code) {
        case I::binary:
            return kernels::with_binary_rule(static_cast<kernels::BinaryOp>(i.op), [&](auto rule) {
                return by_steps<Binary<T, decltype(rule)>::template Forward>(i);
            });
        case I::binary_grad:
        case I::binary_grad_one:
            return kernels::with_binary_rule(static_cast<kernels::BinaryOp>(i.op), [&](auto rule) {
                using B = Binary<T, decltype(rule)>;
                return i.wrt == 0 ? by_steps<B::template GradA>(i) : by_steps<B::template GradB>(i);
            });
        case I::unary:
            return kernels::with_unary_rule(static_cast<kernels::UnaryOp>(i.op), [](auto rule) -> Run { return &unary<T, decltype(rule)>; });
        case I::unary_grad:
            return kernels::with_unary_rule(static_cast<kernels::UnaryOp>(i.op), [](auto rule) -> Run { return &unary_grad<T, decltype(rule)>; });
        case I::sum: return &sum<T>;
        case I::sum_grad: return &sum_grad<T>;
        case I::gemm: return i.add ? gemm_for<T, true>(i) : gemm_for<T, false>(i);
        case I::bias: return &bias<T>;
        case I::bias_grad: return i.add ? &bias_grad<T, true> : &bias_grad<T, false>;
        case I::descent: return &descent<T>;
    }
    return nullptr;
}

}  // namespace

void* const* TinyCode::at(const FlatBuf& buf) { return &buf.data; }

bool TinyCode::small(index_t n) { return n <= kLargest; }

bool TinyCode::small_gemm(index_t m, index_t n, index_t k) {
    return m > 0 && n > 0 && k > 0 && kernels::small_gemm_size(m, n, k) && small(m * n);
}

void TinyCode::push(TinyInstr instr) {
    instr.run = dtype == DType::f32 ? loop_for<float>(instr) : loop_for<double>(instr);
    code.push_back(instr);
}

void TinyCode::run() const {
    for (const TinyInstr& i : code) i.run(i);
}

}  // namespace pyflux::autodiff
