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

bool TensorImpl::is_contiguous() const {
    index_t expected = 1;
    for (int d = shape.ndim - 1; d >= 0; --d) {
        if (shape[d] != 1 && strides[d] != expected) return false;
        expected *= shape[d];
    }
    return true;
}

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

}  // namespace

Tensor empty(DType dtype, const Shape& shape) {
    auto t = std::allocate_shared<TensorImpl>(pool::Allocator<TensorImpl>());
    t->dtype = dtype;
    t->shape = shape;
    t->strides = contiguous_strides(shape);
    const index_t n = shape.size();
    for (int d = 0; d < shape.ndim; ++d)
        if (shape[d] < 0) throw std::invalid_argument("shape " + shape.str() + " has a negative dimension");
    if (n > static_cast<index_t>(PTRDIFF_MAX / 8)) throw std::invalid_argument("shape " + shape.str() + " is too large to allocate");
    t->storage = allocate(static_cast<std::size_t>(n) * itemsize(dtype));
    t->data = t->storage.get();
    return t;
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
    auto t = std::allocate_shared<TensorImpl>(pool::Allocator<TensorImpl>());
    t->dtype = dtype;
    t->shape = shape;
    t->strides = strides;
    t->data = data;
    t->storage = std::move(owner);
    return t;
}

Tensor view(const Tensor& t, const Shape& shape, const Strides& strides, index_t offset_elements) {
    char* base = static_cast<char*>(t->data) + offset_elements * static_cast<index_t>(itemsize(t->dtype));
    return wrap(t->dtype, shape, strides, base, t->storage);
}

Tensor contiguous(const Tensor& t) { return t->is_contiguous() ? t : contiguous_copy(t); }

Tensor contiguous_copy(const Tensor& t) {
    Tensor out = empty(t->dtype, t->shape);
    if (t->is_contiguous()) {
        std::memcpy(out->data, t->data, static_cast<std::size_t>(t->size()) * itemsize(t->dtype));
        return out;
    }
    dispatch(t->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::strided_copy<T>(t->shape.ndim, t->shape.dims.data(), t->ptr<T>(), t->strides.data(),
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
