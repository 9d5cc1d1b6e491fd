#include "capture/feed.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace pyflux::capture {
namespace {

bool fortran_ordered(const Tensor& t) {
    index_t expect = 1;
    for (int d = 0; d < t->shape.ndim; ++d) {
        if (t->shape[d] != 1 && t->strides[d] != expect) return false;
        expect *= t->shape[d];
    }
    return true;
}

}  // namespace

Span byte_span(const Tensor& t) {
    if (t->size() == 0) return {};
    std::ptrdiff_t lo = 0, hi = 0;
    for (int d = 0; d < t->shape.ndim; ++d) {
        const std::ptrdiff_t reach = (t->shape[d] - 1) * t->strides[d];
        (reach < 0 ? lo : hi) += reach;
    }
    const auto size = static_cast<std::ptrdiff_t>(autodiff::itemsize(t->dtype));
    const auto at = reinterpret_cast<std::uintptr_t>(t->data);
    return {at + static_cast<std::uintptr_t>(lo * size), at + static_cast<std::uintptr_t>((hi + 1) * size)};
}

bool transposed(const Tensor& t) { return t->shape.ndim == 2 && !t->is_contiguous() && fortran_ordered(t); }

Feed::Feed(std::vector<Tensor> sources, std::vector<std::int64_t> order, index_t batch)
    : sources_(std::move(sources)), order_(std::move(order)), batch_(batch), buffers_(sources_.size()) {
    if (sources_.empty()) throw std::invalid_argument("capture: no data arrays");
    if (batch_ < 0) throw std::invalid_argument("capture: negative batch size");
    const int axis_of_obs = batch_ > 0 ? -1 : 0;
    index_t n = -1;
    for (const Tensor& s : sources_) {
        if (s->shape.ndim < 1) throw std::invalid_argument("capture: data arrays need an observation axis");
        if (!s->is_contiguous() && !(batch_ > 0 && fortran_ordered(s)))
            throw std::invalid_argument("capture: data arrays must be contiguous");
        // A Fortran-ordered source gives Fortran-ordered batches: transposed ones when 2-D.
        contiguous_ = contiguous_ && (s->is_contiguous() || (batch_ > 0 && s->shape.ndim == 2));
        const index_t count = s->shape[axis_of_obs < 0 ? s->shape.ndim - 1 : 0];
        if (n >= 0 && count != n) throw std::invalid_argument("capture: data arrays differ in observation count");
        n = count;
    }
    for (std::int64_t i : order_)
        if (i < 0 || i >= n) throw std::out_of_range("capture: observation " + std::to_string(i) + " of " + std::to_string(n));
    steps_ = batch_ > 0 ? static_cast<index_t>(order_.size()) / batch_ : static_cast<index_t>(order_.size());
    if (batch_ == 0)
        for (const Tensor& s : sources_) spans_.push_back(byte_span(s));
    merge_spans();
}

Feed::Feed(std::vector<std::vector<Tensor>> items, std::vector<std::int64_t> order)
    : items_(std::move(items)), order_(std::move(order)), batch_(0) {
    if (items_.empty()) throw std::invalid_argument("capture: no data items");
    const std::vector<Tensor>& first = items_[0];
    for (const std::vector<Tensor>& item : items_) {
        for (std::size_t k = 0; k < item.size() && k < first.size(); ++k)
            contiguous_ = contiguous_ && (transposed(first[k]) ? transposed(item[k]) : item[k]->is_contiguous());
        bool same = item.size() == first.size();
        for (std::size_t k = 0; same && k < item.size(); ++k)
            same = item[k]->shape == first[k]->shape && item[k]->dtype == first[k]->dtype;
        if (!same) throw std::invalid_argument("capture: data items differ in shape or dtype");
    }
    const auto n = static_cast<std::int64_t>(items_.size());
    for (std::int64_t i : order_)
        if (i < 0 || i >= n) throw std::out_of_range("capture: item " + std::to_string(i) + " of " + std::to_string(n));
    steps_ = static_cast<index_t>(order_.size());
    for (const std::vector<Tensor>& item : items_)
        for (const Tensor& t : item) spans_.push_back(byte_span(t));
    merge_spans();
}

