// The binary ops of the table (add, sub, mul, div, pow, ...) with numpy broadcasting; where; cast.
#include <stdexcept>

#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/elementwise.hpp"

namespace pyflux::autodiff {
namespace {

using kernels::BinaryOp;

const char* binary_name(BinaryOp op) {
    switch (op) {
#define PYFLUX_BINARY(name, doc) \
    case BinaryOp::name: return #name;
#include "autodiff/ops.def"
#undef PYFLUX_BINARY
    }
    throw std::logic_error("binary op without a table entry");
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
    Shape out;
    out.ndim = std::max(a.ndim, b.ndim);
    for (int d = 0; d < out.ndim; ++d) {
        const int da = d - (out.ndim - a.ndim), db = d - (out.ndim - b.ndim);
        const index_t sa = da >= 0 ? a[da] : 1, sb = db >= 0 ? b[db] : 1;
        if (sa != sb && sa != 1 && sb != 1)
            throw std::invalid_argument(std::string(op) + ": shapes " + a.str() + " and " + b.str() +
                                        " cannot be broadcast together");
        out.dims[d] = sa == 1 ? sb : sa;
    }
    return out;
}

// t's strides aligned to the trailing dimensions of out, 0 where t is broadcast.
Strides broadcast_strides(const Shape& t_shape, const Strides& t_strides, const Shape& out) {
    Strides s{};
    const int offset = out.ndim - t_shape.ndim;
    for (int d = 0; d < out.ndim; ++d) {
        const int dt = d - offset;
        s[d] = (dt < 0 || t_shape[dt] == 1) ? 0 : t_strides[dt];
    }
    return s;
}

// Sums g (shaped like the op's output) down to `shape`, undoing broadcasting.
Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
    if (g->shape == shape) return g;
    Tensor out = empty(g->dtype, shape);
    const Strides target = broadcast_strides(shape, out->strides, g->shape);
    dispatch(g->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::sum_to<T>(g->shape.ndim, g->shape.dims.data(), g->ptr<T>(), target.data(), out->size(), out->ptr<T>());
    });
    return out;
}

// add and sub need only the operands' shapes; mul, div and pow save the operands, and div and pow
// the output too.
class BinaryNode : public Node {
public:
    BinaryNode(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out)
        : op_(op), a_shape_(a->shape), b_shape_(b->shape) {
        if (op == BinaryOp::add || op == BinaryOp::sub) return;
        a_ = a;
        b_ = b;
        if (op == BinaryOp::div || op == BinaryOp::pow) out_ = out;
    }

    void backward(const Tensor& g, Tape& tape) override {
        if (op_ == BinaryOp::add || op_ == BinaryOp::sub) {
            // The derivatives are 1 and +-1: pass the gradient through, summed over broadcasting.
            if (input_ids[0] >= 0) tape.accumulate(input_ids[0], sum_to_shape(g, a_shape_));
            if (input_ids[1] >= 0) {
                Tensor gb = sum_to_shape(g, b_shape_);
                tape.accumulate(input_ids[1], op_ == BinaryOp::add ? gb : neg(gb));
            }
            return;
        }
        const Shape& shape = g->shape;
        const Strides sa = broadcast_strides(a_->shape, a_->strides, shape);
        const Strides sb = broadcast_strides(b_->shape, b_->strides, shape);
        for (int wrt = 0; wrt < 2; ++wrt) {
            if (input_ids[wrt] < 0) continue;
            Tensor partial = empty(g->dtype, shape);
            dispatch(g->dtype, [&](auto tag) {
                using T = decltype(tag);
                kernels::binary_backward<T>(op_, wrt, shape.ndim, shape.dims.data(), g->ptr<T>(), a_->ptr<T>(),
                                            sa.data(), b_->ptr<T>(), sb.data(), out_ ? out_->ptr<T>() : nullptr,
                                            partial->ptr<T>());
            });
            tape.accumulate(input_ids[wrt], sum_to_shape(partial, wrt == 0 ? a_shape_ : b_shape_));
        }
    }

private:
    BinaryOp op_;
    Shape a_shape_, b_shape_;
    Tensor a_, b_, out_;
};

