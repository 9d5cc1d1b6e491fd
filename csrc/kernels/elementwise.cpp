#include "kernels/elementwise.hpp"

#include <cmath>

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

// out = f(a, b) with out contiguous; the inner loop is specialised for the common stride patterns
// so that same-shape and scalar cases vectorise.
template <class T, class F>
void map_binary(int ndim, const index_t* shape, const T* a, const index_t* sa, const T* b,
                const index_t* sb, T* out, F f) {
    for_each_row(binary_layout(ndim, shape, sa, sb), [&](const std::array<index_t, 3>& off, index_t n, const std::array<index_t, 3>& in) {
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
    for_each_row(binary_layout(ndim, shape, sa, sb), [&](const std::array<index_t, 3>& off, index_t n, const std::array<index_t, 3>& in) {
        const T* pg = g + off[0];
        const T* po = (out ? out : g) + off[0];  // rules that ignore the output may pass none
        T* pd = grad + off[0];
        const T* pa = a + off[1];
        const T* pb = b + off[2];
        for (index_t j = 0; j < n; ++j) pd[j] = f(pg[j], pa[j * in[1]], pb[j * in[2]], po[j]);
    });
}

template <class T>
T power(T a, T b) {
    return b == T(2) ? a * a : std::pow(a, b);
}

}  // namespace

template <class T>
void binary_forward(BinaryOp op, int ndim, const index_t* shape, const T* a, const index_t* sa,
                    const T* b, const index_t* sb, T* out) {
    switch (op) {
        case BinaryOp::add: return map_binary(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x + y; });
        case BinaryOp::sub: return map_binary(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x - y; });
        case BinaryOp::mul: return map_binary(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x * y; });
        case BinaryOp::div: return map_binary(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x / y; });
        case BinaryOp::pow: return map_binary(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return power(x, y); });
        case BinaryOp::maximum:
            return map_binary(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x != x || x > y ? x : y; });
        case BinaryOp::minimum:
            return map_binary(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x != x || x < y ? x : y; });
        case BinaryOp::xlogy:
            return map_binary(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x == T(0) ? T(0) : x * std::log(y); });
    }
}

// The local derivatives:  d(a+b) = (1, 1)   d(a-b) = (1, -1)   d(ab) = (b, a)
//   d(a/b) = (1/b, -out/b)   d(a^b) = (b a^(b-1), out log a)   d max(a, b) = (a > b, b > a), ties 1/2 each
//   d xlogy(a, b) = (log b, a / b), the second 0 where a = 0 (as the value is)
template <class T>
void binary_backward(BinaryOp op, int wrt, int ndim, const index_t* shape, const T* g, const T* a,
                     const index_t* sa, const T* b, const index_t* sb, const T* out, T* grad) {
    auto run = [&](auto f) { map_binary_grad(ndim, shape, g, a, sa, b, sb, out, grad, f); };
    const bool da = wrt == 0;
    switch (op) {
        case BinaryOp::add:
            return run([](T gi, T, T, T) { return gi; });
        case BinaryOp::sub:
            if (da) return run([](T gi, T, T, T) { return gi; });
            return run([](T gi, T, T, T) { return -gi; });
        case BinaryOp::mul:
            if (da) return run([](T gi, T, T y, T) { return gi * y; });
            return run([](T gi, T x, T, T) { return gi * x; });
        case BinaryOp::div:
            if (da) return run([](T gi, T, T y, T) { return gi / y; });
            return run([](T gi, T, T y, T o) { return -gi * o / y; });
        case BinaryOp::pow:
            // At a = 0 the limits are finite where the products below would give 0 * inf.
            if (da) return run([](T gi, T x, T y, T) {
                if (y == T(2)) return gi * T(2) * x;
                return y == T(0) ? T(0) : gi * y * std::pow(x, y - T(1));
            });
            return run([](T gi, T x, T, T o) { return o == T(0) ? T(0) : gi * o * std::log(x); });
        case BinaryOp::maximum:
        case BinaryOp::minimum: {
            // The chosen operand takes the gradient; a tie splits it.
            const bool larger = op == BinaryOp::maximum;
            return run([da, larger](T gi, T x, T y, T) {
                const T mine = da ? x : y, other = da ? y : x;
                if (mine == other) return gi / T(2);
                return (larger ? mine > other : mine < other) || mine != mine ? gi : T(0);
            });
        }
        case BinaryOp::xlogy:
            if (da) return run([](T gi, T, T y, T) { return gi * std::log(y); });
            return run([](T gi, T x, T y, T) { return x == T(0) ? T(0) : gi * x / y; });
    }
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
    template void fill<T>(index_t, T, T*);
PYFLUX_INSTANTIATE(float)
PYFLUX_INSTANTIATE(double)
#undef PYFLUX_INSTANTIATE
template void convert<float, double>(index_t, const float*, double*);
template void convert<double, float>(index_t, const double*, float*);

}  // namespace pyflux::kernels
