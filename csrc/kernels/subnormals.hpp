// Subnormal numbers treated as zero while pyflux trains: a result that would be subnormal (below
// 2^-126 in float32, 2^-1022 in float64) is 0 (FTZ), and a subnormal operand reads as 0 (DAZ).
// A CPU takes a microcode assist, about a hundred cycles, for every subnormal operand or result,
// and training makes many of them: a confident classifier's gradients (softmax probabilities of
// e^-90) made a 784-512-10 relu MNIST step twice as slow once the network had learnt, and an
// optimiser's moment decaying through the subnormal range after its gradient became 0 (a dead
// ReLU unit) slowed an epoch from 0.57 to 1.45 s. Such a number's share of an update is far below a
// parameter's precision. JAX's CPU backend (XLA) computes so throughout; pyflux does in every
// optimiser update and in train's and fit's steps (their backward passes and updates, not the
// loss's Python code), unless set_zero_subnormals(false). The mode is a thread's own (x86-64's
// MXCSR), put back when the work is done; parallel regions give their threads the mode of the
// thread that started them. Elsewhere than x86-64 the mode is left as it is.
#pragma once

namespace pyflux::kernels {

/// Whether updates and training steps treat subnormal numbers as zero (on unless set to false).
bool zero_subnormals();
void set_zero_subnormals(bool on);

/// This thread's subnormal mode set to `mode` while it lives, then put back.
class SubnormalMode {
public:
    using Bits = unsigned;  // the mode's bits of the thread's control register (0: IEEE subnormals)

    explicit SubnormalMode(Bits mode);
    ~SubnormalMode();
    SubnormalMode(const SubnormalMode&) = delete;
    SubnormalMode& operator=(const SubnormalMode&) = delete;

    /// This thread's mode now.
    static Bits current();
    /// The mode training runs in: subnormals as zero when zero_subnormals(), else this thread's own.
    static Bits for_training();

private:
    Bits saved_;
};

}  // namespace pyflux::kernels