// The same rules over fixed buffers; an input of another shape than the output gets its partial
// derivative summed down to its shape. Small operands that are whole or one value run loops chosen
// once (kernels::binary_loop), the others the broadcasting kernels.
template <class T>
class FlatBinary : public FlatOp {
public:
    FlatBinary(const FlatArgs& io, BinaryOp op) : FlatOp(io), op_(op) {
        const Shape& shape = io.out->shape;
        const index_t n = shape.size();
        bool loops = n < 2 * kernels::kGrain;
        std::array<bool, 2> whole{};
        for (int k = 0; k < 2; ++k) {
            const Shape& s = io.in[k]->shape;
            strides_[k] = broadcast_strides(s, contiguous_strides(s), shape);
            broadcast_[k] = s != shape;
            whole[k] = s.size() == n;
            loops = loops && (whole[k] || s.size() == 1);
            if (wants(k) && broadcast_[k] && !partial_) partial_ = empty(io.out->dtype, shape);
        }
        if (!loops) return;
        forward_loop_ = kernels::binary_loop<T>(op, whole[0], whole[1]);
        for (int k = 0; k < 2; ++k) grad_loops_[k] = kernels::binary_grad_loop<T>(op, k, whole[0], whole[1]);
    }

    void forward() override {
        const Shape& shape = io_.out->shape;
        const T* a = io_.in[0]->ptr<T>();
        const T* b = io_.in[1]->ptr<T>();
        if (forward_loop_) return forward_loop_(shape.size(), a, b, io_.out->ptr<T>());
        kernels::binary_forward<T>(op_, shape.ndim, shape.dims.data(), a, strides_[0].data(), b, strides_[1].data(),
                                   io_.out->ptr<T>());
    }
    void backward() override {
        const Shape& shape = io_.out->shape;
        const T* g = io_.grad_out->ptr<T>();
        const T* a = io_.in[0]->ptr<T>();
        const T* b = io_.in[1]->ptr<T>();
        for (int k = 0; k < 2; ++k) {
            if (!wants(k)) continue;
            T* target = grad<T>(k);
            T* partial = broadcast_[k] ? partial_->ptr<T>() : target;
            if (grad_loops_[k])
                grad_loops_[k](shape.size(), g, a, b, io_.out->ptr<T>(), partial);
            else
                kernels::binary_backward<T>(op_, k, shape.ndim, shape.dims.data(), g, a, strides_[0].data(), b,
                                            strides_[1].data(), io_.out->ptr<T>(), partial);
            if (broadcast_[k])  // the input's own strides are those of its contiguous buffer
                kernels::sum_to<T>(shape.ndim, shape.dims.data(), partial, strides_[k].data(), io_.in[k]->size(), target);
            done<T>(k);
        }
    }
    bool lower_forward(TinyCode& c) const override {
        if (!lowers()) return false;
        c.push(instr(TinyInstr::binary, {TinyCode::at(*io_.in[0]), TinyCode::at(*io_.in[1]), TinyCode::at(*io_.out)}));
        return true;
    }
    bool lower_backward(TinyCode& c) const override {
        if (!lowers()) return false;
        for (int k = 0; k < 2; ++k) {
            if (!wants(k)) continue;
            TinyInstr i = instr(whole(k) ? TinyInstr::binary_grad : TinyInstr::binary_grad_one,
                                {TinyCode::at(*io_.grad_out), TinyCode::at(*io_.in[0]), TinyCode::at(*io_.in[1]),
                                 TinyCode::at(*io_.out), TinyCode::at(*io_.grad_in[k])});
            i.wrt = static_cast<std::uint8_t>(k);
            i.add = io_.add[k];
            c.push(i);
        }
        return true;
    }

private:
    // Each operand whole or one value (then loops were chosen), and few elements for scalar loops.
    bool lowers() const { return forward_loop_ && TinyCode::small(io_.out->size()); }
    TinyInstr instr(TinyInstr::Code code, std::array<void* const*, 5> p) const {
        TinyInstr i{code};
        i.op = static_cast<std::uint8_t>(op_);
        i.n = io_.out->size();
        i.sa = whole(0) ? 1 : 0;
        i.sb = whole(1) ? 1 : 0;
        i.p = p;
        return i;
    }
    // Whether input k has as many elements as the output (else it has one: loops were chosen).
    // Its shape may still differ, (3,) against (1, 3).
    bool whole(int k) const { return io_.in[k]->size() == io_.out->size(); }

