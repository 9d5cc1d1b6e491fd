// What a captured training step keeps of each op it ran: how to run the op again on new inputs.
// A Recorder installed on a thread sees every op that the tape recording there records, with a
// Replay that computes the same op (same parameters) from tensors in place of its inputs, and,
// from the ops that have one, a MakeFlat for the same op over fixed buffers.
#pragma once

#include <array>
#include <functional>
#include <initializer_list>

#include "autodiff/flat.hpp"
#include "autodiff/tensor.hpp"

namespace pyflux::autodiff {

/// An op's inputs in the order the op takes them; null where the op had none (dense without bias).
using OpInputs = std::array<Tensor, 3>;
using Replay = std::function<Tensor(const OpInputs&)>;

class Recorder {
public:
    virtual ~Recorder() = default;
    virtual void add(Replay replay, MakeFlat flat, std::initializer_list<const Tensor*> inputs, const Tensor& out) = 0;

    /// The recorder installed on this thread, or null.
    static Recorder* current();
    /// Installs r on this thread (null removes it); fails if another one is installed.
    static void install(Recorder* r);
};

}  // namespace pyflux::autodiff
