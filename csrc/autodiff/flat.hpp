// An op of a compiled training step: the op's forward and its node's backward over buffers fixed
// once, with no tape, no allocation and no reference counting. The ops that offer one (through
// record_if_traced) let a captured step run as a flat list of kernel calls (capture/flat_step.hpp);
// a step with an op that offers none replays through the tape instead.
#pragma once

#include <array>
#include <functional>
#include <memory>

#include "autodiff/tensor.hpp"
#include "autodiff/tiny.hpp"

namespace pyflux::autodiff {

/// A contiguous buffer of a compiled step. Its memory stays put for the step's life, except a
/// datum's, which is pointed at each step's data before the step runs. A datum may be transposed:
/// 2-D with shape [rows x cols] but stored as the row-major [cols x rows] (a batch-first array seen
/// features x batch); only ops whose flat form says reads_transposed take one.
struct FlatBuf {
    void* data = nullptr;
    Shape shape;
    DType dtype = DType::f32;
    bool transposed = false;
    index_t size() const { return shape.size(); }
    template <class T>
    T* ptr() const { return static_cast<T*>(data); }
};

/// Where a flat op reads and writes: its inputs (null where the op had none) and output, the
/// gradient of the output, and the gradients of the inputs (null where none is wanted). add[k]
/// says another op's backward wrote grad_in[k] earlier in the sweep, so this one adds to it.
struct FlatArgs {
    std::array<const FlatBuf*, 3> in{};
    const FlatBuf* out = nullptr;
    const FlatBuf* grad_out = nullptr;
    std::array<FlatBuf*, 3> grad_in{};
    std::array<bool, 3> add{};
};

class FlatOp {
public:
    explicit FlatOp(const FlatArgs& io);
    virtual ~FlatOp() = default;
    FlatOp(const FlatOp&) = delete;
    FlatOp& operator=(const FlatOp&) = delete;
    /// Whether the op reads transposed inputs (see FlatBuf); others get contiguous ones only.
    static constexpr bool reads_transposed = false;
    virtual void forward() = 0;
    /// Writes (or adds, per add[k]) the gradient of every input with a grad_in buffer.
    virtual void backward() = 0;
    /// Append the forward, and the backward, as tiny instructions (autodiff/tiny.hpp) adding where
    /// add[k] says; false where the op has none for its buffers.
    virtual bool lower_forward(TinyCode&) const { return false; }
    virtual bool lower_backward(TinyCode&) const { return false; }

protected:
    /// Where input k's gradient is to be written: grad_in[k] itself, or a scratch buffer when
    /// the gradient is added; done(k) then adds the scratch into grad_in[k].
    template <class T>
    T* grad(int k) const { return static_cast<T*>(io_.add[k] ? scratch_[k]->data : io_.grad_in[k]->data); }
    template <class T>
    void done(int k) const {
        if (!io_.add[k]) return;
        const T* from = scratch_[k]->ptr<T>();
        T* to = io_.grad_in[k]->ptr<T>();
        const index_t n = io_.grad_in[k]->size();
        for (index_t i = 0; i < n; ++i) to[i] += from[i];
    }
    bool wants(int k) const { return io_.grad_in[k] != nullptr; }

    FlatArgs io_;

private:
    std::array<Tensor, 3> scratch_;
};

/// Makes an op's flat form for the buffers given, or null where it cannot take them.
using MakeFlat = std::function<std::unique_ptr<FlatOp>(const FlatArgs&)>;

/// Op<float> or Op<double> for the dtype of the output, constructed from (io, args...); null when
/// an input is transposed and Op does not read transposed inputs.
template <template <class> class Op, class... Args>
std::unique_ptr<FlatOp> make_flat(const FlatArgs& io, const Args&... args) {
    if (!Op<float>::reads_transposed)
        for (const FlatBuf* in : io.in)
            if (in && in->transposed) return nullptr;
    if (io.out->dtype == DType::f32) return std::make_unique<Op<float>>(io, args...);
    return std::make_unique<Op<double>>(io, args...);
}

}  // namespace pyflux::autodiff