    BinaryOp op_;
    std::array<Strides, 2> strides_{};
    std::array<bool, 2> broadcast_{};
    Tensor partial_;
    kernels::BinaryLoop<T> forward_loop_ = nullptr;
    std::array<kernels::BinaryGradLoop<T>, 2> grad_loops_{};
};

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
    const char* name = binary_name(op);
    if (a->dtype != b->dtype)
        throw std::invalid_argument(std::string(name) + ": dtypes " + dtype_name(a->dtype) + " and " +
                                    dtype_name(b->dtype) + " differ; cast one operand first");
    const Shape shape = broadcast_shapes(name, a->shape, b->shape);
    Tensor out = empty(a->dtype, shape);
    const Strides sa = broadcast_strides(a->shape, a->strides, shape);
    const Strides sb = broadcast_strides(b->shape, b->strides, shape);
    dispatch(a->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::binary_forward<T>(op, shape.ndim, shape.dims.data(), a->ptr<T>(), sa.data(), b->ptr<T>(),
                                   sb.data(), out->ptr<T>());
    });
    return record_if_traced(out, {&a, &b}, [&] { return std::make_unique<BinaryNode>(op, a, b, out); },
                            [&] { return Replay([op](const OpInputs& in) { return binary(op, in[0], in[1]); }); },
                            [&] { return MakeFlat([op](const FlatArgs& io) { return make_flat<FlatBinary>(io, op); }); });
}

// where's gradient goes to a where cond holds and to b elsewhere; cond is a constant.
class WhereNode : public Node {
public:
    WhereNode(Tensor cond, Shape a_shape, Shape b_shape)
        : cond_(std::move(cond)), a_shape_(a_shape), b_shape_(b_shape) {}

    void backward(const Tensor& g_in, Tape& tape) override {
        const Tensor g = contiguous(g_in);
        const Strides sc = broadcast_strides(cond_->shape, cond_->strides, g->shape);
        for (int wrt = 0; wrt < 2; ++wrt) {
            if (input_ids[wrt] < 0) continue;
            Tensor partial = empty(g->dtype, g->shape);
            dispatch(g->dtype, [&](auto tag) {
                using T = decltype(tag);
                kernels::select_backward<T>(wrt == 0, g->shape.ndim, g->shape.dims.data(), g->ptr<T>(), cond_->ptr<T>(),
                                            sc.data(), partial->ptr<T>());
            });
            tape.accumulate(input_ids[wrt], sum_to_shape(partial, wrt == 0 ? a_shape_ : b_shape_));
        }
    }

private:
    Tensor cond_;
    Shape a_shape_, b_shape_;
};

// The gradient comes back in the input's dtype.
class CastNode : public Node {
public:
    explicit CastNode(DType from) : from_(from) {}
    void backward(const Tensor& g, Tape& tape) override { tape.accumulate(input_ids[0], converted(g, from_)); }

private:
    DType from_;
};

}  // namespace

#define PYFLUX_BINARY(name, doc) \
    Tensor name(const Tensor& a, const Tensor& b) { return binary(BinaryOp::name, a, b); }
#include "autodiff/ops.def"
#undef PYFLUX_BINARY

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
    if (a->dtype != b->dtype || cond->dtype != a->dtype)
        throw std::invalid_argument(std::string("where: dtypes ") + dtype_name(cond->dtype) + ", " + dtype_name(a->dtype) +
                                    " and " + dtype_name(b->dtype) + " differ");
    Shape shape;
    try {
        shape = broadcast_shapes("where", broadcast_shapes("where", cond->shape, a->shape), b->shape);
    } catch (const std::invalid_argument&) {
        throw std::invalid_argument("where: shapes " + cond->shape.str() + " (cond), " + a->shape.str() + " (a) and " +
                                    b->shape.str() + " (b) cannot be broadcast together");
    }
    Tensor out = empty(a->dtype, shape);
    const Strides sc = broadcast_strides(cond->shape, cond->strides, shape);
    const Strides sa = broadcast_strides(a->shape, a->strides, shape);
    const Strides sb = broadcast_strides(b->shape, b->strides, shape);
    dispatch(a->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::select_forward<T>(shape.ndim, shape.dims.data(), cond->ptr<T>(), sc.data(), a->ptr<T>(), sa.data(),
                                   b->ptr<T>(), sb.data(), out->ptr<T>());
    });
    return record_if_traced(out, {&a, &b, &cond}, [&] { return std::make_unique<WhereNode>(cond, a->shape, b->shape); },
                            [&] { return Replay([](const OpInputs& in) { return where(in[2], in[0], in[1]); }); });
}

Tensor cast(const Tensor& x, DType dtype) {
    if (x->dtype == dtype) return x;
    Tensor out = converted(x, dtype);
    return record_if_traced(out, {&x}, [&] { return std::make_unique<CastNode>(x->dtype); },
                            [&] { return Replay([dtype](const OpInputs& in) { return cast(in[0], dtype); }); });
}

}  // namespace pyflux::autodiff
