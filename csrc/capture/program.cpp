#include "capture/program.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autodiff/tape.hpp"
#include "capture/feed.hpp"

namespace pyflux::capture {

using autodiff::Tape;

Program::Program(std::vector<Tensor> params, const std::vector<Tensor>& data) : params_(std::move(params)) {
    for (const Tensor& p : params_) new_slot(p);
    for (const Tensor& d : data) {
        data_slots_.push_back(new_slot(d));
        data_transposed_.push_back(transposed(d));
    }
}

int Program::new_slot(const Tensor& t) {
    const int slot = static_cast<int>(values_.size());
    values_.push_back(t);
    types_.emplace_back(t->shape, t->dtype);
    slots_[t.get()] = slot;
    return slot;
}

int Program::slot_of(const Tensor& t) {
    const auto found = slots_.find(t.get());
    return found != slots_.end() ? found->second : new_slot(t);
}

void Program::add(autodiff::Replay replay, autodiff::MakeFlat flat, std::initializer_list<const Tensor*> inputs,
                  const Tensor& out) {
    if (finished()) throw std::logic_error("capture: the program is already finished");
    Op op{std::move(replay), std::move(flat), {-1, -1, -1}, -1};
    int k = 0;
    for (const Tensor* in : inputs) {
        if (in && *in) op.in[k] = slot_of(*in);
        ++k;
    }
    // The recorded outputs stay alive until finish, so that no later tensor reuses their address.
    op.out = new_slot(out);
    program_.push_back(std::move(op));
}

void Program::finish(const Tensor& loss) {
    const auto found = slots_.find(loss.get());
    const bool computed = found != slots_.end() &&
                          std::any_of(program_.begin(), program_.end(), [&](const Op& op) { return op.out == found->second; });
    if (!computed)
        throw std::invalid_argument("capture: the loss was not computed by pyflux ops from the parameters and the data");
    if (loss->size() != 1)
        throw std::invalid_argument("capture: the loss must be a scalar, got an array of shape " + loss->shape.str());
    loss_slot_ = found->second;
    slots_.clear();
    clear_step();
    compile();
}

void Program::compile() {
    std::vector<FlatStep::OpSpec> ops;
    for (const Op& op : program_) {
        if (!op.flat) return;
        ops.push_back({&op.flat, op.in, op.out});
    }
    flat_ = FlatStep::make(values_, types_, params_.size(), data_slots_, data_transposed_, ops, loss_slot_);
}

bool Program::fits(const std::vector<Tensor>& data) const {
    if (data.size() != data_slots_.size()) return false;
    for (std::size_t k = 0; k < data.size(); ++k) {
        const auto& [shape, dtype] = types_[static_cast<std::size_t>(data_slots_[k])];
        if (data[k]->shape != shape || data[k]->dtype != dtype) return false;
        if (data_transposed_[k] ? !transposed(data[k]) : !data[k]->is_contiguous()) return false;
    }
    return true;
}

void Program::clear_step() {
    for (const Op& op : program_) values_[op.out].reset();
    for (int s : data_slots_) values_[s].reset();
}

namespace {

double scalar_value(const Tensor& t) {
    return t->dtype == autodiff::DType::f32 ? static_cast<double>(*t->ptr<float>()) : *t->ptr<double>();
}

}  // namespace

// Empties the outputs and the data when a step ends, normally or not, so that no step holds the
// last one's memory.
struct Program::ClearStep {
    Program& program;
    ~ClearStep() { program.clear_step(); }
};

double Program::step(const std::vector<Tensor>& data, const std::vector<optimisers::Optimiser*>& optimisers) {
    if (!finished()) throw std::logic_error("capture: the program was never finished");
    if (data.size() != data_slots_.size() || optimisers.size() != params_.size())
        throw std::invalid_argument("capture: a step needs one tensor per datum and one optimiser per parameter");
    ClearStep clear{*this};
    for (std::size_t k = 0; k < data.size(); ++k) {
        const auto& [shape, dtype] = types_[static_cast<std::size_t>(data_slots_[k])];
        if (data[k]->shape != shape || data[k]->dtype != dtype)
            throw std::invalid_argument("capture: a step's data has shape " + data[k]->shape.str() +
                                        " where the captured step had " + shape.str());
        values_[data_slots_[k]] = data[k];
    }
    Tape tape;
    tape.watch(params_);
    tape.activate();
    try {
        for (const Op& op : program_) {
            const autodiff::OpInputs in{op.in[0] >= 0 ? values_[op.in[0]] : Tensor{},
                                        op.in[1] >= 0 ? values_[op.in[1]] : Tensor{},
                                        op.in[2] >= 0 ? values_[op.in[2]] : Tensor{}};
            values_[op.out] = op.run(in);
        }
    } catch (...) {
        tape.deactivate();
        throw;
    }
    tape.deactivate();
    const Tensor& loss = values_[loss_slot_];
    const double value = scalar_value(loss);
    const std::vector<Tensor> grads = tape.backward(loss, params_);
    if (!std::isfinite(value)) return value;
    updates_.clear();
    for (std::size_t k = 0; k < params_.size(); ++k)
        if (optimisers[k] && grads[k]) updates_.push_back({params_[k], autodiff::contiguous(grads[k]), optimisers[k]});
    optimisers::update_all(updates_);
    return value;
}

}  // namespace pyflux::capture
