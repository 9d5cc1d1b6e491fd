// identity, relu, sigmoid, tanh as ops of their own; backward from the saved output.
#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"

namespace pyflux::autodiff {
namespace {

class ActivationNode : public Node {
public:
    ActivationNode(Activation act, Tensor y) : act_(act), y_(std::move(y)) {}

    void backward(const Tensor& g_in, Tape& tape) override {
        const Tensor g = contiguous(g_in);
        Tensor grad = empty(g->dtype, g->shape);
        dispatch(g->dtype, [&](auto tag) {
            using T = decltype(tag);
            kernels::activation_backward<T>(act_, g->size(), g->ptr<T>(), y_->ptr<T>(), grad->ptr<T>());
        });
        tape.accumulate(input_ids[0], grad);
    }

private:
    Activation act_;
    Tensor y_;
};

}  // namespace

Tensor activation(const Tensor& x_in, Activation act) {
    const Tensor x = contiguous(x_in);
    Tensor y = empty(x->dtype, x->shape);
    dispatch(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::activation_forward<T>(act, x->size(), x->ptr<T>(), y->ptr<T>());
    });
    return record_if_traced(y, {&x_in}, [&] { return std::make_unique<ActivationNode>(act, y); });
}

}  // namespace pyflux::autodiff
