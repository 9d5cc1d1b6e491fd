// The layout of a native step (capture/native_source.cpp): which buffers its instructions name,
// how many elements of each they touch, which of them the step writes, which are data and which
// small constants it has in its code.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "autodiff/tiny.hpp"

namespace pyflux::capture {

using autodiff::DType;
using autodiff::index_t;
using autodiff::TinyCode;
using autodiff::TinyInstr;

/// A list of a step's instructions with the name of its Fixed variables' prefix, F (forward), B
/// (backward) or D (descents), and `from`, its TinyRun field.
struct List {
    const TinyCode& code;
    const char* prefix;
    const char* from;
};
using Lists = std::array<List, 3>;

Lists lists_of(const TinyCode& forward, const TinyCode& backward, const TinyCode& descents);

/// How many elements instruction i reads or writes through operand k (autodiff/tiny.hpp).
index_t extent(const TinyInstr& i, int k);
/// Whether instruction i writes through operand k.
bool writes(const TinyInstr& i, int k);

/// Where the step's buffers are. Each buffer the instructions name, but the data, becomes an array
/// of the native step, copied from the buffer when the step starts and back when it returns: the
/// arrays alias nothing, so the compiler need not reload a value after every store and can keep it
/// in a register from one instruction to the next. A small constant (an exponent, a loss's scale)
/// is written into the source, so that the compiler folds it: a square needs no pow. A datum is
/// read where the current step's item is.
struct Layout {
    struct Buffer {
        const void* data;  // its memory when the source was made
        index_t extent;    // elements
        // Where the step finds it: operand k of instruction j of list `list`, or (list kLoss or
        // kSeed) the TinyRun's loss or seed.
        int list;
        std::size_t j;
        int k;
        bool written = false;
        std::string baked;  // a constant's bytes, written into the source; empty for the others
    };
    static constexpr int kLoss = -1, kSeed = -2;
    static constexpr index_t kLargestBaked = 16;       // elements of a constant written into the source
    static constexpr index_t kLargestArrays = 1 << 16;  // bytes of the step's arrays
    // An operand's reference: a buffer's index, kNone, or datum_ref(k) for datum k.
    static constexpr int kNone = -1;
    static int datum_ref(std::size_t k) { return -2 - static_cast<int>(k); }
    static int datum_of(int ref) { return -2 - ref; }

    std::vector<Buffer> buffers;
    std::array<std::vector<std::array<int, 5>>, 3> refs;  // by list and instruction, each operand's
    int loss = kNone, seed = kNone;                        // the buffers of the loss and its seed
    bool valid = true;  // false where two buffers overlap without being one, or the arrays are too large

    /// The layout of the lists' buffers: data at those addresses, the loss and its gradient (the
    /// seed) at theirs, parameters (never baked, since they may change between runs) at theirs.
    Layout(const Lists& lists, const std::vector<void* const*>& data, const void* loss_data, const void* seed_data,
           const std::vector<const void*>& params, DType dtype);

    /// Element e of buffer b, as a double.
    static double value(const Buffer& b, DType dtype, index_t e);

private:
    int buffer(const void* data, index_t extent, int list, std::size_t j, int k);
    static bool finite(const Buffer& b, DType dtype);
};

}  // namespace pyflux::capture
