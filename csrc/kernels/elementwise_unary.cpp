#include "kernels/elementwise_unary.hpp"

#include "kernels/rule_tables.hpp"

namespace pyflux::kernels {
namespace {

struct Entry {
    Saves saves;
    double default_param;
};

constexpr Entry kEntries[] = {
#define PYFLUX_UNARY(name, Rule, kind, saves_, param, default_, doc) {Saves::saves_, default_},
#include "autodiff/ops.def"
#undef PYFLUX_UNARY
};
static_assert(sizeof(kEntries) / sizeof(kEntries[0]) == kUnaryOpCount);

}  // namespace

bool unary_op_of(long code, UnaryOp* op) {
    if (code < 0 || code >= kUnaryOpCount) return false;
    *op = static_cast<UnaryOp>(code);
    return true;
}

Saves saves(UnaryOp op) { return kEntries[static_cast<int>(op)].saves; }

double default_param(UnaryOp op) { return kEntries[static_cast<int>(op)].default_param; }

const char* invalid_param(UnaryOp op, double param) {
    if (param != param) return "the parameter must not be NaN";
    return with_unary_rule(op, [&](auto rule) { return decltype(rule)::invalid_param(param); });
}

template <class T>
void unary_forward(UnaryOp op, double param, index_t n, const T* x, T* y) {
    if (op == UnaryOp::identity && x == y) return;
    const T p = static_cast<T>(param);
    with_unary_rule(op, [&](auto rule) {
        using Rule = decltype(rule);
        parallel_for(n, kGrain / Rule::forward_cost, [&](index_t begin, index_t end) {
            const T q = p;  // a local copy: the stores below cannot change it, so the loop vectorises
            for (index_t i = begin; i < end; ++i) y[i] = Rule::forward(x[i], q);
        });
    });
}

template <class T>
void unary_backward(UnaryOp op, double param, index_t n, const T* g, const T* saved, T* grad) {
    if (op == UnaryOp::identity && g == grad) return;
    const T p = static_cast<T>(param);
    if (!saved) saved = g;  // rules that save nothing ignore it
    with_unary_rule(op, [&](auto rule) {
        using Rule = decltype(rule);
        parallel_for(n, kGrain / Rule::backward_cost, [&](index_t begin, index_t end) {
            const T q = p;
            for (index_t i = begin; i < end; ++i) grad[i] = Rule::backward(g[i], saved[i], q);
        });
    });
}

template <class T>
void bias_activation_forward(UnaryOp op, double param, index_t rows, index_t cols, const T* b, T* z, T* y) {
    if (op == UnaryOp::identity && !b && z == y) return;
    const T p = static_cast<T>(param);
    with_unary_rule(op, [&](auto rule) {
        using Rule = decltype(rule);
        const index_t grain = std::max<index_t>(1, kGrain / Rule::forward_cost / std::max<index_t>(cols, 1));
        if (cols == 1) {  // one sample: a single loop down the column, not a loop per row
            for (index_t r = 0; r < rows; ++r) {
                const T v = z[r] + (b ? b[r] : T(0));
                z[r] = v;
                y[r] = Rule::forward(v, p);
            }
            return;
        }
        parallel_for(rows, grain, [&](index_t begin, index_t end) {
            const T q = p;
            for (index_t r = begin; r < end; ++r) {
                const T bias = b ? b[r] : T(0);
                T* zr = z + r * cols;
                T* yr = y + r * cols;
                if (zr == yr) {
                    for (index_t j = 0; j < cols; ++j) yr[j] = Rule::forward(zr[j] + bias, q);
                } else {
                    for (index_t j = 0; j < cols; ++j) {
                        const T v = zr[j] + bias;
                        zr[j] = v;
                        yr[j] = Rule::forward(v, q);
                    }
                }
            }
        });
    });
}

#define PYFLUX_INSTANTIATE(T)                                                                               \
    template void unary_forward<T>(UnaryOp, double, index_t, const T*, T*);                                \
    template void unary_backward<T>(UnaryOp, double, index_t, const T*, const T*, T*);                     \
    template void bias_activation_forward<T>(UnaryOp, double, index_t, index_t, const T*, T*, T*);
PYFLUX_INSTANTIATE(float)
PYFLUX_INSTANTIATE(double)
#undef PYFLUX_INSTANTIATE

}  // namespace pyflux::kernels
