#include "capture/flat_step.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace pyflux::capture {

std::unique_ptr<FlatStep> FlatStep::make(const std::vector<Tensor>& values,
                                         const std::vector<std::pair<Shape, DType>>& types, std::size_t params,
                                         const std::vector<int>& data_slots, const std::vector<bool>& data_transposed,
                                         const std::vector<OpSpec>& ops, int loss_slot) {
    const std::size_t slots = values.size();
    std::unique_ptr<FlatStep> step(new FlatStep(slots, data_slots, loss_slot));
    auto& values_ = step->values_;
    auto& grads_ = step->grads_;
    auto& memory_ = step->memory_;
    auto& params_ = step->params_;
    auto& param_grads_ = step->param_grads_;
    auto own = [&](FlatBuf& buf, const Shape& shape, DType dtype) {
        memory_.push_back(autodiff::empty(dtype, shape));
        buf = {memory_.back()->data, shape, dtype};
        return memory_.back();
    };
    for (std::size_t s = 0; s < slots; ++s) {
        const auto& [shape, dtype] = types[s];
        values_[s] = {nullptr, shape, dtype};
        const auto datum = std::find(data_slots.begin(), data_slots.end(), static_cast<int>(s));
        if (datum != data_slots.end()) {
            values_[s].transposed = data_transposed[static_cast<std::size_t>(datum - data_slots.begin())];
            continue;
        }
        if (!values[s]) {
            own(values_[s], shape, dtype);  // an op's output
        } else if (s < params) {
            if (!values[s]->is_contiguous()) return nullptr;
            values_[s].data = values[s]->data;
            params_.push_back(values[s]);
        } else {
            memory_.push_back(autodiff::contiguous(values[s]));  // a constant
            values_[s].data = memory_.back()->data;
        }
    }
    // A slot's gradient is computed when it depends on a parameter and the loss depends on it.
    std::vector<bool> depends(slots, false), counts(slots, false), written(slots, false);
    for (std::size_t s = 0; s < params; ++s) depends[s] = true;
    for (const OpSpec& op : ops)
        for (int in : op.in) depends[op.out] = depends[op.out] || (in >= 0 && depends[in]);
    counts[loss_slot] = true;
    for (auto op = ops.rbegin(); op != ops.rend(); ++op)
        if (counts[op->out])
            for (int in : op->in)
                if (in >= 0) counts[in] = true;
    for (std::size_t s = 0; s < slots; ++s) {
        Tensor grad = depends[s] && counts[s] ? own(grads_[s], types[s].first, types[s].second) : Tensor{};
        if (s < params) param_grads_.push_back(grad);
    }
    // The sweep runs the ops in reverse; the first to reach a gradient writes it, later ones add.
    written[loss_slot] = true;
    std::vector<autodiff::FlatArgs> args(ops.size());
    for (std::size_t i = ops.size(); i-- > 0;) {
        const OpSpec& op = ops[i];
        autodiff::FlatArgs& a = args[i];
        a.out = &values_[op.out];
        for (int k = 0; k < 3; ++k) {
            if (op.in[k] < 0) continue;
            a.in[k] = &values_[op.in[k]];
            if (!grads_[op.out].data || !grads_[op.in[k]].data) continue;
            a.grad_in[k] = &grads_[op.in[k]];
            a.add[k] = written[op.in[k]];
            written[op.in[k]] = true;
        }
        if (grads_[op.out].data) a.grad_out = &grads_[op.out];
    }
    std::vector<FlatBuf*> copies(slots, nullptr);  // by data slot: its contiguous copy, once one is needed
    for (std::size_t i = 0; i < ops.size(); ++i) {
        std::unique_ptr<autodiff::FlatOp> op = (*ops[i].make)(args[i]);
        if (!op) {
            // An op that reads no transposed input gets contiguous copies of the transposed data.
            bool copied = false;
            for (int k = 0; k < 3; ++k) {
                const int in = ops[i].in[k];
                if (in < 0 || !values_[in].transposed) continue;
                if (!copies[in]) {
                    step->copies_.emplace_back(&values_[in], FlatBuf{});
                    FlatBuf& copy = step->copies_.back().second;
                    own(copy, types[in].first, types[in].second);
                    copies[in] = &copy;
                }
                args[i].in[k] = copies[in];
                copied = true;
            }
            if (copied) op = (*ops[i].make)(args[i]);
        }
        if (!op) return nullptr;
        step->forward_.push_back(std::move(op));
    }
    for (std::size_t i = ops.size(); i-- > 0;)
        if (args[i].grad_out) step->backward_.push_back(step->forward_[i].get());
    return step;
}

void FlatStep::check(const std::vector<optimisers::Optimiser*>& optimisers) const {
    if (optimisers.size() != params_.size())
        throw std::invalid_argument("capture: a step needs one optimiser per parameter");
    for (std::size_t k = 0; k < params_.size(); ++k)
        if (optimisers[k] && param_grads_[k]) optimisers[k]->check(params_[k], param_grads_[k]);
}

namespace {

// to = from laid out C-contiguous (from is transposed: [rows x cols] stored as [cols x rows]).
void untranspose(const FlatBuf& from, FlatBuf& to) {
    const autodiff::index_t rows = from.shape[0], cols = from.shape[1];
    autodiff::dispatch(from.dtype, [&](auto tag) {
        using T = decltype(tag);
        const T* src = from.ptr<T>();
        T* dst = to.ptr<T>();
        for (autodiff::index_t c = 0; c < cols; ++c)
            for (autodiff::index_t r = 0; r < rows; ++r) dst[r * cols + c] = src[c * rows + r];
    });
}

}  // namespace

double FlatStep::step(const void* const* data, const std::vector<optimisers::Optimiser*>& optimisers) {
    for (std::size_t k = 0; k < data_slots_.size(); ++k) values_[data_slots_[k]].data = const_cast<void*>(data[k]);
    for (auto& [from, to] : copies_) untranspose(*from, to);
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
    for (autodiff::FlatOp* op : backward_) op->backward();
    for (std::size_t k = 0; k < params_.size(); ++k) {
        optimisers::Optimiser* opt = optimisers[k];
        if (opt && param_grads_[k] && !opt->frozen) opt->apply(params_[k]->data, param_grads_[k]->data, nullptr);
    }
    return value;
}

}  // namespace pyflux::capture