void Feed::merge_spans() {
    std::sort(spans_.begin(), spans_.end(), [](const Span& a, const Span& b) { return a.lo < b.lo; });
    std::size_t n = 0;
    for (const Span& s : spans_) {
        if (s.lo == s.hi) continue;
        if (n > 0 && s.lo <= spans_[n - 1].hi)
            spans_[n - 1].hi = std::max(spans_[n - 1].hi, s.hi);
        else
            spans_[n++] = s;
    }
    spans_.resize(n);
}

void Feed::item(index_t s, std::vector<Tensor>& out) {
    if (s < 0 || s >= steps_) throw std::out_of_range("capture: step " + std::to_string(s));
    out.clear();
    if (!items_.empty()) {
        const std::vector<Tensor>& item = items_[static_cast<std::size_t>(order_[static_cast<std::size_t>(s)])];
        out.assign(item.begin(), item.end());
        return;
    }
    for (std::size_t k = 0; k < sources_.size(); ++k) {
        const Tensor& src = sources_[k];
        if (batch_ > 0) {
            out.push_back(gather(k, order_.data() + s * batch_));
            continue;
        }
        autodiff::Shape shape;
        autodiff::Strides strides{};
        shape.ndim = src->shape.ndim - 1;
        for (int d = 1; d < src->shape.ndim; ++d) {
            shape.dims[d - 1] = src->shape[d];
            strides[d - 1] = src->strides[d];
        }
        out.push_back(autodiff::view(src, shape, strides, order_[static_cast<std::size_t>(s)] * src->strides[0]));
    }
}

const void* Feed::data(index_t s, std::size_t k) {
    const auto at = static_cast<std::size_t>(s);
    if (!items_.empty()) return items_[static_cast<std::size_t>(order_[at])][k]->data;
    const Tensor& src = sources_[k];
    if (batch_ > 0) return gather(k, order_.data() + s * batch_)->data;
    return src->ptr<char>() + order_[at] * src->strides[0] * static_cast<index_t>(autodiff::itemsize(src->dtype));
}

void Feed::pointers(index_t s, index_t n, const void** out) {
    const std::int64_t* order = order_.data() + s;
    if (!items_.empty()) {
        const std::size_t count = items_[0].size();
        for (index_t i = 0; i < n; ++i) {
            const std::vector<Tensor>& item = items_[static_cast<std::size_t>(order[i])];
            for (std::size_t k = 0; k < count; ++k) out[static_cast<std::size_t>(i) * count + k] = item[k]->data;
        }
        return;
    }
    const std::size_t count = sources_.size();
    for (std::size_t k = 0; k < count; ++k) {
        if (batch_ > 0) {
            out[k] = data(s, k);
            continue;
        }
        const Tensor& src = sources_[k];
        const char* base = src->ptr<char>();
        const index_t row = src->strides[0] * static_cast<index_t>(autodiff::itemsize(src->dtype));
        for (index_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i) * count + k] = base + order[i] * row;
    }
}

Tensor Feed::gather(std::size_t k, const std::int64_t* idx) {
    const Tensor& src = sources_[k];
    const int nd = src->shape.ndim;
    const index_t n = src->shape[nd - 1];
    const index_t rows = n > 0 ? src->size() / n : 0;
    const bool fortran = !src->is_contiguous();
    Tensor& buf = buffers_[k];
    // A step's data is referenced by its ops until the step ends; after that the buffer is free.
    if (!buf || buf.use_count() > 1 || buf->storage.use_count() > 1) {
        autodiff::Shape shape = src->shape;
        shape.dims[nd - 1] = batch_;
        buf = autodiff::empty(src->dtype, shape);
        if (fortran) {
            autodiff::Strides strides{};
            index_t stride = 1;
            for (int d = 0; d < nd; ++d) {
                strides[d] = stride;
                stride *= shape[d];
            }
            buf = autodiff::view(buf, shape, strides, 0);
        }
    }
    autodiff::dispatch(src->dtype, [&](auto tag) {
        using T = decltype(tag);
        const T* from = src->ptr<T>();
        T* to = buf->ptr<T>();
        if (fortran) {
            // Each observation is one contiguous block of `rows` elements.
            for (index_t j = 0; j < batch_; ++j) std::memcpy(to + j * rows, from + idx[j] * rows, rows * sizeof(T));
            return;
        }
        for (index_t r = 0; r < rows; ++r, from += n, to += batch_)
            for (index_t j = 0; j < batch_; ++j) to[j] = from[idx[j]];
    });
    return buf;
}

}  // namespace pyflux::capture
