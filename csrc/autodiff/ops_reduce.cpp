// Reductions over all elements, one axis or several (sum, mean, max, min, prod, logsumexp), with or
// without the reduced axes kept as size 1. The input is laid out by axes.hpp so that every kernel
// reduces the middle axis of [outer x n x inner]; the backward works in the same layout and puts the
// axes back.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "autodiff/axes.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/reduce.hpp"
#include "kernels/softmax.hpp"

namespace pyflux::autodiff {
namespace {

enum class Reduce { sum, mean, max, min, prod, logsumexp };

const char* name_of(Reduce kind) {
    switch (kind) {
        case Reduce::sum: return "sum";
        case Reduce::mean: return "mean";
        case Reduce::max: return "max";
        case Reduce::min: return "min";
        case Reduce::prod: return "prod";
        case Reduce::logsumexp: return "logsumexp";
    }
    return "reduce";
}

// Whether the backward reads the input and the output (sum's and mean's read neither).
bool saves_values(Reduce kind) { return kind != Reduce::sum && kind != Reduce::mean; }

// The shape of the input in the kernel layout.
Shape lines_shape(const AxesPlan& plan, const Shape& shape) {
    if (!plan.permuted) return shape;
    Shape s;
    s.ndim = shape.ndim;
    for (int d = 0; d < shape.ndim; ++d) s.dims[d] = shape[plan.order[d]];
    return s;
}

class ReduceNode : public Node {
public:
    ReduceNode(Reduce kind, AxesPlan plan, Shape x_shape, double scale, Tensor xc, Tensor out)
        : kind_(kind), plan_(plan), x_shape_(x_shape), scale_(scale), xc_(std::move(xc)), out_(std::move(out)) {}

    void backward(const Tensor& g_in, Tape& tape) override {
        const Tensor g = contiguous(g_in);
        const Lines l = plan_.lines;
        Tensor dx = empty(g->dtype, lines_shape(plan_, x_shape_));
        dispatch(g->dtype, [&](auto tag) {
            using T = decltype(tag);
            const T* gp = g->ptr<T>();
            T* dp = dx->ptr<T>();
            switch (kind_) {
                case Reduce::sum:
                case Reduce::mean:
                    return kernels::reduce_sum_backward<T>(l.outer, l.n, l.inner, gp, static_cast<T>(scale_), dp);
                case Reduce::max:
                case Reduce::min:
                    return kernels::reduce_extreme_backward<T>(l.outer, l.n, l.inner, gp, xc_->ptr<T>(), out_->ptr<T>(), dp);
                case Reduce::prod: return kernels::reduce_prod_backward<T>(l.outer, l.n, l.inner, gp, xc_->ptr<T>(), dp);
                case Reduce::logsumexp:
                    return kernels::logsumexp_backward<T>(l.outer, l.n, l.inner, gp, xc_->ptr<T>(), out_->ptr<T>(), dp);
            }
        });
        tape.accumulate(input_ids[0], from_lines(plan_, dx));
    }

private:
    Reduce kind_;
    AxesPlan plan_;
    Shape x_shape_;
    double scale_;
    Tensor xc_, out_;  // the input in the kernel layout and the result, where the backward reads them
};

// sum and mean over fixed buffers, for axes that sit as one block (a permuted plan has no flat form).
template <class T>
class FlatReduce : public FlatOp {
public:
    FlatReduce(const FlatArgs& io, Lines r, double scale) : FlatOp(io), r_(r), scale_(scale) {}

