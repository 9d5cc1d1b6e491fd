// The reverse sweep over the tape.
#include <stdexcept>

#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"

namespace pyflux::autodiff {

void Tape::accumulate(std::int64_t id, Tensor grad) {
    Tensor& slot = grads_[static_cast<std::size_t>(id)];
    // A value used twice receives two gradients. Rules may pass the same tensor on to several
    // inputs, so the sum goes into a new tensor rather than into either addend.
    slot = slot ? add(slot, grad) : std::move(grad);
}

std::vector<Tensor> Tape::backward(const Tensor& loss, const std::vector<Tensor>& wrt) {
    if (swept_) throw std::runtime_error("gradient: this tape has already been swept");
    swept_ = true;
    if (!owns(loss)) {
        nodes_.clear();
        grads_.clear();
        release_leaves();
        return std::vector<Tensor>(wrt.size());
    }
    if (loss->size() != 1)
        throw std::invalid_argument("gradient: the function must return a scalar, got an array of shape " +
                                    loss->shape.str());
    PauseRecording pause;
    // Values whose gradient is asked for keep it in their slot when their rule consumes it.
    std::vector<bool> wanted(grads_.size(), false);
    for (const Tensor& t : wrt)
        if (owns(t)) wanted[static_cast<std::size_t>(id_of(t))] = true;
    grads_[static_cast<std::size_t>(id_of(loss))] = full(loss->dtype, loss->shape, 1.0);
    // Nodes were recorded in execution order, so popping them runs every rule after all the
    // rules of the values that consumed its output: an explicit stack, no recursion.
    while (!nodes_.empty()) {
        std::unique_ptr<Node> node = std::move(nodes_.back());
        nodes_.pop_back();
        Tensor& slot = grads_[static_cast<std::size_t>(node->output_id)];
        Tensor g = wanted[static_cast<std::size_t>(node->output_id)] ? slot : std::move(slot);
        if (g) node->backward(g, *this);
    }
    std::vector<Tensor> result;
    result.reserve(wrt.size());
    for (const Tensor& t : wrt) {
        const std::int64_t id = id_of(t);
        Tensor g = id >= 0 ? grads_[static_cast<std::size_t>(id)] : Tensor{};
        // Rules pass gradients through unchanged where they can (d(a+b) = (1, 1)), so two results
        // may be one tensor; each caller gets its own so that changing one cannot change another.
        for (const Tensor& earlier : result)
            if (g && earlier && same_memory(earlier, g)) {
                g = contiguous_copy(g);
                break;
            }
        result.push_back(std::move(g));
    }
    grads_.clear();
    release_leaves();
    return result;
}

}  // namespace pyflux::autodiff
