// The activations as ops of their own. Each saves its output, or its input where the derivative
// needs it (kernels::needs_input; the table is in kernels/activations.hpp).
#include <cmath>
#include <stdexcept>
#include <string>

#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"

namespace pyflux::autodiff {
namespace {

class ActivationNode : public Node {
public:
    ActivationNode(Activation act, double param, Tensor saved)
        : act_(act), param_(param), saved_(std::move(saved)) {}

    // grad = g * act'(x), from the saved x or y.
    void backward(const Tensor& g_in, Tape& tape) override {
        const Tensor g = contiguous(g_in);
        Tensor grad = empty(g->dtype, g->shape);
        dispatch(g->dtype, [&](auto tag) {
            using T = decltype(tag);
            kernels::activation_backward<T>(act_, param_, g->size(), g->ptr<T>(), saved_->ptr<T>(), grad->ptr<T>());
        });
        tape.accumulate(input_ids[0], grad);
    }

private:
    Activation act_;
    double param_;
    Tensor saved_;
};

}  // namespace

void check_activation_param(const char* op, Activation act, double param) {
    // The output-based derivatives read the branch from the sign of y, which needs these signs.
    const char* what = nullptr;
    switch (act) {
        case Activation::leakyrelu: what = param >= 0 ? nullptr : "the slope a must be >= 0"; break;
        case Activation::elu: what = param >= 0 ? nullptr : "α must be >= 0"; break;
        case Activation::celu: what = param > 0 ? nullptr : "α must be > 0"; break;
        case Activation::softshrink: what = param >= 0 ? nullptr : "λ must be >= 0"; break;
        default: return;
    }
    if (std::isnan(param)) what = "the parameter must not be NaN";
    if (what) throw std::invalid_argument(std::string(op) + ": " + what + ", got " + std::to_string(param));
}

Tensor activation(const Tensor& x_in, Activation act, double param) {
    const Tensor x = contiguous(x_in);
    Tensor y = empty(x->dtype, x->shape);
    dispatch(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::activation_forward<T>(act, param, x->size(), x->ptr<T>(), y->ptr<T>());
    });
    return record_if_traced(y, {&x_in}, [&] {
        return std::make_unique<ActivationNode>(act, param, kernels::needs_input(act) ? x : y);
    });
}

}  // namespace pyflux::autodiff
