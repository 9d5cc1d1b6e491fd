// A native step: the loop over a tiny step's data items as C++ source, built into a shared library
// by pyflux.native and run in place of the instruction list. Each instruction becomes a call of its
// loop (autodiff/tiny_loops.hpp) on a tiny_loops::Fixed, whose sizes and flags are constants, so the
// compiler unrolls and schedules the whole step; operands and `param` (Descent's η among them) are
// read from the step's instructions when the loop starts. The text depends only on the step's
// shape (ops, sizes, dtype, the data's count), so every capture of one model and loss shares it.
#include <array>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "capture/flat_step.hpp"

namespace pyflux::capture {
namespace {

using autodiff::TinyCode;
using autodiff::TinyInstr;

// Appends its arguments (text and integers) to `to`: an ostream's formatting cost several times as
// much, for a source made at the first capture of a shape in a process.
void put(std::string& to, const char* text) { to += text; }
void put(std::string& to, const std::string& text) { to += text; }
template <class I, std::enable_if_t<std::is_integral_v<I>, int> = 0>
void put(std::string& to, I value) {
    char digits[24];
    to.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}
template <class... A>
void append(std::string& to, const A&... parts) {
    (put(to, parts), ...);
}

// Instruction j of a list as a tiny_loops::Fixed named prefix + j, its operands and param read from
// r.from[j].
void instruction(std::string& out, const char* prefix, std::size_t j, const TinyInstr& i, const char* from) {
    append(out, "    const Fixed<TinyInstr::Code(", int(i.code), "), ", i.add ? "true" : "false", ", ", i.n, ", ", i.m,
           ", ", i.k, ", ", i.outer, ", ", i.inner, ", ", i.lda, ", ", i.ldb, ", ", i.ldc, "> ", prefix, j, "{r.", from,
           "[", j, "].p, r.", from, "[", j, "].param};\n");
}

// One prefix per list: F (forward), B (backward), D (descents), with `from` the TinyRun field.
struct List {
    const TinyCode& code;
    const char* prefix;
    const char* from;
};
using Lists = std::array<List, 3>;

Lists lists_of(const TinyCode& forward, const TinyCode& backward, const TinyCode& descents) {
    return {List{forward, "F", "forward"}, List{backward, "B", "backward"}, List{descents, "D", "descents"}};
}

// What the source depends on: the dtype, the count of data and each instruction's fields but its
// operands and param (which the step reads when it starts), as bytes.
std::string signature(DType dtype, std::size_t data, const Lists& lists) {
    std::string out;
    out.reserve(16 + 8 * 17 * (lists[0].code.code.size() + lists[1].code.code.size() + lists[2].code.code.size()));
    const auto fields = [&out](std::initializer_list<std::int64_t> values) {
        out.append(reinterpret_cast<const char*>(values.begin()), values.size() * sizeof(std::int64_t));
    };
    fields({static_cast<std::int64_t>(dtype), static_cast<std::int64_t>(data)});
    for (const List& l : lists) {
        fields({static_cast<std::int64_t>(l.code.code.size())});
        for (const TinyInstr& i : l.code.code)
            fields({i.code, i.op, i.wrt, i.add, i.ta, i.tb, i.sa, i.sb, i.n, i.m, i.k, i.outer, i.inner, i.lda, i.ldb, i.ldc});
    }
    return out;
}

// The source of a step of these instructions, dtype and count of data.
std::string source_text(DType dtype, std::size_t data, const Lists& lists) {
    const std::string t = dtype == DType::f32 ? "float" : "double";
    std::string out;
    out.reserve(16384);
    append(out, "// A captured step of pyflux, built for its sizes (pyflux.native).\n",
           "#include <cmath>\n#include \"autodiff/tiny_loops.hpp\"\n\n",
           "using namespace pyflux::autodiff;\nusing namespace pyflux::autodiff::tiny_loops;\n\n",
           "extern \"C\" index_t pyflux_steps(const TinyRun& r) {\n");
    for (const List& l : lists)
        for (std::size_t j = 0; j < l.code.code.size(); ++j) instruction(out, l.prefix, j, l.code.code[j], l.from);
    append(out, "    for (index_t s = 0; s < r.steps; ++s) {\n", "        const void* const* d = r.pointers + s * ", data,
           ";\n");
    for (std::size_t k = 0; k < data; ++k) append(out, "        *r.data[", k, "] = const_cast<void*>(d[", k, "]);\n");
    const auto calls = [&](const List& l) {
        for (std::size_t j = 0; j < l.code.code.size(); ++j)
            append(out, "        ", l.code.loop_text(l.code.code[j]), "(", l.prefix, j, ");\n");
    };
    calls(lists[0]);
    append(out, "        const double value = *static_cast<const ", t, "*>(r.loss);\n",
           "        r.losses[s] = value;\n", "        if (!std::isfinite(value)) return s;\n",
           "        *static_cast<", t, "*>(r.seed) = ", t, "(1);\n");
    calls(lists[1]);
    calls(lists[2]);
    append(out, "    }\n    return r.steps;\n}\n\n",
           "extern \"C\" std::uint64_t pyflux_steps_abi() { return tiny_abi(); }\n");
    return out;
}

}  // namespace

bool FlatStep::can_run_native() const {
    return tiny_ && copies_.empty() && updates_.empty() && grads_[static_cast<std::size_t>(loss_slot_)].data;
}

std::string FlatStep::native_signature() const {
    if (!can_run_native()) return {};
    return signature(tiny_forward_.dtype, data_slots_.size(), lists_of(tiny_forward_, tiny_backward_, descents_));
}

std::string FlatStep::native_source() const {
    if (!can_run_native()) return {};
    return source_text(tiny_forward_.dtype, data_slots_.size(), lists_of(tiny_forward_, tiny_backward_, descents_));
}

void FlatStep::attach_native(autodiff::TinySteps steps) {
    native_ = steps;
    native_params_ = descent_params_;
    native_data_.resize(data_slots_.size());
    for (std::size_t k = 0; k < native_data_.size(); ++k)
        native_data_[k] = &values_[static_cast<std::size_t>(data_slots_[k])].data;
}

autodiff::index_t FlatStep::run_native(const void* const* pointers, autodiff::index_t steps, double* losses) const {
    const auto loss = static_cast<std::size_t>(loss_slot_);
    const autodiff::TinyRun r{tiny_forward_.code.data(), tiny_backward_.code.data(), descents_.code.data(),
                              native_data_.data(), pointers, values_[loss].data, grads_[loss].data, steps, losses};
    return native_(r);
}

}  // namespace pyflux::capture
