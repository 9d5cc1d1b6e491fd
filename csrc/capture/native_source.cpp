// A native step: the loop over a tiny step's data items as C++ source, built into a shared library
// by pyflux.native and run in place of the instruction list. Each instruction becomes a call of its
// loop (autodiff/tiny_loops.hpp) on a tiny_loops::Fixed, whose sizes and flags are constants, so the
// compiler unrolls and schedules the whole step; operands and `param` (Descent's η among them) are
// read from the step's instructions when the loop starts. The text depends only on the step's
// shape (ops, sizes, dtype, the data's count), so every capture of one model and loss shares it.
#include <sstream>

#include "capture/flat_step.hpp"

namespace pyflux::capture {
namespace {

using autodiff::TinyCode;
using autodiff::TinyInstr;

// `name`, i as a tiny_loops::Fixed with its operands and param from `from`.
void instruction(std::ostream& out, const std::string& name, const TinyInstr& i, const std::string& from) {
    out << "    const Fixed<TinyInstr::Code(" << int(i.code) << "), " << (i.add ? "true" : "false") << ", " << i.n << ", "
        << i.m << ", " << i.k << ", " << i.outer << ", " << i.inner << ", " << i.lda << ", " << i.ldb << ", " << i.ldc
        << "> " << name << "{" << from << ".p, " << from << ".param};\n";
}

// One prefix per list: F (forward), B (backward), D (descents), with `from` the TinyRun field.
struct List {
    const TinyCode& code;
    const char* prefix;
    const char* from;
};

}  // namespace

std::string FlatStep::native_source() const {
    const FlatBuf& seed = grads_[static_cast<std::size_t>(loss_slot_)];
    if (!tiny_ || !copies_.empty() || !updates_.empty() || !seed.data) return {};
    const std::string t = tiny_forward_.dtype == DType::f32 ? "float" : "double";
    const List lists[] = {{tiny_forward_, "F", "forward"}, {tiny_backward_, "B", "backward"}, {descents_, "D", "descents"}};
    std::ostringstream out;
    out << "// A captured step of pyflux, built for its sizes (pyflux.native).\n"
        << "#include <cmath>\n#include \"autodiff/tiny_loops.hpp\"\n\n"
        << "using namespace pyflux::autodiff;\nusing namespace pyflux::autodiff::tiny_loops;\n\n"
        << "extern \"C\" index_t pyflux_steps(const TinyRun& r) {\n";
    for (const List& l : lists)
        for (std::size_t j = 0; j < l.code.code.size(); ++j) {
            const std::string at = std::to_string(j);
            instruction(out, l.prefix + at, l.code.code[j], std::string("r.") + l.from + "[" + at + "]");
        }
    const std::size_t data = data_slots_.size();
    out << "    for (index_t s = 0; s < r.steps; ++s) {\n"
        << "        const void* const* d = r.pointers + s * " << data << ";\n";
    for (std::size_t k = 0; k < data; ++k) out << "        *r.data[" << k << "] = const_cast<void*>(d[" << k << "]);\n";
    const auto calls = [&](const List& l) {
        for (std::size_t j = 0; j < l.code.code.size(); ++j)
            out << "        " << l.code.loop_text(l.code.code[j]) << "(" << l.prefix << j << ");\n";
    };
    calls(lists[0]);
    out << "        const double value = *static_cast<const " << t << "*>(r.loss);\n"
        << "        r.losses[s] = value;\n"
        << "        if (!std::isfinite(value)) return s;\n"
        << "        *static_cast<" << t << "*>(r.seed) = " << t << "(1);\n";
    calls(lists[1]);
    calls(lists[2]);
    out << "    }\n    return r.steps;\n}\n\n"
        << "extern \"C\" std::uint64_t pyflux_steps_abi() { return tiny_abi(); }\n";
    return out.str();
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
