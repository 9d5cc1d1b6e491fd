// A training step captured once and run again in C++: the ops the first step recorded become a
// program over value slots (the parameters, the data, constants, each op's output), which later
// steps run on new data with no Python involved, through the same ops, tape and optimisers as the
// traced step, so the results are the same.
#pragma once

#include <array>
#include <memory>
#include <unordered_map>
#include <vector>

#include "autodiff/recorder.hpp"
#include "capture/flat_step.hpp"
#include "optimisers/optimiser.hpp"

namespace pyflux::capture {

using autodiff::Tensor;

class Program : public autodiff::Recorder {
public:
    /// A program whose steps take gradients with respect to params and read their data from
    /// tensors standing where `data` stood in the captured step.
    Program(std::vector<Tensor> params, const std::vector<Tensor>& data);

    /// Recording (while installed): one op of the captured step. An input that is neither a
    /// parameter, a datum nor an earlier op's output is a constant, kept as it is.
    void add(autodiff::Replay replay, autodiff::MakeFlat flat, std::initializer_list<const Tensor*> inputs,
             const Tensor& out) override;
    /// Ends recording: `loss` is the captured step's loss, the output of one of its ops.
    void finish(const Tensor& loss);
    bool finished() const { return loss_slot_ >= 0; }
    std::size_t ops() const { return program_.size(); }
    std::size_t data_count() const { return data_slots_.size(); }
    const std::vector<Tensor>& params() const { return params_; }

    /// One step on new data (same shapes and dtypes as the captured data): the forward ops, the
    /// reverse sweep, then each parameter's optimiser (null: not updated). Returns the loss; a
    /// loss that is NaN or infinite leaves the parameters and the optimisers unchanged.
    double step(const std::vector<Tensor>& data, const std::vector<optimisers::Optimiser*>& optimisers);
    /// The step compiled to kernel calls over fixed buffers when every op has a flat form and the
    /// parameters are contiguous (null otherwise); it reads contiguous data as captured.
    FlatStep* flat() { return flat_.get(); }
    /// Whether data have the captured shapes and dtypes, and the layout the flat step reads: each
    /// transposed (2-D Fortran-ordered) where the captured datum was, else contiguous.
    bool fits(const std::vector<Tensor>& data) const;

private:
    struct Op {
        autodiff::Replay run;
        autodiff::MakeFlat flat;
        std::array<int, 3> in{-1, -1, -1};
        int out = -1;
    };
    struct ClearStep;
    int slot_of(const Tensor& t);
    int new_slot(const Tensor& t);
    void clear_step();
    void compile();

    std::vector<Tensor> params_;
    std::vector<int> data_slots_;
    std::vector<bool> data_transposed_;  // by datum: 2-D and Fortran-ordered (not C) when captured
    std::vector<Op> program_;
    std::vector<Tensor> values_;  // by slot: parameters, data, constants and (while running) outputs
    std::vector<std::pair<autodiff::Shape, autodiff::DType>> types_;  // by slot, as captured
    std::unique_ptr<FlatStep> flat_;
    std::vector<optimisers::Update> updates_;  // a step's updates, reused from step to step
    std::unordered_map<const autodiff::TensorImpl*, int> slots_;  // while recording
    int loss_slot_ = -1;
};

}  // namespace pyflux::capture