    void forward() override {
        kernels::reduce_sum<T>(r_.outer, r_.n, r_.inner, io_.in[0]->ptr<T>(), static_cast<T>(scale_), io_.out->ptr<T>());
    }
    void backward() override {
        kernels::reduce_sum_backward<T>(r_.outer, r_.n, r_.inner, io_.grad_out->ptr<T>(), static_cast<T>(scale_), grad<T>(0));
        done<T>(0);
    }
    bool lower_forward(TinyCode& c) const override {
        if (!TinyCode::small(io_.in[0]->size())) return false;
        c.push(instr(TinyInstr::sum, {TinyCode::at(*io_.in[0]), TinyCode::at(*io_.out)}));
        return true;
    }
    bool lower_backward(TinyCode& c) const override {
        if (!TinyCode::small(io_.in[0]->size())) return false;
        TinyInstr i = instr(TinyInstr::sum_grad, {TinyCode::at(*io_.grad_out), TinyCode::at(*io_.grad_in[0])});
        i.add = io_.add[0];
        c.push(i);
        return true;
    }

private:
    TinyInstr instr(TinyInstr::Code code, std::array<void* const*, 5> p) const {
        TinyInstr i{code};
        i.outer = r_.outer;
        i.n = r_.n;
        i.inner = r_.inner;
        i.param = scale_;
        i.p = p;
        return i;
    }

    Lines r_;
    double scale_;
};

Tensor reduce(Reduce kind, const Tensor& x, const Axes& axes, bool keepdims) {
    const char* op = name_of(kind);
    const AxesPlan plan = plan_axes(op, x->shape, axes);
    const Lines l = plan.lines;
    if ((kind == Reduce::max || kind == Reduce::min) && l.n == 0 && l.outer * l.inner > 0)
        throw std::invalid_argument(std::string(op) + ": cannot reduce an empty axis of an array of shape " +
                                    x->shape.str() + " (the result has no value)");
    const double scale = kind != Reduce::mean ? 1.0
                         : l.n > 0            ? 1.0 / static_cast<double>(l.n)
                                              : std::numeric_limits<double>::quiet_NaN();
    const Tensor xc = to_lines(plan, x);
    const Shape out_shape = reduced_shape(plan, x->shape, keepdims);
    Tensor out = empty(x->dtype, out_shape);
    dispatch(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        const T* xp = xc->ptr<T>();
        T* op_ = out->ptr<T>();
        switch (kind) {
            case Reduce::sum:
            case Reduce::mean: return kernels::reduce_sum<T>(l.outer, l.n, l.inner, xp, static_cast<T>(scale), op_);
            case Reduce::max:
            case Reduce::min: return kernels::reduce_extreme<T>(kind == Reduce::max, l.outer, l.n, l.inner, xp, op_);
            case Reduce::prod: return kernels::reduce_prod<T>(l.outer, l.n, l.inner, xp, op_);
            case Reduce::logsumexp: return kernels::logsumexp_forward<T>(l.outer, l.n, l.inner, xp, op_);
        }
    });
    return record_if_traced(
        out, {&x},
        [&] {
            const bool saves = saves_values(kind);
            return std::make_unique<ReduceNode>(kind, plan, x->shape, scale, saves ? xc : Tensor{}, saves ? out : Tensor{});
        },
        [&] { return Replay([kind, axes, keepdims](const OpInputs& in) { return reduce(kind, in[0], axes, keepdims); }); },
        [&] {
            if (saves_values(kind) || plan.permuted) return MakeFlat{};
            return MakeFlat([l, scale](const FlatArgs& io) { return make_flat<FlatReduce>(io, l, scale); });
        });
}

}  // namespace

Tensor sum(const Tensor& x, const Axes& dims, bool keepdims) { return reduce(Reduce::sum, x, dims, keepdims); }
Tensor mean(const Tensor& x, const Axes& dims, bool keepdims) { return reduce(Reduce::mean, x, dims, keepdims); }
Tensor max(const Tensor& x, const Axes& dims, bool keepdims) { return reduce(Reduce::max, x, dims, keepdims); }
Tensor min(const Tensor& x, const Axes& dims, bool keepdims) { return reduce(Reduce::min, x, dims, keepdims); }
Tensor prod(const Tensor& x, const Axes& dims, bool keepdims) { return reduce(Reduce::prod, x, dims, keepdims); }
Tensor logsumexp(const Tensor& x, const Axes& dims, bool keepdims) {
    return reduce(Reduce::logsumexp, x, dims, keepdims);
}

}  // namespace pyflux::autodiff
