// softmax and logsoftmax along one axis; both save their output for the backward rule.
#include <stdexcept>

#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/softmax.hpp"

namespace pyflux::autodiff {
namespace {

struct Lines {
    index_t outer = 1, n = 1, inner = 1;
};

Lines lines_along(const char* op, const Shape& shape, int axis) {
    if (shape.ndim == 0) throw std::invalid_argument(std::string(op) + ": expects an array, got a scalar");
    const int a = axis < 0 ? axis + shape.ndim : axis;
    if (a < 0 || a >= shape.ndim)
        throw std::out_of_range(std::string(op) + ": dims " + std::to_string(axis) + " is out of bounds for shape " +
                                shape.str());
    Lines l;
    for (int d = 0; d < shape.ndim; ++d) {
        if (d < a) l.outer *= shape[d];
        if (d > a) l.inner *= shape[d];
    }
    l.n = shape[a];
    return l;
}

class SoftmaxNode : public Node {
public:
    SoftmaxNode(bool log, Lines lines, Tensor y) : log_(log), lines_(lines), y_(std::move(y)) {}

    void backward(const Tensor& g_in, Tape& tape) override {
        const Tensor g = contiguous(g_in);
        Tensor dx = empty(g->dtype, g->shape);
        dispatch(g->dtype, [&](auto tag) {
            using T = decltype(tag);
            if (log_)
                kernels::logsoftmax_backward<T>(lines_.outer, lines_.n, lines_.inner, g->ptr<T>(), y_->ptr<T>(), dx->ptr<T>());
            else
                kernels::softmax_backward<T>(lines_.outer, lines_.n, lines_.inner, g->ptr<T>(), y_->ptr<T>(), dx->ptr<T>());
        });
        tape.accumulate(input_ids[0], dx);
    }

private:
    bool log_;
    Lines lines_;
    Tensor y_;
};

Tensor normalise(bool log, const Tensor& x_in, int axis) {
    const Lines lines = lines_along(log ? "logsoftmax" : "softmax", x_in->shape, axis);
    const Tensor x = contiguous(x_in);
    Tensor y = empty(x->dtype, x->shape);
    dispatch(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        if (log)
            kernels::logsoftmax_forward<T>(lines.outer, lines.n, lines.inner, x->ptr<T>(), y->ptr<T>());
        else
            kernels::softmax_forward<T>(lines.outer, lines.n, lines.inner, x->ptr<T>(), y->ptr<T>());
    });
    return record_if_traced(y, {&x_in}, [&] { return std::make_unique<SoftmaxNode>(log, lines, y); });
}

}  // namespace

Tensor softmax(const Tensor& x, int axis) { return normalise(false, x, axis); }
Tensor logsoftmax(const Tensor& x, int axis) { return normalise(true, x, axis); }

}  // namespace pyflux::autodiff
