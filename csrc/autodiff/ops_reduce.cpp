// sum and mean over all elements or one axis.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/common.hpp"
#include "kernels/reduce.hpp"

namespace pyflux::autodiff {
namespace {

// x viewed as [outer x n x inner] around the reduced axis.
struct Reduction {
    index_t outer = 1, n = 1, inner = 1;
    Shape out_shape;
};

Reduction plan(const char* op, const Shape& shape, std::optional<int> axis) {
    Reduction r;
    if (!axis) {
        r.n = shape.size();
        return r;
    }
    int a = *axis;
    if (a < 0) a += shape.ndim;
    if (a < 0 || a >= shape.ndim)
        throw std::out_of_range(std::string(op) + ": axis " + std::to_string(*axis) + " is out of bounds for shape " +
                                shape.str());
    for (int d = 0; d < shape.ndim; ++d) {
        if (d < a) r.outer *= shape[d];
        if (d > a) r.inner *= shape[d];
        if (d != a) r.out_shape.dims[r.out_shape.ndim++] = shape[d];
    }
    r.n = shape[a];
    return r;
}

class ReduceNode : public Node {
public:
    ReduceNode(Reduction r, Shape x_shape, double scale) : r_(r), x_shape_(x_shape), scale_(scale) {}

    // Every input element contributed once (times scale) to its output element.
    void backward(const Tensor& g_in, Tape& tape) override {
        const Tensor g = contiguous(g_in);
        Tensor grad = empty(g->dtype, x_shape_);
        dispatch(g->dtype, [&](auto tag) {
            using T = decltype(tag);
            kernels::reduce_sum_backward<T>(r_.outer, r_.n, r_.inner, g->ptr<T>(), static_cast<T>(scale_), grad->ptr<T>());
        });
        tape.accumulate(input_ids[0], grad);
    }

private:
    Reduction r_;
    Shape x_shape_;
    double scale_;
};

// A sum of few elements into one runs its own loop: the kernel's set-up costs more than the sum.
template <class T>
class FlatReduce : public FlatOp {
public:
    FlatReduce(const FlatArgs& io, Reduction r, double scale)
        : FlatOp(io), r_(r), scale_(scale), small_(r.outer * r.inner == 1 && r.n < kernels::kGrain) {}

    void forward() override {
        const T* x = io_.in[0]->ptr<T>();
        if (!small_) return kernels::reduce_sum<T>(r_.outer, r_.n, r_.inner, x, static_cast<T>(scale_), io_.out->ptr<T>());
        double acc = 0;  // as the kernel sums: in double, scaled at the end
        for (index_t k = 0; k < r_.n; ++k) acc += x[k];
        *io_.out->ptr<T>() = static_cast<T>(acc * static_cast<double>(static_cast<T>(scale_)));
    }
    void backward() override {
        const T* g = io_.grad_out->ptr<T>();
        T* gx = grad<T>(0);
        if (!small_) {
            kernels::reduce_sum_backward<T>(r_.outer, r_.n, r_.inner, g, static_cast<T>(scale_), gx);
        } else {
            const T each = static_cast<T>(scale_) * *g;
            for (index_t k = 0; k < r_.n; ++k) gx[k] = each;
        }
        done<T>(0);
    }

private:
    Reduction r_;
    double scale_;
    bool small_;
};

Tensor reduce(const char* op, const Tensor& x_in, std::optional<int> axis, bool average) {
    const Reduction r = plan(op, x_in->shape, axis);
    const double scale = !average ? 1.0 : r.n > 0 ? 1.0 / static_cast<double>(r.n) : std::numeric_limits<double>::quiet_NaN();
    const Tensor x = contiguous(x_in);
    Tensor out = empty(x->dtype, r.out_shape);
    dispatch(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::reduce_sum<T>(r.outer, r.n, r.inner, x->ptr<T>(), static_cast<T>(scale), out->ptr<T>());
    });
    return record_if_traced(out, {&x_in}, [&] { return std::make_unique<ReduceNode>(r, x->shape, scale); },
                            [&] {
                                return Replay([op, axis, average](const OpInputs& in) { return reduce(op, in[0], axis, average); });
                            },
                            [&] { return MakeFlat([r, scale](const FlatArgs& io) { return make_flat<FlatReduce>(io, r, scale); }); });
}

}  // namespace

Tensor sum(const Tensor& x, std::optional<int> axis) { return reduce("sum", x, axis, false); }
Tensor mean(const Tensor& x, std::optional<int> axis) { return reduce("mean", x, axis, true); }

}  // namespace pyflux::autodiff
