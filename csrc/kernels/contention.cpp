#include "kernels/contention.hpp"

#include <algorithm>
#include <atomic>

namespace pyflux::kernels {
namespace {

// Threads starting this far apart mean one was descheduled (waking an idle OpenMP thread takes tens
// of microseconds).
constexpr std::int64_t kSpreadNs = 1'000'000;
// A second late start this soon after the last one confirms contention: a busy neighbour delays
// most regions, while one late start alone (a virtual machine's core paused for a few
// milliseconds, another library's threads winding down) is not worth a second on one thread.
constexpr std::int64_t kConfirmNs = 100'000'000;
// How long kernels stay on one thread before trying threads again.
constexpr std::int64_t kSerialNs = 1'000'000'000;

std::atomic<std::int64_t> serial_until{0};
std::atomic<std::int64_t> last_late{0};  // when the last late start was seen (0: none yet)

}  // namespace

bool contended() {
    const std::int64_t until = serial_until.load(std::memory_order_relaxed);
    return until != 0 && now_ns() < until;
}

void note_start_spread(std::int64_t spread_ns) {
    if (spread_ns <= kSpreadNs) return;
    const std::int64_t now = now_ns();
    const std::int64_t before = last_late.exchange(now, std::memory_order_relaxed);
    if (before != 0 && now - before < kConfirmNs) serial_until.store(now + kSerialNs, std::memory_order_relaxed);
}

void clear_contention() {
    serial_until.store(0, std::memory_order_relaxed);
    last_late.store(0, std::memory_order_relaxed);
}

void StartTimes::report(int threads) const {
    const int n = std::min(threads, kMaxTracked);
    if (n < 2) return;
    const auto [lo, hi] = std::minmax_element(start_, start_ + n);
    note_start_spread(*hi - *lo);
}

}  // namespace pyflux::kernels
