#include "autodiff/tape.hpp"

#include <atomic>
#include <stdexcept>

namespace pyflux::autodiff {
namespace {

// Generations start at 1 so that a fresh tensor (generation 0) is never traced.
std::atomic<std::uint64_t> next_generation{1};
// Read by every op: the initial-exec TLS model avoids a __tls_get_addr call each time (see pool.cpp).
thread_local Tape* current_tape __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local Recorder* current_recorder __attribute__((tls_model("initial-exec"))) = nullptr;

}  // namespace

Tape::Tape() : generation_(next_generation.fetch_add(1)) {
    // Room for a small model's step without regrowing.
    nodes_.reserve(32);
    grads_.reserve(48);
}

Tape* Tape::current() { return current_tape; }

void Tape::activate() {
    if (current_tape)
        throw std::runtime_error("gradient: a gradient is already being taken on this thread; nested gradients are not supported");
    current_tape = this;
}

void Tape::deactivate() {
    if (current_tape == this) current_tape = nullptr;
}

std::int64_t Tape::new_value(const Tensor& t) {
    t->tape_generation.store(generation_, std::memory_order_relaxed);
    t->value_id = next_id_++;
    grads_.emplace_back();
    return t->value_id;
}

std::int64_t Tape::shared_leaf_id(const TensorImpl* t) const {
    for (const auto& [leaf, id] : shared_leaves_)
        if (leaf == t) return id;
    return -1;
}

void Tape::watch(const Tensor& t) {
    if (owns(t)) return;
    std::uint64_t free = 0;
    if (t->tape_generation.compare_exchange_strong(free, generation_, std::memory_order_acq_rel)) {
        t->value_id = next_id_++;
        grads_.emplace_back();
    } else {
        shared_leaves_.emplace_back(t.get(), next_id_++);
        grads_.emplace_back();
    }
    watched_.push_back(t);
}

void Tape::watch(const std::vector<Tensor>& ts) {
    watched_.reserve(watched_.size() + ts.size());
    for (const Tensor& t : ts) watch(t);
}

void Tape::release_leaves() {
    for (const Tensor& leaf : watched_) {
        std::uint64_t mine = generation_;
        leaf->tape_generation.compare_exchange_strong(mine, 0, std::memory_order_acq_rel);
    }
    watched_.clear();
    shared_leaves_.clear();
}

void Tape::record(std::unique_ptr<Node> node, const Tensor& out) {
    node->output_id = new_value(out);
    work_ += out->size();
    nodes_.push_back(std::move(node));
}

Recorder* Recorder::current() { return current_recorder; }

void Recorder::install(Recorder* r) {
    if (r && current_recorder)
        throw std::runtime_error("capture: a training step is already being captured on this thread");
    current_recorder = r;
}

PauseRecording::PauseRecording() : saved_(current_tape) { current_tape = nullptr; }
PauseRecording::~PauseRecording() { current_tape = saved_; }

}  // namespace pyflux::autodiff
