// Whether other processes compete for our cores. A parallel region whose threads start far apart
// had a thread descheduled: on a busy machine every fork-join (and OpenBLAS's jobs, which wait for
// one another) then waits a scheduler time slice for it, and one thread is many times faster than
// two. Seeing that twice within 0.1 s, kernels and BLAS run on one thread for a while, then try
// threads again.
#pragma once

#include <chrono>
#include <cstdint>

namespace pyflux::kernels {

/// Monotonic nanoseconds.
inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Whether kernels should run on one thread now (contention seen recently).
bool contended();

/// Records how far apart (in ns) the threads of a parallel region started; two large spreads close
/// together start a period of single-threaded work.
void note_start_spread(std::int64_t spread_ns);

/// Forgets the contention seen so far (for tests).
void clear_contention();

/// Threads' start times in a parallel region of up to kMaxTracked threads; `spread()` afterwards.
class StartTimes {
public:
    static constexpr int kMaxTracked = 64;
    void mark(int thread) {
        if (thread < kMaxTracked) start_[thread] = now_ns();
    }
    /// Reports the spread of the first `threads` marks to note_start_spread.
    void report(int threads) const;

private:
    std::int64_t start_[kMaxTracked];  // each thread writes its own before report reads it
};

}  // namespace pyflux::kernels
