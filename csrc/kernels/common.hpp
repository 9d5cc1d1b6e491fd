// Shared definitions for the kernels: index type, shapes, and the OpenMP loop helper.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <omp.h>

#include "kernels/contention.hpp"
#include "kernels/subnormals.hpp"

namespace pyflux::kernels {

using index_t = std::int64_t;

// Most dimensions a kernel handles; the bindings refuse arrays with more.
constexpr int kMaxDims = 8;

// Below this many elements of work per thread, a parallel region costs more than it saves.
constexpr index_t kGrain = 16384;

// Set in a process forked after OpenMP started its thread pool: the pool's threads did not survive
// the fork and libgomp would wait for them forever, so the child runs every kernel serially.
inline std::atomic<bool> forked_child{false};

/// Registers the fork handler that sets forked_child (once per process).
void install_fork_handler();

// parallel_for's threaded part: body over [0, n) split across OpenMP threads, or serially inside a
// parallel region, in a forked child, or while other processes compete for the cores
// (contention.hpp). Kept out of line so that the serial case inlines into every kernel.
template <class Body>
__attribute__((noinline)) void parallel_for_threads(index_t n, index_t grain, Body& body) {
    const int max_threads = forked_child.load(std::memory_order_relaxed) ? 1 : omp_get_max_threads();
    if (max_threads < 2 || omp_in_parallel() || contended()) {
        body(index_t{0}, n);
        return;
    }
    const index_t chunks = std::min<index_t>(max_threads, n / grain);
    StartTimes started;
    int team = 1;
    const SubnormalMode::Bits mode = SubnormalMode::current();
#pragma omp parallel num_threads(static_cast<int>(chunks))
    {
        const SubnormalMode inherited(mode);
        const int t = omp_get_thread_num();
        started.mark(t);
        const index_t nt = omp_get_num_threads();
        if (t == 0) team = static_cast<int>(nt);
        const index_t begin = n * t / nt;
        const index_t end = n * (t + 1) / nt;
        if (begin < end) body(begin, end);
    }
    started.report(team);
}

// Runs body(begin, end) over [0, n): on this thread when the work is smaller than two grains (the
// case of a per-sample step's tiny arrays, with no call in between), else parallel_for_threads.
template <class Body>
inline void parallel_for(index_t n, index_t grain, Body&& body) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (n < 2 * grain) {
        body(index_t{0}, n);
        return;
    }
    parallel_for_threads(n, grain, body);
}

}  // namespace pyflux::kernels
