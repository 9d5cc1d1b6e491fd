// Lines of a contiguous [outer x n x inner] block: the n elements along its middle axis, one line
// for each (outer, inner) pair. The kernels that work along a set of axes (softmax, reductions)
// walk these.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// Calls f(line, base, stride) for every line, spread over threads: element k of line number
/// `line` (o * inner + i, the index of its reduced result) is base[k * stride].
template <class F>
void for_each_line(index_t outer, index_t n, index_t inner, F&& f) {
    const index_t lines = outer * inner;
    const index_t grain = std::max<index_t>(1, kGrain / std::max<index_t>(n, 1));
    parallel_for(lines, grain, [&](index_t begin, index_t end) {
        for (index_t l = begin; l < end; ++l) {
            const index_t o = l / inner, i = l % inner;
            f(l, o * n * inner + i, inner);
        }
    });
}

}  // namespace pyflux::kernels
