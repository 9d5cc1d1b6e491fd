// A captured step compiled to a flat list of kernel calls: every value and gradient gets a buffer
// once, each op's forward and backward run on those buffers (autodiff/flat.hpp), and each
// parameter's optimiser applies its update in place. No tape, no allocation, no reference
// counting between steps; the same kernels as the traced step, so the same results up to the
// order in which a value's gradient contributions are added.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/flat.hpp"
#include "capture/feed.hpp"
#include "optimisers/optimiser.hpp"

namespace pyflux::capture {

struct Layout;

using autodiff::DType;
using autodiff::FlatBuf;
using autodiff::Shape;
using autodiff::Tensor;

class FlatStep {
public:
    /// One recorded op: how to make its flat form, its input slots (-1 where none) and output slot.
    struct OpSpec {
        const autodiff::MakeFlat* make;
        std::array<int, 3> in;
        int out;
    };
    /// The slots hold the parameters (the first `params`), the data (data_slots; transposed as
    /// FlatBuf says where data_transposed is set), constants (the other slots with a value) and each
    /// op's output (no value, shaped as `types` says). Null when an op has no flat form for them.
    static std::unique_ptr<FlatStep> make(const std::vector<Tensor>& values,
                                          const std::vector<std::pair<Shape, DType>>& types, std::size_t params,
                                          const std::vector<int>& data_slots, const std::vector<bool>& data_transposed,
                                          const std::vector<OpSpec>& ops, int loss_slot);

    /// The optimisers of the following steps, one per parameter (null: not updated); throws
    /// std::invalid_argument unless each fits its parameter. Their rules and hyperparameters are
    /// read here: call again after changing them.
    void use(const std::vector<optimisers::Optimiser*>& optimisers);
    /// One step on the data at `data` (one pointer per datum, laid out as captured): returns the
    /// loss; a NaN or infinite loss leaves the parameters and the optimisers unchanged.
    double step(const void* const* data);
    /// Whether the step runs as tiny instructions (autodiff/tiny.hpp).
    bool tiny() const { return tiny_; }

    /// The C++ source of a native step (capture/native_source.cpp): the loop over steps with this
    /// step's tiny instructions for the optimisers of the last use(); empty when the step cannot run
    /// natively (not tiny, transposed data, an update other than Descent's, no gradient, buffers
    /// that overlap in part, arrays too large). Its signature, what it depends on (sizes, ops, which
    /// operands share a buffer, the small constants it has in its code; not the buffers'
    /// addresses), names it among the steps loaded in this process (capture/native_library.hpp).
    std::string native_source() const;
    /// Runs the following steps, while use() keeps the same parameters on Descent, through the
    /// native step built from `source` into the library at `path` (capture/native_library.hpp),
    /// and remembers it for later captures of its signature; false, loading nothing, when `source`
    /// is not native_source() as it is now. Throws std::runtime_error when the library does not load.
    bool load_native(const std::string& source, const std::string& path);
    /// Runs the following steps through the step of this signature loaded earlier in this process
    /// (capture/native_library.hpp), if there is one; returns whether there was.
    bool attach_known_native();
    /// Whether run_native applies (a native step is attached and fits the last use()).
    bool native() const { return native_ && updates_.empty() && descent_params_ == native_params_; }
    /// Whether data lying in `data` (disjoint spans in address order, Feed::spans) overlap a
    /// parameter, which the native step holds apart while it runs.
    bool reads_parameter(const std::vector<Span>& data) const;
    /// `steps` steps on the data at `pointers` (one pointer per datum a step, laid out as captured),
    /// each loss written to losses; returns how many ran, as autodiff::TinySteps. `apart`: the data
    /// overlap no parameter (!reads_parameter); else they take the loops, as a changed constant does.
    autodiff::index_t run_native(const void* const* pointers, autodiff::index_t steps, double* losses, bool apart);

private:
    FlatStep(std::size_t slots, const std::vector<int>& data_slots, int loss_slot)
        : values_(slots), grads_(slots), data_slots_(data_slots), loss_slot_(loss_slot) {}
    /// Whether the step can run natively: tiny, no transposed data, every update Descent's, a
    /// gradient to seed.
    bool can_run_native() const;
    /// Calls f(dtype, data count, instruction lists, layout) for the native step's source
    /// (capture/native_source.cpp); false, without calling it, where the step has none.
    template <class F>
    bool with_native_layout(F&& f) const;
    /// Runs the following steps through `steps`, built for this layout, while use() keeps the same
    /// parameters on Descent.
    void attach_native(autodiff::TinySteps steps, const Layout& layout);
    /// Whether a constant the native step has in its code has changed since it was attached.
    bool baked_changed() const;
    /// buf as a new buffer of shape and dtype, owned by the step.
    FlatBuf& own(FlatBuf& buf, const Shape& shape, DType dtype);
    /// The value buffers: parameters in place, constants copied contiguous, outputs allocated, data
    /// left to be pointed at; false when a parameter is not contiguous.
    bool place_values(const std::vector<Tensor>& values, const std::vector<std::pair<Shape, DType>>& types,
                      std::size_t params, const std::vector<bool>& data_transposed);
    /// The gradient buffers, and each op's buffers with which gradients it writes and which it adds to.
    std::vector<autodiff::FlatArgs> plan_gradients(const std::vector<std::pair<Shape, DType>>& types,
                                                   std::size_t params, const std::vector<OpSpec>& ops);
    /// Each op's flat form (reading copies of transposed data where it takes none); false when an op
    /// has none.
    bool make_ops(const std::vector<std::pair<Shape, DType>>& types, const std::vector<OpSpec>& ops,
                  std::vector<autodiff::FlatArgs>& args);
    /// The ops as tiny instructions (autodiff/tiny.hpp) when every buffer has one dtype and every op
    /// offers them.
    void lower();

    std::vector<FlatBuf> values_, grads_;  // by slot; a grad with null data is not computed
    std::vector<Tensor> memory_;           // owns the buffers
    std::vector<std::unique_ptr<autodiff::FlatOp>> forward_;
    std::vector<autodiff::FlatOp*> backward_;  // in sweep order: those whose output's gradient counts
    bool tiny_ = false;  // run tiny_forward_ and tiny_backward_ instead of the ops' calls
    autodiff::TinyCode tiny_forward_, tiny_backward_;
    // The update: Descent's inline for a small parameter of a tiny step, anything else through its
    // optimiser.
    autodiff::TinyCode descents_;
    std::vector<std::pair<optimisers::Optimiser*, std::size_t>> updates_;  // with the parameter's index
    std::vector<std::size_t> descent_params_;  // the parameters descents_ updates
    // The native step and the parameters it updates.
    autodiff::TinySteps native_ = nullptr;
    std::vector<std::size_t> native_params_;
    std::vector<std::pair<const void*, std::string>> native_baked_;  // its constants' buffers and bytes
    // Transposed data and their contiguous copies, made at the start of each step for the ops that
    // read no transposed input. A deque, so that the ops' pointers to the copies stay valid.
    std::deque<std::pair<FlatBuf*, FlatBuf>> copies_;
    std::vector<Tensor> params_, param_grads_;  // a null grad: the loss does not depend on the parameter
    std::vector<int> data_slots_;
    int loss_slot_;
};

}  // namespace pyflux::capture
