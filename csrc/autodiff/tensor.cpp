#include "autodiff/tensor.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "autodiff/pool.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/strided.hpp"

namespace pyflux::autodiff {


std::string Shape::str() const {
    std::string s = "(";
    for (int d = 0; d < ndim; ++d) {
        if (d) s += ", ";
        s += std::to_string(dims[d]);
    }
    if (ndim == 1) s += ",";
    return s + ")";
}

void Shape::throw_size_overflow() const {
    throw std::invalid_argument("shape " + str() + " has more elements than an array can hold");
}

Shape make_shape(std::initializer_list<index_t> dims) {
    Shape s;
    for (index_t d : dims) s.dims[s.ndim++] = d;
    return s;
}

bool contiguous_layout(const Shape& shape, const Strides& strides) {
    index_t expected = 1;
    for (int d = shape.ndim - 1; d >= 0; --d) {
        if (shape[d] != 1 && strides[d] != expected) return false;
        expected *= shape[d];
    }
    return true;
}

bool TensorImpl::is_contiguous() const { return contiguous_layout(shape, strides); }

Strides contiguous_strides(const Shape& shape) {
    Strides s{};
    kernels::contiguous_strides_of(shape.ndim, shape.dims.data(), s.data());
    return s;
}

namespace {

// Storage for a small tensor: the bytes and the shared_ptr's control block in one allocation.
template <std::size_t Bytes>
struct SmallBuffer {
    SmallBuffer() {}  // leaves the bytes uninitialised (make_shared would zero them otherwise)
    alignas(16) unsigned char bytes[Bytes];
};

template <std::size_t Bytes>
std::shared_ptr<void> small_storage() {
    auto buffer = std::allocate_shared<SmallBuffer<Bytes>>(pool::Allocator<SmallBuffer<Bytes>>());
    return std::shared_ptr<void>(buffer, buffer->bytes);
}

// Large buffers are 64-byte aligned for vector loads; small ones share one pooled block with their
// reference count, which matters when a training step is made of tiny arrays.
std::shared_ptr<void> allocate(std::size_t bytes) {
    if (bytes <= 64) return small_storage<64>();
    if (bytes <= 256) return small_storage<256>();
    if (bytes <= 1024) return small_storage<1024>();
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return std::shared_ptr<void>(p, std::free);
}

// A tensor of a few elements (a sample's activations, a bias, a scalar) with its bytes after it in
// one pooled block: half the allocations, reference counts and frees of a separate storage. The
// size fills the pool's 256-byte class with the control block and the TensorImpl.
constexpr std::size_t kInlineBytes = 48;

struct InlineTensor : TensorImpl {
    InlineTensor(DType dtype, const Shape& shape) : TensorImpl(dtype, shape, contiguous_strides(shape)) {
        data = bytes;
    }
    alignas(16) unsigned char bytes[kInlineBytes];  // uninitialised
};

// The element count of a tensor of this shape; throws std::invalid_argument when it cannot be allocated.
index_t allocatable_size(const Shape& shape) {
    for (int d = 0; d < shape.ndim; ++d)
        if (shape[d] < 0) throw std::invalid_argument("shape " + shape.str() + " has a negative dimension");
    const index_t n = shape.size();
    if (n > static_cast<index_t>(PTRDIFF_MAX / 8)) throw std::invalid_argument("shape " + shape.str() + " is too large to allocate");
    return n;
}

}  // namespace

Tensor empty(DType dtype, const Shape& shape) {
    const std::size_t bytes = static_cast<std::size_t>(allocatable_size(shape)) * itemsize(dtype);
    if (bytes <= kInlineBytes) return std::allocate_shared<InlineTensor>(pool::Allocator<InlineTensor>(), dtype, shape);
    auto t = std::allocate_shared<TensorImpl>(pool::Allocator<TensorImpl>(), dtype, shape, contiguous_strides(shape));
    t->storage = allocate(bytes);
    t->data = t->storage.get();
    return t;
}

std::shared_ptr<void> memory_owner(const Tensor& t) {
    return t->storage ? t->storage : std::shared_ptr<void>(t, t->data);
}

bool same_memory(const Tensor& a, const Tensor& b) {
    // A view of a tensor with its bytes in its own block holds it as storage, pointing at its data.
    const void* base_a = a->storage ? a->storage.get() : a->data;
    const void* base_b = b->storage ? b->storage.get() : b->data;
    return base_a == base_b;
}

Tensor full(DType dtype, const Shape& shape, double value) {
    Tensor t = empty(dtype, shape);
    dispatch(dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::fill<T>(t->size(), static_cast<T>(value), t->ptr<T>());
    });
    return t;
}

Tensor zeros(DType dtype, const Shape& shape) { return full(dtype, shape, 0.0); }

Tensor wrap(DType dtype, const Shape& shape, const Strides& strides, void* data, std::shared_ptr<void> owner) {
    auto t = std::allocate_shared<TensorImpl>(pool::Allocator<TensorImpl>(), dtype, shape, strides);
    t->data = data;
    t->storage = std::move(owner);
    return t;
}

Tensor view(const Tensor& t, const Shape& shape, const Strides& strides, index_t offset_elements) {
    char* base = static_cast<char*>(t->data) + offset_elements * static_cast<index_t>(itemsize(t->dtype));
    return wrap(t->dtype, shape, strides, base, memory_owner(t));
}

Tensor contiguous(const Tensor& t) { return t->is_contiguous() ? t : contiguous_copy(t); }

Tensor contiguous_copy(const Tensor& t) { return copy_of(t->dtype, t->shape, t->strides, t->data); }

Tensor copy_of(DType dtype, const Shape& shape, const Strides& strides, const void* data) {
    Tensor out = empty(dtype, shape);
    if (contiguous_layout(shape, strides)) {
        std::memcpy(out->data, data, static_cast<std::size_t>(out->size()) * itemsize(dtype));
        return out;
    }
    dispatch(dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::strided_copy<T>(shape.ndim, shape.dims.data(), static_cast<const T*>(data), strides.data(),
                                 out->ptr<T>(), out->strides.data());
    });
    return out;
}

Tensor converted(const Tensor& t, DType dtype) {
    Tensor src = contiguous(t);
    if (src->dtype == dtype) return src;
    Tensor out = empty(dtype, t->shape);
    if (dtype == DType::f64)
        kernels::convert<float, double>(src->size(), src->ptr<float>(), out->ptr<double>());
    else
        kernels::convert<double, float>(src->size(), src->ptr<double>(), out->ptr<float>());
    return out;
}

}  // namespace pyflux::autodiff
