#include "kernels/subnormals.hpp"

#include <atomic>

#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define PYFLUX_HAS_MXCSR 1
#endif

namespace pyflux::kernels {
namespace {

std::atomic<bool> zero_subnormals_on{true};

#ifdef PYFLUX_HAS_MXCSR
constexpr unsigned kFtz = 0x8000, kDaz = 0x0040;
unsigned read_mode() { return _mm_getcsr() & (kFtz | kDaz); }
void write_mode(unsigned mode) {
    const unsigned csr = _mm_getcsr();
    if ((csr & (kFtz | kDaz)) != mode) _mm_setcsr((csr & ~(kFtz | kDaz)) | mode);
}
#else
constexpr unsigned kFtz = 0, kDaz = 0;
unsigned read_mode() { return 0; }
void write_mode(unsigned) {}
#endif

}  // namespace

bool zero_subnormals() { return zero_subnormals_on.load(std::memory_order_relaxed); }
void set_zero_subnormals(bool on) { zero_subnormals_on.store(on, std::memory_order_relaxed); }

SubnormalMode::SubnormalMode(Bits mode) : saved_(read_mode()) { write_mode(mode); }
SubnormalMode::~SubnormalMode() { write_mode(saved_); }

SubnormalMode::Bits SubnormalMode::current() { return read_mode(); }
SubnormalMode::Bits SubnormalMode::for_training() { return zero_subnormals() ? kFtz | kDaz : read_mode(); }

}  // namespace pyflux::kernels
