#include "kernels/elementwise.hpp"

#include <cmath>

#include "kernels/rule_tables.hpp"
#include "kernels/strided.hpp"

namespace pyflux::kernels {
namespace {

template <int N>
StridedLayout<N> layout_of(int ndim, const index_t* shape) {
    StridedLayout<N> layout;
    layout.ndim = ndim;
    for (int d = 0; d < ndim; ++d) layout.shape[d] = shape[d];
    return layout;
}

// A contiguous result (operand 0) and two strided inputs a and b over `shape`.
StridedLayout<3> binary_layout(int ndim, const index_t* shape, const index_t* sa, const index_t* sb) {
    auto layout = layout_of<3>(ndim, shape);
    contiguous_strides_of(ndim, shape, layout.strides[0].data());
    for (int d = 0; d < ndim; ++d) {
        layout.strides[1][d] = sa[d];
        layout.strides[2][d] = sb[d];
    }
    return layout;
}

// Whether an operand with strides s walks the whole array in order (step 1) or stays on one value
// (step 0), as a same-shape or scalar operand does.
bool flat_operand(int ndim, const index_t* shape, const index_t* s, index_t* step) {
    bool whole = true, one = true;
    index_t expect = 1;
    for (int d = ndim - 1; d >= 0; --d) {
        if (shape[d] == 1) continue;
        whole = whole && s[d] == expect;
        one = one && s[d] == 0;
        expect *= shape[d];
    }
    *step = whole ? 1 : 0;
    return whole || one;
}

// Runs row(offsets, n, inner steps) over the rows of a contiguous output and inputs a and b; when
// both inputs are flat operands that is one row (split between threads), with no layout to build.
template <class Row>
void binary_rows(int ndim, const index_t* shape, const index_t* sa, const index_t* sb, Row&& row) {
    std::array<index_t, 3> in{1, 0, 0};
    if (flat_operand(ndim, shape, sa, &in[1]) && flat_operand(ndim, shape, sb, &in[2])) {
        index_t n = 1;
        for (int d = 0; d < ndim; ++d) n *= shape[d];
        parallel_for(n, kGrain, [&](index_t begin, index_t end) {
            row(std::array<index_t, 3>{begin, begin * in[1], begin * in[2]}, end - begin, in);
        });
        return;
    }
    for_each_row(binary_layout(ndim, shape, sa, sb), row);
}

// out = f(a, b) with out contiguous; the inner loop is specialised for the common stride patterns
// so that same-shape and scalar cases vectorise.
template <class T, class F>
void map_binary(int ndim, const index_t* shape, const T* a, const index_t* sa, const T* b,
                const index_t* sb, T* out, F f) {
    binary_rows(ndim, shape, sa, sb, [&](const std::array<index_t, 3>& off, index_t n, const std::array<index_t, 3>& in) {
        T* o = out + off[0];
        const T* pa = a + off[1];
        const T* pb = b + off[2];
        if (in[1] == 1 && in[2] == 1) {
            for (index_t j = 0; j < n; ++j) o[j] = f(pa[j], pb[j]);
        } else if (in[1] == 1 && in[2] == 0) {
            const T bv = *pb;
            for (index_t j = 0; j < n; ++j) o[j] = f(pa[j], bv);
        } else if (in[1] == 0 && in[2] == 1) {
            const T av = *pa;
            for (index_t j = 0; j < n; ++j) o[j] = f(av, pb[j]);
        } else {
            for (index_t j = 0; j < n; ++j) o[j] = f(pa[j * in[1]], pb[j * in[2]]);
        }
    });
}

// grad = f(g, a, b, out) where g, out and grad are contiguous and a, b strided.
template <class T, class F>
void map_binary_grad(int ndim, const index_t* shape, const T* g, const T* a, const index_t* sa,
                     const T* b, const index_t* sb, const T* out, T* grad, F f) {
    binary_rows(ndim, shape, sa, sb, [&](const std::array<index_t, 3>& off, index_t n, const std::array<index_t, 3>& in) {
        const T* pg = g + off[0];
        const T* po = (out ? out : g) + off[0];  // rules that ignore the output may pass none
        T* pd = grad + off[0];
        const T* pa = a + off[1];
        const T* pb = b + off[2];
        for (index_t j = 0; j < n; ++j) pd[j] = f(pg[j], pa[j * in[1]], pb[j * in[2]], po[j]);
    });
}

// R's forward and gradients as loops over n elements, an operand's step (SA, SB) being 1 (whole) or 0
// (one value), for binary_loop and binary_grad_loop.
template <class T, class R>
struct Bind {
    template <int SA, int SB>
    struct Forward {
        static void run(index_t n, const T* a, const T* b, T* out) {
            for (index_t j = 0; j < n; ++j) out[j] = R::f(a[j * SA], b[j * SB]);
        }
    };
    template <int SA, int SB>
    struct GradA {
        static void run(index_t n, const T* g, const T* a, const T* b, const T* o, T* grad) {
            for (index_t j = 0; j < n; ++j) grad[j] = R::da(g[j], a[j * SA], b[j * SB], o[j]);
        }
    };
    template <int SA, int SB>
    struct GradB {
        static void run(index_t n, const T* g, const T* a, const T* b, const T* o, T* grad) {
            for (index_t j = 0; j < n; ++j) grad[j] = R::db(g[j], a[j * SA], b[j * SB], o[j]);
        }
    };
};

// Instantiates Loop<SA, SB> for the step pattern of the operands (1: whole, 0: one value).
template <template <int, int> class Loop>
auto loop_for(bool a_whole, bool b_whole) {
    if (a_whole) return b_whole ? &Loop<1, 1>::run : &Loop<1, 0>::run;
    return b_whole ? &Loop<0, 1>::run : &Loop<0, 0>::run;
}

}  // namespace

template <class T>
void binary_forward(BinaryOp op, int ndim, const index_t* shape, const T* a, const index_t* sa,
                    const T* b, const index_t* sb, T* out) {
    with_binary_rule(op, [&](auto rule) {
        using R = decltype(rule);
        map_binary(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return R::f(x, y); });
    });
}

