// A native step: the loop over a tiny step's data items as C++ source, built into a shared library
// by pyflux.native and run in place of the instruction list. Each instruction becomes a call of its
// loop (autodiff/tiny_loops.hpp) on a tiny_loops::Fixed, whose sizes and flags are constants, over
// arrays of the step's own that hold its buffers while it runs, so the compiler schedules the
// whole step, keeping values in registers where it can; the buffers' addresses and `param`
// (Descent's η among them) are read from the step's instructions when the loop starts. The text
// depends only on the step's shape (ops, sizes, dtype, the data's count, which operands share a
// buffer, the small constants' values: capture/native_layout.hpp), so every capture of one model
// and loss shares it.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <type_traits>

#include "capture/flat_step.hpp"
#include "capture/native_layout.hpp"
#include "capture/native_library.hpp"

namespace pyflux::capture {
namespace {

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

// The expression of buffer b's pointer in the step's TinyRun r.
std::string where(const Layout::Buffer& b, const Lists& lists) {
    if (b.list == Layout::kLoss) return "r.loss";
    if (b.list == Layout::kSeed) return "r.seed";
    std::string out;
    append(out, "*r.", lists[static_cast<std::size_t>(b.list)].from, "[", b.j, "].p[", b.k, "]");
    return out;
}

// What the source depends on: the dtype, the count of data, each instruction's fields but its
// param (which the step reads when it starts) and its operands, as the layout names them, as bytes.
std::string signature(DType dtype, std::size_t data, const Lists& lists, const Layout& layout) {
    std::string out;
    out.reserve(64 + 8 * 22 * (lists[0].code.code.size() + lists[1].code.code.size() + lists[2].code.code.size()));
    const auto fields = [&out](std::initializer_list<std::int64_t> values) {
        out.append(reinterpret_cast<const char*>(values.begin()), values.size() * sizeof(std::int64_t));
    };
    fields({static_cast<std::int64_t>(dtype), static_cast<std::int64_t>(data), layout.loss, layout.seed});
    for (const Layout::Buffer& b : layout.buffers) {
        fields({b.extent, b.written, static_cast<std::int64_t>(b.baked.size())});
        out += b.baked;
    }
    for (std::size_t l = 0; l < lists.size(); ++l) {
        fields({static_cast<std::int64_t>(lists[l].code.code.size())});
        for (std::size_t j = 0; j < lists[l].code.code.size(); ++j) {
            const TinyInstr& i = lists[l].code.code[j];
            const std::array<int, 5>& r = layout.refs[l][j];
            fields({i.code, i.op, i.wrt, i.add, i.ta, i.tb, i.sa, i.sb, i.n, i.m, i.k, i.outer, i.inner, i.lda, i.ldb,
                    i.ldc, r[0], r[1], r[2], r[3], r[4]});
        }
    }
    return out;
}

// The call of instruction j of a list: its loop on a tiny_loops::Fixed over the step's arrays and
// the current step's data (made for each step, so that the compiler sees which array each operand
// is), its param P<prefix><j> read when the step starts.
void call(std::string& out, const List& l, std::size_t j, const std::array<int, 5>& refs) {
    const TinyInstr& i = l.code.code[j];
    append(out, "        ", l.code.loop_text(i), "(Fixed<TinyInstr::Code(", int(i.code), "), ", i.add ? "true" : "false",
           ", ", i.n, ", ", i.m, ", ", i.k, ", ", i.outer, ", ", i.inner, ", ", i.lda, ", ", i.ldb, ", ", i.ldc, ">{{");
    for (int k = 0; k < 5; ++k) {
        if (k) out += ", ";
        if (refs[k] >= 0)
            append(out, "L", refs[k]);
        else if (refs[k] == Layout::kNone)
            out += "nullptr";
        else
            append(out, "const_cast<void*>(d[", Layout::datum_of(refs[k]), "])");
    }
    append(out, "}, P", l.prefix, j, "});\n");
}

// The source of a step of these instructions, dtype, count of data and layout.
std::string source_text(DType dtype, std::size_t data, const Lists& lists, const Layout& layout) {
    const std::string t = dtype == DType::f32 ? "float" : "double";
    std::string out;
    out.reserve(16384);
    append(out, "// A captured step of pyflux, built for its sizes (pyflux.native).\n",
           "#include <cmath>\n#include \"autodiff/tiny_loops.hpp\"\n\n",
           "using namespace pyflux::autodiff;\nusing namespace pyflux::autodiff::tiny_loops;\n\n",
           "extern \"C\" index_t pyflux_steps(const TinyRun& r) {\n");
    for (std::size_t b = 0; b < layout.buffers.size(); ++b) {
        const Layout::Buffer& buf = layout.buffers[b];
        if (!buf.baked.empty()) {
            append(out, "    ", t, " L", b, "[", buf.extent, "] = {");
            for (index_t e = 0; e < buf.extent; ++e) {
                char digits[40];
                const double v = Layout::value(buf, dtype, e);  // exact, as a hexadecimal literal
                append(out, e ? ", " : "", t, std::signbit(v) ? "(-0x" : "(0x");
                out.append(digits, std::to_chars(digits, digits + sizeof digits, std::fabs(v), std::chars_format::hex).ptr);
                out += ")";
            }
            out += "};\n";
            continue;
        }
        append(out, "    ", t, "* const M", b, " = static_cast<", t, "*>(", where(buf, lists), ");\n    ", t, " L", b, "[",
               buf.extent, "];\n    copy_from(L", b, ", M", b, ");\n");
    }
    for (const List& l : lists)
        for (std::size_t j = 0; j < l.code.code.size(); ++j)
            append(out, "    const double P", l.prefix, j, " = r.", l.from, "[", j, "].param;\n");
    // The written arrays go back to the buffers when the step returns (inline: a function taking
    // them would make them memory).
    std::string save;
    for (std::size_t b = 0; b < layout.buffers.size(); ++b)
        if (layout.buffers[b].written) append(save, save.empty() ? "" : " ", "copy_to(M", b, ", L", b, ");");
    append(out, "    for (index_t s = 0; s < r.steps; ++s) {\n", "        const void* const* d = r.pointers + s * ", data,
           ";\n");
    const auto calls = [&](std::size_t l) {
        for (std::size_t j = 0; j < lists[l].code.code.size(); ++j) call(out, lists[l], j, layout.refs[l][j]);
    };
    calls(0);
    append(out, "        const double value = L", layout.loss, "[0];\n", "        r.losses[s] = value;\n",
           "        if (!std::isfinite(value)) {\n            ", save, "\n            return s;\n        }\n",
           "        L", layout.seed, "[0] = ", t, "(1);\n");
    calls(1);
    calls(2);
    append(out, "    }\n    ", save, "\n    return r.steps;\n}\n\n",
           "extern \"C\" std::uint64_t pyflux_steps_abi() { return tiny_abi(); }\n");
    return out;
}

}  // namespace

bool FlatStep::can_run_native() const {
    return tiny_ && copies_.empty() && updates_.empty() && grads_[static_cast<std::size_t>(loss_slot_)].data;
}

template <class F>
bool FlatStep::with_native_layout(F&& f) const {
    if (!can_run_native()) return false;
    const auto loss = static_cast<std::size_t>(loss_slot_);
    std::vector<void* const*> data;
    for (int s : data_slots_) data.push_back(&values_[static_cast<std::size_t>(s)].data);
    std::vector<const void*> params;
    for (const Tensor& p : params_) params.push_back(p->data);
    const Lists lists = lists_of(tiny_forward_, tiny_backward_, descents_);
    const DType dtype = tiny_forward_.dtype;
    const Layout layout(lists, data, values_[loss].data, grads_[loss].data, params, dtype);
    if (!layout.valid) return false;
    f(dtype, data.size(), lists, layout);
    return true;
}

std::string FlatStep::native_source() const {
    std::string out;
    with_native_layout([&](DType dtype, std::size_t data, const Lists& lists, const Layout& layout) {
        out = source_text(dtype, data, lists, layout);
    });
    return out;
}

bool FlatStep::load_native(const std::string& source, const std::string& path) {
    bool loaded = false;
    with_native_layout([&](DType dtype, std::size_t data, const Lists& lists, const Layout& layout) {
        if (source.empty() || source_text(dtype, data, lists, layout) != source) return;
        const autodiff::TinySteps steps = capture::load_native(path);
        attach_native(steps, layout);
        remember_native(signature(dtype, data, lists, layout), steps);
        loaded = true;
    });
    return loaded;
}

void FlatStep::attach_native(autodiff::TinySteps steps, const Layout& layout) {
    native_ = steps;
    native_params_ = descent_params_;
    native_baked_.clear();
    for (const Layout::Buffer& b : layout.buffers)
        if (!b.baked.empty()) native_baked_.emplace_back(b.data, b.baked);
}

bool FlatStep::attach_known_native() {
    autodiff::TinySteps steps = nullptr;
    with_native_layout([&](DType dtype, std::size_t data, const Lists& lists, const Layout& layout) {
        steps = known_native(signature(dtype, data, lists, layout));
        if (steps) attach_native(steps, layout);
    });
    return steps != nullptr;
}

bool FlatStep::baked_changed() const {
    for (const auto& [at, bytes] : native_baked_)
        if (std::memcmp(at, bytes.data(), bytes.size()) != 0) return true;
    return false;
}

bool FlatStep::reads_parameter(const std::vector<Span>& data) const {
    for (const Tensor& p : params_) {
        const Span bytes = byte_span(p);
        // The first span ending after the parameter starts is the only one that may overlap it.
        const auto after = std::upper_bound(data.begin(), data.end(), bytes.lo, [](std::uintptr_t at, const Span& s) {
            return at < s.hi;
        });
        if (after != data.end() && after->lo < bytes.hi) return true;
    }
    return false;
}

autodiff::index_t FlatStep::run_native(const void* const* pointers, autodiff::index_t steps, double* losses,
                                       bool apart) {
    // The native step holds parameters apart and has the constants in its code: where a datum may
    // be a parameter or a constant changed, step as the loops do.
    if (!apart || baked_changed()) {
        for (autodiff::index_t s = 0; s < steps; ++s) {
            losses[s] = step(pointers + static_cast<std::size_t>(s) * data_slots_.size());
            if (!std::isfinite(losses[s])) return s;
        }
        return steps;
    }
    const auto loss = static_cast<std::size_t>(loss_slot_);
    const autodiff::TinyRun r{tiny_forward_.code.data(), tiny_backward_.code.data(), descents_.code.data(),
                              pointers, values_[loss].data, grads_[loss].data, steps, losses};
    return native_(r);
}

}  // namespace pyflux::capture
