// Iteration over N strided operands of one shape, the engine of every broadcasting kernel.
#pragma once

#include <array>

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// A shape with one stride vector (in elements) per operand. A broadcast operand has stride 0 on
/// the dimensions it repeats along.
template <int N>
struct StridedLayout {
    int ndim = 0;
    std::array<index_t, kMaxDims> shape{};
    std::array<std::array<index_t, kMaxDims>, N> strides{};

    index_t size() const {
        index_t n = 1;
        for (int d = 0; d < ndim; ++d) n *= shape[d];
        return n;
    }

    /// Drops size-1 dimensions and merges neighbours that every operand walks contiguously, so a
    /// plain same-shape operation becomes one flat loop.
    void collapse() {
        int out = 0;
        for (int d = 0; d < ndim; ++d) {
            if (shape[d] == 1) continue;
            if (out > 0) {
                bool mergeable = true;
                for (int k = 0; k < N; ++k)
                    if (strides[k][out - 1] != strides[k][d] * shape[d]) mergeable = false;
                if (mergeable) {
                    shape[out - 1] *= shape[d];
                    for (int k = 0; k < N; ++k) strides[k][out - 1] = strides[k][d];
                    continue;
                }
            }
            shape[out] = shape[d];
            for (int k = 0; k < N; ++k) strides[k][out] = strides[k][d];
            ++out;
        }
        ndim = out;
    }
};

/// Calls row(offsets, count, inner_strides) for every innermost row of the layout, where offsets[k]
/// is operand k's element offset at the row start. Rows are spread over threads by parallel_for
/// unless Parallel is false (needed when rows accumulate into shared outputs).
template <int N, bool Parallel = true, class Row>
void for_each_row(StridedLayout<N> layout, Row&& row) {
    auto split = [](index_t n, index_t grain, auto&& body) {
        if constexpr (Parallel) parallel_for(n, grain, body);
        else body(index_t{0}, n);
    };
    if (layout.size() == 0) return;
    layout.collapse();
    std::array<index_t, N> inner{};
    if (layout.ndim == 0) {
        row(std::array<index_t, N>{}, index_t{1}, inner);
        return;
    }
    const int last = layout.ndim - 1;
    const index_t count = layout.shape[last];
    for (int k = 0; k < N; ++k) inner[k] = layout.strides[k][last];
    if (last == 0) {
        // One flat dimension: split it between threads.
        split(count, kGrain, [&](index_t begin, index_t end) {
            std::array<index_t, N> off{};
            for (int k = 0; k < N; ++k) off[k] = begin * inner[k];
            row(off, end - begin, inner);
        });
        return;
    }
    index_t rows = 1;
    for (int d = 0; d < last; ++d) rows *= layout.shape[d];
    const index_t grain = std::max<index_t>(1, kGrain / std::max<index_t>(count, 1));
    split(rows, grain, [&](index_t begin, index_t end) {
        std::array<index_t, kMaxDims> idx{};
        std::array<index_t, N> off{};
        index_t r = begin;
        for (int d = last - 1; d >= 0; --d) {
            idx[d] = r % layout.shape[d];
            r /= layout.shape[d];
            for (int k = 0; k < N; ++k) off[k] += idx[d] * layout.strides[k][d];
        }
        for (index_t i = begin; i < end; ++i) {
            row(off, count, inner);
            for (int d = last - 1; d >= 0; --d) {  // odometer step to the next row
                for (int k = 0; k < N; ++k) off[k] += layout.strides[k][d];
                if (++idx[d] < layout.shape[d]) break;
                for (int k = 0; k < N; ++k) off[k] -= idx[d] * layout.strides[k][d];
                idx[d] = 0;
            }
        }
    });
}

/// Contiguous (C-order) strides for a shape.
inline void contiguous_strides_of(int ndim, const index_t* shape, index_t* strides) {
    index_t s = 1;
    for (int d = ndim - 1; d >= 0; --d) {
        strides[d] = s;
        s *= shape[d];
    }
}

}  // namespace pyflux::kernels
