#include "autodiff/pool.hpp"

#include <array>

namespace pyflux::autodiff::pool {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPooled = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kPooled = false;
#else
constexpr bool kPooled = true;
#endif
#else
constexpr bool kPooled = true;
#endif

constexpr std::size_t kAlign = 64;
constexpr int kClasses = 6;          // 64, 128, ..., 2048 bytes
constexpr int kKeptPerClass = 256;   // blocks a thread keeps per class

struct Block {
    Block* next;
};

// Size class of a request, or -1 when it is too large to pool.
int class_of(std::size_t bytes) {
    std::size_t size = 64;
    for (int c = 0; c < kClasses; ++c, size *= 2)
        if (bytes <= size) return c;
    return -1;
}

std::size_t class_bytes(int c) { return std::size_t(64) << c; }

void* system_allocate(std::size_t bytes) { return ::operator new(bytes, std::align_val_t(kAlign)); }
void system_free(void* p) noexcept { ::operator delete(p, std::align_val_t(kAlign)); }

// The pool's thread-local state uses the initial-exec TLS model: a few dozen bytes of the static
// TLS block that the loader keeps for libraries opened later, in exchange for no __tls_get_addr
// call on every allocation.
#define PYFLUX_FAST_TLS __attribute__((tls_model("initial-exec")))

// Trivially destructible, so that it can be read during and after the lists' destruction.
thread_local bool lists_alive PYFLUX_FAST_TLS = false;

struct Lists {
    std::array<Block*, kClasses> head{};
    std::array<int, kClasses> count{};
    Lists() { lists_alive = true; }
    ~Lists() {
        lists_alive = false;
        for (Block* b : head)
            while (b) {
                Block* next = b->next;
                system_free(b);
                b = next;
            }
    }
};

thread_local Lists lists PYFLUX_FAST_TLS;

}  // namespace

void* allocate(std::size_t bytes) {
    const int c = kPooled ? class_of(bytes) : -1;
    if (c < 0) return system_allocate(bytes);
    Lists& l = lists;
    if (Block* b = l.head[c]) {
        l.head[c] = b->next;
        --l.count[c];
        return b;
    }
    return system_allocate(class_bytes(c));
}

void deallocate(void* p, std::size_t bytes) noexcept {
    if (!p) return;
    const int c = kPooled ? class_of(bytes) : -1;
    if (c < 0 || !lists_alive) return system_free(p);
    Lists& l = lists;
    if (l.count[c] >= kKeptPerClass) return system_free(p);
    auto* b = static_cast<Block*>(p);
    b->next = l.head[c];
    l.head[c] = b;
    ++l.count[c];
}

}  // namespace pyflux::autodiff::pool
