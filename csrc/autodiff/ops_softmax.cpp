// softmax and logsoftmax over one axis, several axes, or all elements (laid out by axes.hpp); both
// save their output for the backward rule.
#include <stdexcept>
#include <string>

#include "autodiff/axes.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/softmax.hpp"

namespace pyflux::autodiff {
namespace {

AxesPlan plan_for(const char* op, const Shape& shape, const Axes& axes) {
    if (axes && shape.ndim == 0) throw std::invalid_argument(std::string(op) + ": expects an array, got a scalar");
    return plan_axes(op, shape, axes);
}

template <class Run>
Tensor through_plan(const AxesPlan& plan, const Tensor& in, Run&& run) {
    return from_lines(plan, run(to_lines(plan, in)));
}

class SoftmaxNode : public Node {
public:
    SoftmaxNode(bool log, AxesPlan plan, Tensor y) : log_(log), plan_(plan), y_(std::move(y)) {}

    void backward(const Tensor& g, Tape& tape) override {
        const Lines l = plan_.lines;
        // The saved output in the kernel's layout.
        const Tensor y = to_lines(plan_, y_);
        Tensor dx = through_plan(plan_, g, [&](const Tensor& gc) {
            Tensor out = empty(gc->dtype, gc->shape);
            dispatch(gc->dtype, [&](auto tag) {
                using T = decltype(tag);
                if (log_)
                    kernels::logsoftmax_backward<T>(l.outer, l.n, l.inner, gc->ptr<T>(), y->ptr<T>(), out->ptr<T>());
                else
                    kernels::softmax_backward<T>(l.outer, l.n, l.inner, gc->ptr<T>(), y->ptr<T>(), out->ptr<T>());
            });
            return out;
        });
        tape.accumulate(input_ids[0], dx);
    }

private:
    bool log_;
    AxesPlan plan_;
    Tensor y_;
};

// Over fixed buffers, for axes that sit as one block (a permuted plan has no flat form).
template <class T>
class FlatSoftmax : public FlatOp {
public:
    FlatSoftmax(const FlatArgs& io, bool log, Lines lines) : FlatOp(io), log_(log), l_(lines) {}

    void forward() override {
        const T* x = io_.in[0]->ptr<T>();
        T* y = io_.out->ptr<T>();
        if (log_) return kernels::logsoftmax_forward<T>(l_.outer, l_.n, l_.inner, x, y);
        kernels::softmax_forward<T>(l_.outer, l_.n, l_.inner, x, y);
    }
    void backward() override {
        const T* g = io_.grad_out->ptr<T>();
        const T* y = io_.out->ptr<T>();
        if (log_)
            kernels::logsoftmax_backward<T>(l_.outer, l_.n, l_.inner, g, y, grad<T>(0));
        else
            kernels::softmax_backward<T>(l_.outer, l_.n, l_.inner, g, y, grad<T>(0));
        done<T>(0);
    }

private:
    bool log_;
    Lines l_;
};

Tensor normalise(bool log, const Tensor& x, const std::optional<std::vector<int>>& axes) {
    const AxesPlan plan = plan_for(log ? "logsoftmax" : "softmax", x->shape, axes);
    const Lines l = plan.lines;
    Tensor y = through_plan(plan, x, [&](const Tensor& xc) {
        Tensor out = empty(xc->dtype, xc->shape);
        dispatch(xc->dtype, [&](auto tag) {
            using T = decltype(tag);
            if (log)
                kernels::logsoftmax_forward<T>(l.outer, l.n, l.inner, xc->ptr<T>(), out->ptr<T>());
            else
                kernels::softmax_forward<T>(l.outer, l.n, l.inner, xc->ptr<T>(), out->ptr<T>());
        });
        return out;
    });
    return record_if_traced(y, {&x}, [&] { return std::make_unique<SoftmaxNode>(log, plan, y); },
                            [&] { return Replay([log, axes](const OpInputs& in) { return normalise(log, in[0], axes); }); },
                            [&] {
                                if (plan.permuted) return MakeFlat{};
                                return MakeFlat([log, l](const FlatArgs& io) { return make_flat<FlatSoftmax>(io, log, l); });
                            });
}

}  // namespace

Tensor softmax(const Tensor& x, const std::optional<std::vector<int>>& axes) { return normalise(false, x, axes); }
Tensor logsoftmax(const Tensor& x, const std::optional<std::vector<int>>& axes) { return normalise(true, x, axes); }

}  // namespace pyflux::autodiff
