// softmax and logsoftmax over one axis, several axes, or all elements; both save their output for
// the backward rule. The kernels normalise the middle axis of an [outer x n x inner] block, which
// covers any set of adjacent axes; other sets go through a permuted contiguous copy with the
// normalised axes last.
#include <algorithm>
#include <stdexcept>

#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/softmax.hpp"

namespace pyflux::autodiff {
namespace {

struct Lines {
    index_t outer = 1, n = 1, inner = 1;
};

// How the normalised axes sit: as one block of adjacent axes (permuted = false), or needing the
// permutation `order` (kept axes, then normalised ones) to become the trailing block.
struct Plan {
    Lines lines;
    bool permuted = false;
    std::array<int, kMaxDims> order{};
};

Plan plan_for(const char* op, const Shape& shape, const std::optional<std::vector<int>>& axes) {
    std::array<bool, kMaxDims> normalised{};
    if (!axes) {
        normalised.fill(true);
    } else {
        if (shape.ndim == 0) throw std::invalid_argument(std::string(op) + ": expects an array, got a scalar");
        for (int axis : *axes) {
            const int a = axis < 0 ? axis + shape.ndim : axis;
            if (a < 0 || a >= shape.ndim)
                throw std::out_of_range(std::string(op) + ": dims " + std::to_string(axis) +
                                        " is out of bounds for shape " + shape.str());
            if (normalised[a]) throw std::invalid_argument(std::string(op) + ": dims repeats axis " + std::to_string(a));
            normalised[a] = true;
        }
    }
    Plan plan;
    int first = shape.ndim, last = -1;
    for (int d = 0; d < shape.ndim; ++d)
        if (normalised[d]) first = std::min(first, d), last = std::max(last, d);
    bool adjacent = true;
    for (int d = first; d <= last; ++d) adjacent = adjacent && normalised[d];
    if (adjacent) {
        for (int d = 0; d < shape.ndim; ++d) {
            if (d < first) plan.lines.outer *= shape[d];
            else if (d > last) plan.lines.inner *= shape[d];
            else plan.lines.n *= shape[d];
        }
        return plan;
    }
    plan.permuted = true;
    int k = 0;
    for (int d = 0; d < shape.ndim; ++d)
        if (!normalised[d]) plan.order[k++] = d, plan.lines.outer *= shape[d];
    for (int d = 0; d < shape.ndim; ++d)
        if (normalised[d]) plan.order[k++] = d, plan.lines.n *= shape[d];
    return plan;
}

// t's axes in `order` (a view), or the inverse permutation of a tensor so permuted.
Tensor permute(const Tensor& t, const std::array<int, kMaxDims>& order, bool inverse) {
    Shape shape;
    shape.ndim = t->shape.ndim;
    Strides strides{};
    for (int d = 0; d < shape.ndim; ++d) {
        const int from = inverse ? d : order[d], to = inverse ? order[d] : d;
        shape.dims[to] = t->shape[from];
        strides[to] = t->strides[from];
    }
    return contiguous(view(t, shape, strides, 0));
}

template <class Run>
Tensor through_plan(const Plan& plan, const Tensor& in, Run&& run) {
    if (!plan.permuted) return run(contiguous(in));
    return permute(run(permute(in, plan.order, false)), plan.order, true);
}

class SoftmaxNode : public Node {
public:
    SoftmaxNode(bool log, Plan plan, Tensor y) : log_(log), plan_(plan), y_(std::move(y)) {}

    void backward(const Tensor& g, Tape& tape) override {
        const Lines l = plan_.lines;
        // The saved output in the kernel's layout.
        const Tensor y = plan_.permuted ? permute(y_, plan_.order, false) : y_;
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
    Plan plan_;
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
    const Plan plan = plan_for(log ? "logsoftmax" : "softmax", x->shape, axes);
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
