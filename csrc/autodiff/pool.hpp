// Small blocks recycled per thread. A training step of tiny arrays allocates and frees the same few
// sizes (tensors, their storage, tape nodes) many times; a free list per size class makes that a
// few instructions instead of a trip through malloc. Blocks freed on another thread join that
// thread's lists; each list keeps a bounded number. Under AddressSanitizer blocks go straight to
// the system allocator, so that the sanitizer still sees every use after free.
#pragma once

#include <cstddef>
#include <new>

namespace pyflux::autodiff::pool {

/// At least `bytes` bytes, 64-byte aligned.
void* allocate(std::size_t bytes);
/// Returns a block from allocate(bytes), with the same `bytes`.
void deallocate(void* p, std::size_t bytes) noexcept;

/// The pool as a standard allocator, for std::allocate_shared.
template <class T>
struct Allocator {
    using value_type = T;
    Allocator() = default;
    template <class U>
    Allocator(const Allocator<U>&) {}
    T* allocate(std::size_t n) { return static_cast<T*>(pool::allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { pool::deallocate(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const Allocator<U>&) const { return true; }
    template <class U>
    bool operator!=(const Allocator<U>&) const { return false; }
};

}  // namespace pyflux::autodiff::pool