template <class T>
void binary_backward(BinaryOp op, int wrt, int ndim, const index_t* shape, const T* g, const T* a,
                     const index_t* sa, const T* b, const index_t* sb, const T* out, T* grad) {
    with_binary_rule(op, [&](auto rule) {
        using R = decltype(rule);
        if (wrt == 0) return map_binary_grad(ndim, shape, g, a, sa, b, sb, out, grad, [](T gi, T x, T y, T o) { return R::da(gi, x, y, o); });
        map_binary_grad(ndim, shape, g, a, sa, b, sb, out, grad, [](T gi, T x, T y, T o) { return R::db(gi, x, y, o); });
    });
}

template <class T>
BinaryLoop<T> binary_loop(BinaryOp op, bool a_whole, bool b_whole) {
    return with_binary_rule(op, [&](auto rule) {
        using R = decltype(rule);
        return loop_for<Bind<T, R>::template Forward>(a_whole, b_whole);
    });
}

template <class T>
BinaryGradLoop<T> binary_grad_loop(BinaryOp op, int wrt, bool a_whole, bool b_whole) {
    return with_binary_rule(op, [&](auto rule) {
        using R = decltype(rule);
        if (wrt == 0) return loop_for<Bind<T, R>::template GradA>(a_whole, b_whole);
        return loop_for<Bind<T, R>::template GradB>(a_whole, b_whole);
    });
}

template <class T>
void select_forward(int ndim, const index_t* shape, const T* cond, const index_t* sc, const T* a, const index_t* sa,
                    const T* b, const index_t* sb, T* out) {
    auto layout = layout_of<4>(ndim, shape);
    contiguous_strides_of(ndim, shape, layout.strides[0].data());
    for (int d = 0; d < ndim; ++d) {
        layout.strides[1][d] = sc[d];
        layout.strides[2][d] = sa[d];
        layout.strides[3][d] = sb[d];
    }
    for_each_row(layout, [&](const std::array<index_t, 4>& off, index_t n, const std::array<index_t, 4>& in) {
        T* o = out + off[0];
        const T* pc = cond + off[1];
        const T* pa = a + off[2];
        const T* pb = b + off[3];
        for (index_t j = 0; j < n; ++j) o[j] = pc[j * in[1]] != T(0) ? pa[j * in[2]] : pb[j * in[3]];
    });
}

