#include "autodiff/tape.hpp"

#include <atomic>
#include <stdexcept>

namespace pyflux::autodiff {
namespace {

// Generations start at 1 so that a fresh tensor (generation 0) is never traced.
std::atomic<std::uint64_t> next_generation{1};
thread_local Tape* current_tape = nullptr;

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
    t->tape_generation = generation_;
    t->value_id = next_id_++;
    grads_.emplace_back();
    return t->value_id;
}

void Tape::watch(const Tensor& t) {
    if (owns(t)) return;
    new_value(t);
    watched_.push_back(t);
}

void Tape::record(std::unique_ptr<Node> node, const Tensor& out) {
    node->output_id = new_value(out);
    work_ += out->size();
    nodes_.push_back(std::move(node));
}

PauseRecording::PauseRecording() : saved_(current_tape) { current_tape = nullptr; }
PauseRecording::~PauseRecording() { current_tape = saved_; }

}  // namespace pyflux::autodiff
