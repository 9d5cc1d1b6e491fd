// The data of a captured training loop, read in C++: arrays holding every observation, from which
// each step takes its item, as pyflux.DataLoader and train's other data forms would give it.
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/tensor.hpp"

namespace pyflux::capture {

using autodiff::index_t;
using autodiff::Tensor;

/// Whether t is 2-D and Fortran-ordered but not C-contiguous: a batch-first array seen features x
/// batch, which the flat step reads as a transposed buffer (autodiff::FlatBuf).
bool transposed(const Tensor& t);

/// The bytes [lo, hi) a datum can be read from; lo == hi for none.
struct Span {
    std::uintptr_t lo = 0, hi = 0;
};

/// The bytes t's elements lie in.
Span byte_span(const Tensor& t);

class Feed {
public:
    /// batch > 0: step s takes observations order[s*batch .. (s+1)*batch) along each source's last
    /// axis into a new array of `batch` observations (C- or Fortran-ordered like the source);
    /// batch == 0: step s takes observation order[s] along each source's first axis, without
    /// that axis (a view, no copy). Sources must be C- or Fortran-contiguous; order's entries
    /// must be valid observation indices (checked here).
    Feed(std::vector<Tensor> sources, std::vector<std::int64_t> order, index_t batch);
    /// Items given one by one (each a list of tensors of the same shapes and dtypes as item 0's):
    /// step s takes item order[s] as it is, no copy.
    Feed(std::vector<std::vector<Tensor>> items, std::vector<std::int64_t> order);

    index_t steps() const { return steps_; }
    /// How many items a feed of items holds (0 for a feed of arrays).
    index_t item_count() const { return static_cast<index_t>(items_.size()); }
    /// The data of step s, into `out` (whose capacity a loop reuses).
    void item(index_t s, std::vector<Tensor>& out);
    /// Whether every step's data are laid out alike, each datum C-contiguous or transposed() as in step
    /// 0, so that data() may be read instead of item().
    bool contiguous() const { return contiguous_; }
    /// Where each datum of steps s .. s+n starts (contiguous(): laid out as item() would give it),
    /// step by step: out[i * data count + k] is datum k of step s + i (n == 1 where gathers()).
    /// Unchecked.
    void pointers(index_t s, index_t n, const void** out);
    /// Whether data() gathers each step's batch into one buffer, so that a step's data move when the
    /// next step's are read.
    bool gathers() const { return batch_ > 0; }
    /// The bytes every step's data lie in, as disjoint spans in address order (a gathered batch is
    /// the feed's own memory and not among them).
    const std::vector<Span>& spans() const { return spans_; }

private:
    /// Where datum k of step s starts, as pointers() gives it.
    const void* data(index_t s, std::size_t k);
    Tensor gather(std::size_t k, const std::int64_t* idx);
    /// spans_ sorted by address, the empty ones dropped and the touching ones joined.
    void merge_spans();

    std::vector<std::vector<Tensor>> items_;
    std::vector<Tensor> sources_;
    std::vector<std::int64_t> order_;
    index_t batch_;
    index_t steps_;
    bool contiguous_ = true;
    std::vector<Span> spans_;
    std::vector<Tensor> buffers_;  // the last batch of each source, reused when nothing else holds it
};

}  // namespace pyflux::capture
