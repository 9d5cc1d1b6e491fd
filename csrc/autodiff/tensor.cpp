#include "autodiff/tensor.hpp"

#include <cstdlib>
#include <new>
#include <stdexcept>

#include "kernels/elementwise.hpp"
#include "kernels/strided.hpp"

namespace pyflux::autodiff {

namespace {
constexpr std::size_t kSmallAllocation = 4096;
}  // namespace

std::string Shape::str() const {
    std::string s = "(";
    for (int d = 0; d < ndim; ++d) {
        if (d) s += ", ";
        s += std::to_string(dims[d]);
    }
    if (ndim == 1) s += ",";
    return s + ")";
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

Tensor empty(DType dtype, const Shape& shape) {
    auto t = std::make_shared<TensorImpl>();
    t->dtype = dtype;
    t->shape = shape;
    t->strides = contiguous_strides(shape);
    // Large buffers are 64-byte aligned for vector loads; small ones take plain malloc, which is
    // several times cheaper and matters when a training step is made of tiny arrays.
    std::size_t bytes = static_cast<std::size_t>(shape.size()) * itemsize(dtype);
    void* p = nullptr;
    if (bytes <= kSmallAllocation) {
        p = std::malloc(bytes == 0 ? 1 : bytes);
    } else {
        p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    }
    if (!p) throw std::bad_alloc();
    t->storage = std::shared_ptr<void>(p, std::free);
    t->data = p;
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
    auto t = std::make_shared<TensorImpl>();
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
