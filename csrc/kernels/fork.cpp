// Fork safety: a child forked after the OpenMP pool started (multiprocessing's default start method,
// data-loader workers) runs its kernels serially instead of waiting for threads it does not have.
#include <pthread.h>

#include "kernels/common.hpp"

namespace pyflux::kernels {

void install_fork_handler() {
    static const int installed =
        pthread_atfork(nullptr, nullptr, [] { forked_child.store(true, std::memory_order_relaxed); });
    (void)installed;
}

}  // namespace pyflux::kernels
