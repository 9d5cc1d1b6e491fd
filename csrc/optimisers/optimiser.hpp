// Each parameter's optimiser: a rule from kernels/optimisers.hpp with its hyperparameters, and the state it
// keeps for that parameter (moment arrays, step count, β^t), all owned here. C++ code applies a step with
// `step` or `apply` and no Python involved; the bindings show the state to Python as numpy views.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tensor.hpp"
#include "kernels/optimisers.hpp"

namespace pyflux::optimisers {

using autodiff::DType;
using autodiff::Shape;
using autodiff::Tensor;
using kernels::index_t;

/// A rule by its Python class name with its hyperparameters by name (kernels/optimisers.hpp lists them);
/// an "OptimiserChain" holds its rules in `chain` instead.
struct Spec {
    std::string name;
    std::vector<std::pair<std::string, double>> hypers;
    std::vector<Spec> chain;
};

/// A part of the state as memory another layer may view: an array shaped like the parameter (in its
/// dtype), the step count t (one int64) or the powers β^t (two float64); a chain's part has the parts of
/// each rule in `parts`, named "0", "1", ...
struct StatePart {
    enum Kind { array, step_count, powers, rules };
    std::string name;
    Kind kind = array;
    void* data = nullptr;
    std::vector<StatePart> parts;
};

/// One parameter's rule and state, for parameters of one dtype and shape.
class Optimiser {
public:
    Optimiser(DType dtype, const Shape& shape) : dtype_(dtype), shape_(shape), n_(shape.size()) {}
    virtual ~Optimiser() = default;
    Optimiser& operator=(const Optimiser&) = delete;
    /// An independent copy: the same rule and hyperparameters, a copy of the state.
    virtual std::unique_ptr<Optimiser> clone() const = 0;

    DType dtype() const { return dtype_; }
    const Shape& shape() const { return shape_; }
    index_t size() const { return n_; }
    /// A frozen optimiser's step and update_all leave the parameter and the state alone.
    bool frozen = false;

    /// One step over raw memory of size() elements of dtype(), unchecked: p -= Δ, or Δ written to d (which
    /// may be g) with p only read.
    virtual void apply(void* p, const void* g, void* d) = 0;
    /// Throws std::invalid_argument unless p and g are contiguous tensors of this state's dtype and shape.
    void check(const Tensor& p, const Tensor& g) const;
    /// One step in place for a parameter tensor, checked against this state; nothing when frozen.
    void step(const Tensor& p, const Tensor& g);
    /// η when the rule is Descent (Δ = η g), which a compiled step applies inline; none otherwise.
    virtual std::optional<double> descent_rate() const { return std::nullopt; }
    /// The rule's Python class name.
    virtual std::string rule() const = 0;
    /// New hyperparameters for the same rule; the state is kept.
    virtual void set(const Spec& spec) = 0;
    virtual std::vector<StatePart> state() = 0;

protected:
    Optimiser(const Optimiser&) = default;
    DType dtype_;
    Shape shape_;
    index_t n_;
};

/// The optimiser for spec and a parameter of dtype and shape, with its state initialised (Optimisers.jl's
/// `init`). Throws std::invalid_argument for an unknown rule, a missing or unknown hyperparameter.
std::unique_ptr<Optimiser> make_optimiser(const Spec& spec, DType dtype, const Shape& shape);

/// What the registry knows of a rule: its hyperparameters and (with default hyperparameters) its state.
struct RuleInfo {
    std::string name;
    std::vector<std::string> hypers;
    std::vector<std::string> states;
    bool clocked;
};
const std::vector<RuleInfo>& rules();

/// One parameter's part of a training step. A null g (no gradient) is skipped, as is a frozen optimiser.
struct Update {
    Tensor p;
    Tensor g;
    Optimiser* optimiser;
};
/// The update of every parameter of a step: all are checked (Optimiser::check) before any is changed.
void update_all(const std::vector<Update>& updates);

}  // namespace pyflux::optimisers
