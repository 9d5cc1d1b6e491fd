// The tape: the ops recorded while a gradient is taken, and the gradient slots of their values.
//
// Each traced value has an id on its tape. A value an op produced carries it (tape_generation,
// value_id on the TensorImpl: the common case, no lookup). A watched leaf is claimed the same way
// when no other live tape holds it; when one does (threads taking gradients of one shared model at
// once), this tape keeps the leaf's id in a small table of its own, so every thread's tape sees
// its own uses of the leaf. Claims are released when the tape is swept or destroyed.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "autodiff/pool.hpp"
#include "autodiff/recorder.hpp"
#include "autodiff/tensor.hpp"

namespace pyflux::autodiff {

class Tape;

/// One recorded op. Subclasses (one per op, beside the op's forward) hold what the backward rule
/// needs and turn the gradient of the output into gradients of the inputs that need one
/// (input_ids[k] >= 0), handing them to tape.accumulate.
class Node {
public:
    virtual ~Node() = default;
    static void* operator new(std::size_t bytes) { return pool::allocate(bytes); }
    static void operator delete(void* p, std::size_t bytes) noexcept { pool::deallocate(p, bytes); }
    virtual void backward(const Tensor& grad_out, Tape& tape) = 0;

    std::int64_t output_id = -1;
    std::array<std::int64_t, 3> input_ids{-1, -1, -1};
};

class Tape {
public:
    Tape();
    ~Tape() {
        deactivate();
        release_leaves();
    }
    Tape(const Tape&) = delete;
    Tape& operator=(const Tape&) = delete;

    /// The tape recording on this thread, or null outside gradient.
    static Tape* current();
    /// Makes this tape the current one; fails if another is already recording on this thread.
    void activate();
    void deactivate();

    /// Marks t as a leaf whose gradient is wanted.
    void watch(const Tensor& t);
    /// Marks each of ts, with room for all of them made once.
    void watch(const std::vector<Tensor>& ts);
    /// The leaves watched so far, in order.
    const std::vector<Tensor>& watched() const { return watched_; }
    /// t's value id on this tape (a watched leaf or the result of a recorded op), or -1.
    std::int64_t id_of(const Tensor& t) const {
        if (!t) return -1;
        if (t->tape_generation.load(std::memory_order_relaxed) == generation_) return t->value_id;
        return shared_leaves_.empty() ? -1 : shared_leaf_id(t.get());
    }
    /// Whether t is a value of this tape.
    bool owns(const Tensor& t) const { return id_of(t) >= 0; }

    /// Records node as the producer of out, which becomes a value of this tape.
    void record(std::unique_ptr<Node> node, const Tensor& out);

    /// Adds grad to the gradient of value `id`.
    void accumulate(std::int64_t id, Tensor grad);

    /// The reverse sweep: gradients of the scalar `loss` with respect to each of `wrt` (null where
    /// loss does not depend on it). Consumes the tape: each node is freed once its rule has run.
    std::vector<Tensor> backward(const Tensor& loss, const std::vector<Tensor>& wrt);

    std::size_t recorded() const { return nodes_.size(); }
    /// Elements produced by the recorded ops: a measure of the work the sweep will do.
    index_t work() const { return work_; }

private:
    std::int64_t new_value(const Tensor& t);
    std::int64_t shared_leaf_id(const TensorImpl* t) const;
    /// Frees the leaves this tape claimed, for the next tape that watches them.
    void release_leaves();

    std::uint64_t generation_;
    std::int64_t next_id_ = 0;
    std::vector<std::unique_ptr<Node>> nodes_;
    std::vector<Tensor> grads_;
    std::vector<Tensor> watched_;
    // Leaves claimed by another live tape (another thread's gradient of a shared model) when this
    // one watched them: (leaf, value id), searched only when not empty.
    std::vector<std::pair<const TensorImpl*, std::int64_t>> shared_leaves_;
    index_t work_ = 0;
    bool swept_ = false;
};

/// Suspends recording on this thread while it lives; the backward sweep runs under one so that
/// the ops its rules call are not recorded.
class PauseRecording {
public:
    PauseRecording();
    ~PauseRecording();
    PauseRecording(const PauseRecording&) = delete;
    PauseRecording& operator=(const PauseRecording&) = delete;

private:
    Tape* saved_;
};

/// Whether t is traced by the tape recording on this thread.
inline bool traced(const Tensor& t) {
    Tape* tape = Tape::current();
    return tape && tape->owns(t);
}

/// Records node for out when any input is traced; make_node is only called then. While a Recorder
/// is installed it also receives make_replay(): a Replay computing the same op from new inputs, and
/// make_flat(): the op over fixed buffers (an empty MakeFlat where the op has none).
/// Returns out for chaining.
template <class MakeNode, class MakeReplay, class MakeFlatOp>
const Tensor& record_if_traced(const Tensor& out, std::initializer_list<const Tensor*> inputs,
                               MakeNode&& make_node, MakeReplay&& make_replay, MakeFlatOp&& make_flat) {
    Tape* tape = Tape::current();
    if (!tape) return out;
    std::array<std::int64_t, 3> ids{-1, -1, -1};
    bool any = false;
    int k = 0;
    for (const Tensor* in : inputs) {
        if (in && *in) {
            ids[k] = tape->id_of(*in);
            any = any || ids[k] >= 0;
        }
        ++k;
    }
    if (!any) return out;
    std::unique_ptr<Node> node = make_node();
    node->input_ids = ids;
    tape->record(std::move(node), out);
    if (Recorder* recorder = Recorder::current()) recorder->add(make_replay(), make_flat(), inputs, out);
    return out;
}

template <class MakeNode, class MakeReplay>
const Tensor& record_if_traced(const Tensor& out, std::initializer_list<const Tensor*> inputs,
                               MakeNode&& make_node, MakeReplay&& make_replay) {
    return record_if_traced(out, inputs, std::forward<MakeNode>(make_node), std::forward<MakeReplay>(make_replay),
                            [] { return MakeFlat{}; });
}

}  // namespace pyflux::autodiff
