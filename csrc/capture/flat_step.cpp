#include "capture/flat_step.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "kernels/elementwise.hpp"

namespace pyflux::capture {

std::unique_ptr<FlatStep> FlatStep::make(const std::vector<Tensor>& values,
                                         const std::vector<std::pair<Shape, DType>>& types, std::size_t params,
                                         const std::vector<int>& data_slots, const std::vector<bool>& data_transposed,
                                         const std::vector<OpSpec>& ops, int loss_slot) {
    std::unique_ptr<FlatStep> step(new FlatStep(values.size(), data_slots, loss_slot));
    if (!step->place_values(values, types, params, data_transposed)) return nullptr;
    std::vector<autodiff::FlatArgs> args = step->plan_gradients(types, params, ops);
    if (!step->make_ops(types, ops, args)) return nullptr;
    step->lower();
    return step;
}

FlatBuf& FlatStep::own(FlatBuf& buf, const Shape& shape, DType dtype) {
    memory_.push_back(autodiff::empty(dtype, shape));
    buf = {memory_.back()->data, shape, dtype};
    return buf;
}

bool FlatStep::place_values(const std::vector<Tensor>& values, const std::vector<std::pair<Shape, DType>>& types,
                            std::size_t params, const std::vector<bool>& data_transposed) {
    for (std::size_t s = 0; s < values.size(); ++s) {
        const auto& [shape, dtype] = types[s];
        values_[s] = {nullptr, shape, dtype};
        const auto datum = std::find(data_slots_.begin(), data_slots_.end(), static_cast<int>(s));
        if (datum != data_slots_.end()) {  // pointed at each step's data
            values_[s].transposed = data_transposed[static_cast<std::size_t>(datum - data_slots_.begin())];
        } else if (!values[s]) {
            own(values_[s], shape, dtype);  // an op's output
        } else if (s < params) {
            if (!values[s]->is_contiguous()) return false;
            values_[s].data = values[s]->data;
            params_.push_back(values[s]);
        } else {
            memory_.push_back(autodiff::contiguous(values[s]));  // a constant
            values_[s].data = memory_.back()->data;
        }
    }
    return true;
}

std::vector<autodiff::FlatArgs> FlatStep::plan_gradients(const std::vector<std::pair<Shape, DType>>& types,
                                                         std::size_t params, const std::vector<OpSpec>& ops) {
    // A slot's gradient is computed when it depends on a parameter and the loss depends on it.
    const std::size_t slots = values_.size();
    std::vector<bool> depends(slots, false), counts(slots, false), written(slots, false);
    for (std::size_t s = 0; s < params; ++s) depends[s] = true;
    for (const OpSpec& op : ops)
        for (int in : op.in) depends[op.out] = depends[op.out] || (in >= 0 && depends[in]);
    counts[loss_slot_] = true;
    for (auto op = ops.rbegin(); op != ops.rend(); ++op)
        if (counts[op->out])
            for (int in : op->in)
                if (in >= 0) counts[in] = true;
    for (std::size_t s = 0; s < slots; ++s) {
        const bool wanted = depends[s] && counts[s];
        if (wanted) own(grads_[s], types[s].first, types[s].second);
        if (s < params) param_grads_.push_back(wanted ? memory_.back() : Tensor{});
    }
    // The sweep runs the ops in reverse; the first to reach a gradient writes it, later ones add.
    written[loss_slot_] = true;
    std::vector<autodiff::FlatArgs> args(ops.size());
    for (std::size_t i = ops.size(); i-- > 0;) {
        const OpSpec& op = ops[i];
        autodiff::FlatArgs& a = args[i];
        a.out = &values_[op.out];
        if (grads_[op.out].data) a.grad_out = &grads_[op.out];
        for (int k = 0; k < 3; ++k) {
            if (op.in[k] < 0) continue;
            a.in[k] = &values_[op.in[k]];
            if (!a.grad_out || !grads_[op.in[k]].data) continue;
            a.grad_in[k] = &grads_[op.in[k]];
            a.add[k] = written[op.in[k]];
            written[op.in[k]] = true;
        }
    }
    return args;
}

bool FlatStep::make_ops(const std::vector<std::pair<Shape, DType>>& types, const std::vector<OpSpec>& ops,
                        std::vector<autodiff::FlatArgs>& args) {
    std::vector<FlatBuf*> copies(values_.size(), nullptr);  // by data slot: its contiguous copy, once needed
    for (std::size_t i = 0; i < ops.size(); ++i) {
        std::unique_ptr<autodiff::FlatOp> op = (*ops[i].make)(args[i]);
        bool copied = false;
        // An op that reads no transposed input gets contiguous copies of the transposed data.
        for (int k = 0; k < 3 && !op; ++k) {
            const int in = ops[i].in[k];
            if (in < 0 || !values_[in].transposed) continue;
            if (!copies[in]) {
                copies_.emplace_back(&values_[in], FlatBuf{});
                copies[in] = &own(copies_.back().second, types[in].first, types[in].second);
            }
            args[i].in[k] = copies[in];
            copied = true;
        }
        if (copied) op = (*ops[i].make)(args[i]);
        if (!op) return false;
        forward_.push_back(std::move(op));
    }
    for (std::size_t i = ops.size(); i-- > 0;)
        if (args[i].grad_out) backward_.push_back(forward_[i].get());
    return true;
}

void FlatStep::lower() {
    const DType dtype = values_[static_cast<std::size_t>(loss_slot_)].dtype;
    for (const FlatBuf& v : values_)
        if (v.dtype != dtype) return;
    autodiff::TinyCode forward{dtype}, backward{dtype};
    for (const auto& op : forward_)
        if (!op->lower_forward(forward)) return;
    for (const autodiff::FlatOp* op : backward_)
        if (!op->lower_backward(backward)) return;
    tiny_forward_ = std::move(forward);
    tiny_backward_ = std::move(backward);
    tiny_ = true;
}

void FlatStep::use(const std::vector<optimisers::Optimiser*>& optimisers) {
    if (optimisers.size() != params_.size())
        throw std::invalid_argument("capture: a step needs one optimiser per parameter");
    for (std::size_t k = 0; k < params_.size(); ++k)
        if (optimisers[k] && param_grads_[k]) optimisers[k]->check(params_[k], param_grads_[k]);
    descents_ = {tiny_forward_.dtype, {}};
    updates_.clear();
    descent_params_.clear();
    for (std::size_t k = 0; k < params_.size(); ++k) {
        optimisers::Optimiser* opt = optimisers[k];
        if (!opt || !param_grads_[k] || opt->frozen) continue;
        // A parameter past the loops' size (a product's operand may be) keeps the rule's vectorised update.
        const std::optional<double> eta = opt->descent_rate();
        if (!tiny_ || !eta || !autodiff::TinyCode::small(params_[k]->size())) {
            updates_.emplace_back(opt, k);
            continue;
        }
        autodiff::TinyInstr i{autodiff::TinyInstr::descent};
        i.n = params_[k]->size();
        i.param = *eta;
        i.p = {autodiff::TinyCode::at(param_grads_[k]), autodiff::TinyCode::at(params_[k])};
        descents_.push(i);
        descent_params_.push_back(k);
    }
}

namespace {

// to = from laid out C-contiguous (from is transposed: [rows x cols] stored as [cols x rows]).
void untranspose(const FlatBuf& from, FlatBuf& to) {
    const autodiff::index_t rows = from.shape[0], cols = from.shape[1];
    const autodiff::index_t from_strides[2] = {1, rows}, to_strides[2] = {cols, 1};
    autodiff::dispatch(from.dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::strided_copy<T>(2, from.shape.dims.data(), from.ptr<T>(), from_strides, to.ptr<T>(), to_strides);
    });
}

}  // namespace

double FlatStep::step(const void* const* data) {
    for (std::size_t k = 0; k < data_slots_.size(); ++k) values_[data_slots_[k]].data = const_cast<void*>(data[k]);
    for (auto& [from, to] : copies_) untranspose(*from, to);
    if (tiny_)
        tiny_forward_.run();
    else
        for (const auto& op : forward_) op->forward();
    const FlatBuf& loss = values_[loss_slot_];
    const double value = loss.dtype == DType::f32 ? static_cast<double>(*loss.ptr<float>()) : *loss.ptr<double>();
    if (!std::isfinite(value)) return value;
    const FlatBuf& seed = grads_[loss_slot_];
    if (!seed.data) return value;  // the loss depends on no parameter
    if (seed.dtype == DType::f32)
        *seed.ptr<float>() = 1.0f;
    else
        *seed.ptr<double>() = 1.0;
    if (tiny_)
        tiny_backward_.run();
    else
        for (autodiff::FlatOp* op : backward_) op->backward();
    descents_.run();
    for (const auto& [opt, k] : updates_) opt->apply(params_[k]->data, param_grads_[k]->data, nullptr);
    return value;
}

}  // namespace pyflux::capture
