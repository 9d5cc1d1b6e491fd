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
    if (bytes <= 64) return 0;
    const int c = 64 - __builtin_clzll(bytes - 1) - 6;  // the power of two at or above bytes is 64 << c
    return c < kClasses ? c : -1;
}

std::size_t class_bytes(int c) { return std::size_t(64) << c; }

void* system_allocate(std::size_t bytes) { return ::operator new(bytes, std::align_val_t(kAlign)); }
void system_free(void* p) noexcept { ::operator delete(p, std::align_val_t(kAlign)); }

// The pool's thread-local state uses the initial-exec TLS model: a few dozen bytes of the static
// TLS block that the loader keeps for libraries opened later, in exchange for no __tls_get_addr
// call on every allocation.
#define PYFLUX_FAST_TLS __attribute__((tls_model("initial-exec")))

// The thread's cached blocks. Trivially constructible and destructible: a thread_local with a
// constructor or destructor gets a guard that every access checks through __tls_get_addr (the
// initial-exec model covers the variable, not its guard): ~730 instructions of a W1 general step.
struct Lists {
    std::array<Block*, kClasses> head;
    std::array<int, kClasses> count;
};

thread_local Lists lists PYFLUX_FAST_TLS;  // zero-initialised

// Whether the thread caches freed blocks: not yet (nothing cached, so nothing to release), armed (its
// release at thread exit is registered), or released (the thread is exiting: free, don't cache).
enum class State : unsigned char { unarmed, armed, released };
thread_local State state PYFLUX_FAST_TLS = State::unarmed;

struct Releaser {
    ~Releaser() {
        state = State::released;
        for (Block* b : lists.head)
            while (b) {
                Block* next = b->next;
                system_free(b);
                b = next;
            }
        lists = Lists{};  // allocations from later thread-exit destructors find nothing cached
    }
};

// On the thread's first caching: registers the release of its lists at thread exit. Only this rare
// path touches a guarded thread_local.
bool arm() {
    if (state == State::released) return false;
    static thread_local Releaser releaser;  // constructed here, destroyed at thread exit
    (void)releaser;
    state = State::armed;
    return true;
}

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
    if (c < 0 || (state != State::armed && !arm())) return system_free(p);
    Lists& l = lists;
    if (l.count[c] >= kKeptPerClass) return system_free(p);
    auto* b = static_cast<Block*>(p);
    b->next = l.head[c];
    l.head[c] = b;
    ++l.count[c];
}

}  // namespace pyflux::autodiff::pool
