// The traced value: a shape, a dtype, strides into shared storage, and the tape bookkeeping that
// says whether (and as which value) the current tape tracks it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "kernels/common.hpp"

namespace pyflux::autodiff {

using kernels::index_t;
using kernels::kMaxDims;

enum class DType : std::uint8_t { f32, f64 };

inline std::size_t itemsize(DType d) { return d == DType::f32 ? 4 : 8; }
inline const char* dtype_name(DType d) { return d == DType::f32 ? "float32" : "float64"; }

struct Shape {
    int ndim = 0;
    std::array<index_t, kMaxDims> dims{};

    /// The element count; throws std::invalid_argument when it does not fit in index_t.
    index_t size() const {
        index_t n = 1;
        for (int d = 0; d < ndim; ++d)
            if (__builtin_mul_overflow(n, dims[d], &n)) throw_size_overflow();
        return n;
    }
    index_t operator[](int d) const { return dims[d]; }
    bool operator==(const Shape& o) const {
        if (ndim != o.ndim) return false;
        for (int d = 0; d < ndim; ++d)
            if (dims[d] != o.dims[d]) return false;
        return true;
    }
    bool operator!=(const Shape& o) const { return !(*this == o); }
    /// Python's spelling: "(2, 3)", "(5,)", "()".
    std::string str() const;

private:
    [[noreturn]] void throw_size_overflow() const;
};

Shape make_shape(std::initializer_list<index_t> dims);

using Strides = std::array<index_t, kMaxDims>;

class TensorImpl {
public:
    TensorImpl() = default;
    TensorImpl(DType dtype, const Shape& shape, const Strides& strides) : dtype(dtype), shape(shape), strides(strides) {}

    DType dtype = DType::f32;
    Shape shape;
    Strides strides{};                 // in elements
    std::shared_ptr<void> storage;     // keeps the memory alive; may be shared by views; null when the
                                       // bytes live in the tensor's own block (see memory_owner)
    void* data = nullptr;              // first element

    // Tape bookkeeping: the value is traced as value_id when tape_generation matches the active
    // tape's. A leaf is claimed by one live tape at a time (0 when free); tapes on other threads
    // that watch it at the same time track it in a table of their own (Tape::watch).
    std::atomic<std::uint64_t> tape_generation{0};
    std::int64_t value_id = -1;

    // Borrowed back-reference to the object that represents this tensor in a host language, so
    // that handing the same tensor out twice gives the same object. Owned by the bindings.
    void* host_object = nullptr;

    index_t size() const { return shape.size(); }
    bool is_contiguous() const;
    template <class T>
    T* ptr() const { return static_cast<T*>(data); }
};

using Tensor = std::shared_ptr<TensorImpl>;

/// A new contiguous tensor with uninitialised storage: 64-byte aligned, or for a small tensor
/// 16-byte aligned in the tensor's own block (one allocation, no storage of its own).
Tensor empty(DType dtype, const Shape& shape);
Tensor zeros(DType dtype, const Shape& shape);
Tensor full(DType dtype, const Shape& shape, double value);

/// A tensor over existing memory; `owner` keeps it alive.
Tensor wrap(DType dtype, const Shape& shape, const Strides& strides, void* data, std::shared_ptr<void> owner);

/// What keeps t's memory alive: its storage, or t itself when its bytes live in its own block.
std::shared_ptr<void> memory_owner(const Tensor& t);

/// Whether a and b are views of one buffer.
bool same_memory(const Tensor& a, const Tensor& b);

/// A view sharing t's storage (no tape involvement).
Tensor view(const Tensor& t, const Shape& shape, const Strides& strides, index_t offset_elements);

/// t itself when contiguous, else a contiguous copy (no tape involvement).
Tensor contiguous(const Tensor& t);

/// A contiguous copy with its own storage, always (no tape involvement).
Tensor contiguous_copy(const Tensor& t);

/// A new contiguous tensor holding a copy of the elements at data, laid out by strides (in elements).
Tensor copy_of(DType dtype, const Shape& shape, const Strides& strides, const void* data);

/// A contiguous copy converted to dtype (no tape involvement).
Tensor converted(const Tensor& t, DType dtype);

/// Whether strides (in elements) lay an array of this shape out in C order.
bool contiguous_layout(const Shape& shape, const Strides& strides);

/// Strides of a C-ordered array of this shape.
Strides contiguous_strides(const Shape& shape);

/// Calls f(T{}) with T = float or double according to dtype.
template <class F>
decltype(auto) dispatch(DType dtype, F&& f) {
    if (dtype == DType::f32) return f(float{});
    return f(double{});
}

}  // namespace pyflux::autodiff
