// The elementwise unary ops of the table (math functions and activations): one node type that
// saves the input, the output or nothing, as the table says.
#include <stdexcept>
#include <string>

#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"

namespace pyflux::autodiff {
namespace {

class UnaryNode : public Node {
public:
    UnaryNode(UnaryOp op, double param, Tensor saved) : op_(op), param_(param), saved_(std::move(saved)) {}

    // grad = g * f'(x), from the saved x or y.
    void backward(const Tensor& g_in, Tape& tape) override {
        const Tensor g = contiguous(g_in);
        Tensor grad = empty(g->dtype, g->shape);
        dispatch(g->dtype, [&](auto tag) {
            using T = decltype(tag);
            kernels::unary_backward<T>(op_, param_, g->size(), g->ptr<T>(), saved_ ? saved_->ptr<T>() : nullptr,
                                       grad->ptr<T>());
        });
        tape.accumulate(input_ids[0], grad);
    }

private:
    UnaryOp op_;
    double param_;
    Tensor saved_;
};

template <class T>
class FlatUnary : public FlatOp {
public:
    FlatUnary(const FlatArgs& io, UnaryOp op, double param)
        : FlatOp(io), op_(op), param_(param),
          saved_(kernels::saves(op) == kernels::Saves::input ? io.in[0] : io.out) {}

    void forward() override { kernels::unary_forward<T>(op_, param_, io_.out->size(), io_.in[0]->ptr<T>(), io_.out->ptr<T>()); }
    void backward() override {
        kernels::unary_backward<T>(op_, param_, io_.out->size(), io_.grad_out->ptr<T>(), saved_->ptr<T>(), grad<T>(0));
        done<T>(0);
    }
    bool lower_forward(TinyCode& c) const override {
        if (!TinyCode::small(io_.out->size())) return false;
        c.push(instr(TinyInstr::unary, {TinyCode::at(*io_.in[0]), TinyCode::at(*io_.out)}));
        return true;
    }
    bool lower_backward(TinyCode& c) const override {
        if (!TinyCode::small(io_.out->size())) return false;
        TinyInstr i = instr(TinyInstr::unary_grad, {TinyCode::at(*io_.grad_out), TinyCode::at(*saved_), TinyCode::at(*io_.grad_in[0])});
        i.add = io_.add[0];
        c.push(i);
        return true;
    }

private:
    TinyInstr instr(TinyInstr::Code code, std::array<void* const*, 5> p) const {
        TinyInstr i{code};
        i.op = static_cast<std::uint8_t>(op_);
        i.n = io_.out->size();
        i.param = param_;
        i.p = p;
        return i;
    }

    UnaryOp op_;
    double param_;
    const FlatBuf* saved_;
};

}  // namespace

void check_unary_param(const char* op, UnaryOp code, double param) {
    if (const char* what = kernels::invalid_param(code, param))
        throw std::invalid_argument(std::string(op) + ": " + what + ", got " + std::to_string(param));
}

Tensor unary(const Tensor& x_in, UnaryOp op, double param) {
    const Tensor x = contiguous(x_in);
    Tensor y = empty(x->dtype, x->shape);
    dispatch(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::unary_forward<T>(op, param, x->size(), x->ptr<T>(), y->ptr<T>());
    });
    return record_if_traced(y, {&x_in}, [&] {
        const kernels::Saves saves = kernels::saves(op);
        return std::make_unique<UnaryNode>(op, param, saves == kernels::Saves::input    ? x
                                                      : saves == kernels::Saves::output ? y
                                                                                        : Tensor{});
    }, [&] { return Replay([op, param](const OpInputs& in) { return unary(in[0], op, param); }); },
    [&] { return MakeFlat([op, param](const FlatArgs& io) { return make_flat<FlatUnary>(io, op, param); }); });
}

}  // namespace pyflux::autodiff
