#include "capture/native_layout.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace pyflux::capture {

Lists lists_of(const TinyCode& forward, const TinyCode& backward, const TinyCode& descents) {
    return {List{forward, "F", "forward"}, List{backward, "B", "backward"}, List{descents, "D", "descents"}};
}

index_t extent(const TinyInstr& i, int k) {
    const auto whole = [&](index_t s) { return s ? i.n : 1; };
    switch (i.code) {
        case TinyInstr::binary: return k == 0 ? whole(i.sa) : k == 1 ? whole(i.sb) : i.n;
        case TinyInstr::binary_grad:
        case TinyInstr::binary_grad_one:
            if (k == 1) return whole(i.sa);
            if (k == 2) return whole(i.sb);
            return k == 4 && i.code == TinyInstr::binary_grad_one ? 1 : i.n;
        case TinyInstr::unary:
        case TinyInstr::unary_grad:
        case TinyInstr::descent: return i.n;
        case TinyInstr::sum: return k == 0 ? i.outer * i.n * i.inner : i.outer * i.inner;
        case TinyInstr::sum_grad: return k == 0 ? i.outer * i.inner : i.outer * i.n * i.inner;
        case TinyInstr::gemm:
            if (k == 0) return i.ta ? (i.k - 1) * i.lda + i.m : (i.m - 1) * i.lda + i.k;
            if (k == 1) return i.tb ? (i.n - 1) * i.ldb + i.k : (i.k - 1) * i.ldb + i.n;
            return (i.m - 1) * i.ldc + i.n;
        case TinyInstr::bias: return k == 0 ? i.m : i.m * i.n;
        case TinyInstr::bias_grad: return k == 0 ? i.m * i.n : i.m;
    }
    return 0;
}

bool writes(const TinyInstr& i, int k) {
    switch (i.code) {
        case TinyInstr::binary:
        case TinyInstr::unary_grad:
        case TinyInstr::gemm: return k == 2;
        case TinyInstr::binary_grad:
        case TinyInstr::binary_grad_one: return k == 4;
        default: return k == 1;
    }
}

Layout::Layout(const Lists& lists, const std::vector<void* const*>& data, const void* loss_data,
               const void* seed_data, const std::vector<const void*>& params, DType dtype) {
    const std::size_t element = autodiff::itemsize(dtype);
    for (std::size_t l = 0; l < lists.size(); ++l)
        for (std::size_t j = 0; j < lists[l].code.code.size(); ++j) {
            const TinyInstr& i = lists[l].code.code[j];
            std::array<int, 5>& r = refs[l].emplace_back();
            for (int k = 0; k < 5; ++k) {
                r[k] = kNone;
                if (!i.p[k]) continue;
                const auto datum = std::find(data.begin(), data.end(), i.p[k]);
                if (datum != data.end()) {
                    r[k] = datum_ref(static_cast<std::size_t>(datum - data.begin()));
                    continue;
                }
                r[k] = buffer(*i.p[k], extent(i, k), static_cast<int>(l), j, k);
                buffers[static_cast<std::size_t>(r[k])].written |= writes(i, k);
            }
        }
    loss = buffer(loss_data, 1, kLoss, 0, 0);
    seed = buffer(seed_data, 1, kSeed, 0, 0);
    buffers[static_cast<std::size_t>(loss)].written = buffers[static_cast<std::size_t>(seed)].written = true;
    // Buffers in address order, each of which must end before the next begins.
    std::vector<std::pair<const char*, const char*>> spans;
    for (const Buffer& b : buffers) {
        const auto begin = static_cast<const char*>(b.data);
        spans.emplace_back(begin, begin + b.extent * static_cast<index_t>(element));
    }
    std::sort(spans.begin(), spans.end());
    for (std::size_t b = 1; b < spans.size(); ++b) valid = valid && spans[b - 1].second <= spans[b].first;
    // The arrays live on the stack of the thread that trains, and every loop over them is unrolled:
    // a step with more than kLargestArrays bytes of them keeps its loops.
    index_t bytes = 0;
    for (const Buffer& b : buffers) {
        valid = valid && b.extent > 0;
        bytes += b.extent * static_cast<index_t>(element);
    }
    valid = valid && bytes <= kLargestArrays;
    for (Buffer& b : buffers)
        if (valid && !b.written && b.extent <= kLargestBaked &&
            std::find(params.begin(), params.end(), b.data) == params.end() && finite(b, dtype))
            b.baked.assign(static_cast<const char*>(b.data), static_cast<std::size_t>(b.extent) * element);
}

bool Layout::finite(const Buffer& b, DType dtype) {
    for (index_t e = 0; e < b.extent; ++e)
        if (!std::isfinite(value(b, dtype, e))) return false;
    return true;
}

double Layout::value(const Buffer& b, DType dtype, index_t e) {
    return dtype == DType::f32 ? static_cast<const float*>(b.data)[e] : static_cast<const double*>(b.data)[e];
}

// The buffer at `data`, added where new (found where `list`, j and k say), at least `extent`
// elements long.
int Layout::buffer(const void* data, index_t extent, int list, std::size_t j, int k) {
    for (std::size_t b = 0; b < buffers.size(); ++b)
        if (buffers[b].data == data) {
            buffers[b].extent = std::max(buffers[b].extent, extent);
            return static_cast<int>(b);
        }
    if (!data) valid = false;
    buffers.push_back({data, extent, list, j, k});
    return static_cast<int>(buffers.size() - 1);
}

}  // namespace pyflux::capture