template <class T>
void select_backward(bool taken, int ndim, const index_t* shape, const T* g, const T* cond, const index_t* sc,
                     T* grad) {
    std::array<index_t, kMaxDims> sg{};
    contiguous_strides_of(ndim, shape, sg.data());
    map_binary(ndim, shape, g, sg.data(), cond, sc, grad,
               [taken](T gi, T c) { return (c != T(0)) == taken ? gi : T(0); });
}

template <class T>
void sum_to(int ndim, const index_t* shape, const T* g, const index_t* target_strides,
            index_t target_size, T* target) {
    fill(target_size, T(0), target);
    auto layout = layout_of<2>(ndim, shape);
    contiguous_strides_of(ndim, shape, layout.strides[0].data());
    for (int d = 0; d < ndim; ++d) layout.strides[1][d] = target_strides[d];
    // Serial: rows accumulate into shared target elements.
    for_each_row<2, false>(layout, [&](const std::array<index_t, 2>& off, index_t n, const std::array<index_t, 2>& in) {
        const T* pg = g + off[0];
        T* pt = target + off[1];
        if (in[1] == 0) {
            T acc = 0;
            for (index_t j = 0; j < n; ++j) acc += pg[j];
            *pt += acc;
        } else {
            for (index_t j = 0; j < n; ++j) pt[j * in[1]] += pg[j];
        }
    });
}

template <class T>
void strided_copy(int ndim, const index_t* shape, const T* src, const index_t* ss, T* dst, const index_t* sd) {
    auto layout = layout_of<2>(ndim, shape);
    for (int d = 0; d < ndim; ++d) {
        layout.strides[0][d] = sd[d];
        layout.strides[1][d] = ss[d];
    }
    for_each_row(layout, [&](const std::array<index_t, 2>& off, index_t n, const std::array<index_t, 2>& in) {
        T* pd = dst + off[0];
        const T* ps = src + off[1];
        if (in[0] == 1 && in[1] == 1) {
            for (index_t j = 0; j < n; ++j) pd[j] = ps[j];
        } else {
            for (index_t j = 0; j < n; ++j) pd[j * in[0]] = ps[j * in[1]];
        }
    });
}

template <class From, class To>
void convert(index_t n, const From* src, To* dst) {
    parallel_for(n, kGrain, [&](index_t begin, index_t end) {
        for (index_t i = begin; i < end; ++i) dst[i] = static_cast<To>(src[i]);
    });
}

template <class T>
void fill(index_t n, T value, T* dst) {
    parallel_for(n, kGrain, [&](index_t begin, index_t end) {
        for (index_t i = begin; i < end; ++i) dst[i] = value;
    });
}

#define PYFLUX_INSTANTIATE(T)                                                                      \
    template void binary_forward<T>(BinaryOp, int, const index_t*, const T*, const index_t*,       \
                                    const T*, const index_t*, T*);                                 \
    template void binary_backward<T>(BinaryOp, int, int, const index_t*, const T*, const T*,       \
                                     const index_t*, const T*, const index_t*, const T*, T*);      \
    template void sum_to<T>(int, const index_t*, const T*, const index_t*, index_t, T*);          \
    template void select_forward<T>(int, const index_t*, const T*, const index_t*, const T*, const index_t*, \
                                    const T*, const index_t*, T*);                                 \
    template void select_backward<T>(bool, int, const index_t*, const T*, const T*, const index_t*, T*); \
    template void strided_copy<T>(int, const index_t*, const T*, const index_t*, T*, const index_t*); \
    template void fill<T>(index_t, T, T*);                                                         \
    template BinaryLoop<T> binary_loop<T>(BinaryOp, bool, bool);                                   \
    template BinaryGradLoop<T> binary_grad_loop<T>(BinaryOp, int, bool, bool);
PYFLUX_INSTANTIATE(float)
PYFLUX_INSTANTIATE(double)
#undef PYFLUX_INSTANTIATE
template void convert<float, double>(index_t, const float*, double*);
template void convert<double, float>(index_t, const double*, float*);

}  // namespace pyflux::kernels
