#include "autodiff/tiny.hpp"

#include "autodiff/flat.hpp"
#include "kernels/blas.hpp"
#include "kernels/reduce.hpp"
#include "kernels/rule_tables.hpp"

// The loops run over a few elements each, where vectorised code's set-up and remainder loops cost
// more than they save.
// (A native step includes the loops without this: there the sizes are constants.)
#pragma GCC optimize("no-tree-vectorize")
#include "autodiff/tiny_loops.hpp"

namespace pyflux::autodiff {
namespace {

using I = TinyInstr;
using namespace tiny_loops;

using Run = void (*)(const I&);

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

const char* flag(bool b) { return b ? "true" : "false"; }

}  // namespace

std::string TinyCode::loop_text(const TinyInstr& i) const {
    const std::string t = dtype == DType::f32 ? "float" : "double";
    const auto steps = [&] { return std::string(i.sa ? "1, " : "0, ") + (i.sb ? "1" : "0"); };  // as by_steps
    const auto binary_rule = [&] { return kernels::binary_rule_name(static_cast<kernels::BinaryOp>(i.op)); };
    const auto unary_rule = [&] { return kernels::unary_rule_name(static_cast<kernels::UnaryOp>(i.op)); };
    switch (i.code) {
        case I::binary: return "binary<" + t + ", " + binary_rule() + ", " + steps() + ">";
        case I::binary_grad:
        case I::binary_grad_one:
            return "binary_grad<" + t + ", " + binary_rule() + ", " + steps() + ", " + std::to_string(i.wrt) + ">";
        case I::unary: return "unary<" + t + ", " + unary_rule() + ">";
        case I::unary_grad: return "unary_grad<" + t + ", " + unary_rule() + ">";
        case I::sum: return "sum<" + t + ">";
        case I::sum_grad: return "sum_grad<" + t + ">";
        case I::gemm: return "gemm<" + t + ", " + flag(i.ta) + ", " + flag(i.tb) + ", " + flag(i.add) + ">";
        case I::bias: return "bias<" + t + ">";
        case I::bias_grad: return "bias_grad<" + t + ", " + flag(i.add) + ">";
        case I::descent: return "descent<" + t + ">";
    }
    return {};
}

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
