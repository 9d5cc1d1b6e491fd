// The ops as module functions: each takes Tensors, numpy arrays or Python numbers. The ones a
// training step calls are CPython METH_FASTCALL functions; the rest are bound with pybind11.
#include <algorithm>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bindings/dispatch.hpp"
#include "bindings/python_api.hpp"

namespace pyflux::bindings {
namespace {

using namespace pybind11::literals;

using autodiff::UnaryOp;

// The op table (autodiff/ops.def) as the bindings read it.
struct UnaryEntry {
    const char* name;
    const char* kind;   // "math" or "activation"
    const char* saves;  // "input", "output" or "nothing"
    const char* param;  // the parameter's keyword, or null
    double default_param;
    const char* doc;
};
constexpr UnaryEntry kUnaryEntries[] = {
#define PYFLUX_UNARY(name, Rule, kind, saves, param, default_, doc) {#name, #kind, #saves, param, default_, doc},
#include "autodiff/ops.def"
#undef PYFLUX_UNARY
};

struct BinaryEntry {
    const char* name;
    BinaryFn fn;
    const char* doc;
};
// matmul shares the binary entry point; its docstring is the table's.
constexpr BinaryEntry kBinaryEntries[] = {
#define PYFLUX_BINARY(name, doc) {#name, autodiff::name, doc},
#include "autodiff/ops.def"
#undef PYFLUX_BINARY
#define PYFLUX_OP(name, doc) {#name, nullptr, doc},
#include "autodiff/ops.def"
#undef PYFLUX_OP
};
constexpr int kBinaryCount = 0
#define PYFLUX_BINARY(name, doc) +1
#include "autodiff/ops.def"
#undef PYFLUX_BINARY
    ;

// The docstring of a PYFLUX_OP entry (the ops with bindings of their own); a name missing from the
// table is a programming error, never a silent default.
const char* doc_of(const char* name) {
    for (const BinaryEntry& e : kBinaryEntries)
        if (std::strcmp(e.name, name) == 0) return e.doc;
    throw std::logic_error(std::string("op without a table entry: ") + name);
}

constexpr const UnaryEntry& entry_of(UnaryOp op) { return kUnaryEntries[static_cast<int>(op)]; }

template <UnaryOp op>
Tensor unary_op(const Tensor& x) {
    return autodiff::unary(x, op, entry_of(op).default_param);
}

// The ops without a parameter: METH_O, as cheap a call as CPython has.
template <UnaryOp op>
PyObject* unary_entry(PyObject*, PyObject* x) {
    return guarded([&] { return call_unary(unary_op<op>, x, entry_of(op).name).release().ptr(); });
}

// op(x, param=default) for leakyrelu, elu, celu and softshrink.
template <UnaryOp op>
PyObject* param_unary_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    const char* name = entry_of(op).name;
    static const char* const names[] = {"x", entry_of(op).param};
    PyObject* parsed[2] = {nullptr, nullptr};
    if (!parse_arguments(name, args, nargs, kwnames, names, 2, 1, parsed)) return nullptr;
    return guarded([&] {
        double param = entry_of(op).default_param;
        if (parsed[1]) {
            param = PyFloat_AsDouble(parsed[1]);
            if (param == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        }
        autodiff::check_unary_param(name, op, param);
        Tensor t = unary_operand(parsed[0], name);
        Tensor out;
        {
            MaybeReleaseGil gil(t->size() >= kReleaseGilElements);
            out = autodiff::unary(t, op, param);
        }
        return wrap_result(out).release().ptr();
    });
}

#define PYFLUX_FASTCALL(f) reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f))

template <UnaryOp op>
PyMethodDef unary_method() {
    if constexpr (entry_of(op).param != nullptr)
        return {entry_of(op).name, PYFLUX_FASTCALL(param_unary_entry<op>), METH_FASTCALL | METH_KEYWORDS, entry_of(op).doc};
    else
        return {entry_of(op).name, unary_entry<op>, METH_O, entry_of(op).doc};
}

template <int k>
PyObject* binary_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    constexpr const BinaryEntry& e = kBinaryEntries[k];
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes 2 arguments (%zd given)", e.name, nargs);
        return nullptr;
    }
    return guarded([&] { return call_binary(e.fn, args[0], args[1], e.name).release().ptr(); });
}

PyObject* matmul_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "matmul() takes 2 arguments (%zd given)", nargs);
        return nullptr;
    }
    return guarded([&] { return call_binary(autodiff::matmul, args[0], args[1], "matmul").release().ptr(); });
}

using NormaliseFn = Tensor (*)(const Tensor&, const autodiff::Axes&);
using ReduceFn = Tensor (*)(const Tensor&, const autodiff::Axes&, bool);

struct ReduceEntry {
    const char* name;
    ReduceFn fn;
};
constexpr ReduceEntry kReductions[] = {{"sum", autodiff::sum},   {"mean", autodiff::mean}, {"max", autodiff::max},
                                       {"min", autodiff::min},   {"prod", autodiff::prod},
                                       {"logsumexp", autodiff::logsumexp}};

// name(x, dims=None, keepdims=False); numpy's keyword `axis` is accepted in place of dims.
template <int k>
PyObject* reduce_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    constexpr const ReduceEntry& e = kReductions[k];
    static const char* const names[] = {"x", "dims", "keepdims", "axis"};
    PyObject* parsed[4] = {nullptr, nullptr, nullptr, nullptr};
    if (!parse_arguments(e.name, args, nargs, kwnames, names, 4, 1, parsed)) return nullptr;
    return guarded([&] {
        const autodiff::Axes dims = reduce_dims(e.name, parsed[1], parsed[3]);
        const bool keepdims = parsed[2] && bool_arg(parsed[2], std::string(e.name) + ": keepdims");
        Tensor t = unary_operand(parsed[0], e.name);
        Tensor out;
        {
            MaybeReleaseGil gil(t->size() >= kReleaseGilElements);
            out = e.fn(t, dims, keepdims);
        }
        return wrap_result(out).release().ptr();
    });
}

template <int... k>
void add_reduce_methods(std::vector<PyMethodDef>& fs, std::integer_sequence<int, k...>) {
    (fs.push_back({kReductions[k].name, PYFLUX_FASTCALL(reduce_entry<k>), METH_FASTCALL | METH_KEYWORDS,
                   doc_of(kReductions[k].name)}),
     ...);
}

template <NormaliseFn fn>
PyObject* softmax_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    const char* name = fn == autodiff::softmax ? "softmax" : "logsoftmax";
    static const char* const names[] = {"x", "dims"};
    PyObject* parsed[2] = {nullptr, nullptr};
    if (!parse_arguments(name, args, nargs, kwnames, names, 2, 1, parsed)) return nullptr;
    return guarded([&] {
        if (PyFloat_Check(parsed[0]) || PyLong_Check(parsed[0]))
            throw py::type_error(std::string(name) + "(x) called with a number, but it expects an array; use it as a "
                                 "layer of its own rather than as a Dense activation");
        Tensor t = unary_operand(parsed[0], name);
        const auto dims = parsed[1] ? dims_arg(parsed[1]) : autodiff::Axes(std::vector<int>{0});
        Tensor out;
        {
            MaybeReleaseGil gil(t->size() >= kReleaseGilElements);
            out = fn(t, dims);
        }
        return wrap_result(out).release().ptr();
    });
}

// cat's operands in one dtype: that of the Tensors among them (float64 if theirs differ), the
// others converted to it; with no Tensor, numpy's promotion among float32 and float64.
std::vector<Tensor> cat_operands(py::handle xs) {
    if (!py::isinstance<py::sequence>(xs) || py::isinstance<py::str>(xs) || py::isinstance<py::array>(xs) ||
        as_tensor(xs))
        throw py::type_error("cat: xs must be a list or tuple of arrays, got " + type_name(xs));
    std::vector<py::handle> items;
    for (py::handle item : xs) items.push_back(item);
    std::optional<DType> dtype;
    bool tensors = false;
    for (py::handle item : items)
        if (Tensor t = as_tensor(item)) {
            dtype = tensors && *dtype != t->dtype ? DType::f64 : t->dtype;
            tensors = true;
        }
    std::vector<Tensor> out;
    for (py::handle item : items) {
        Tensor t = as_tensor(item);
        out.push_back(t ? t : tensor_from_object(item, dtype, "cat"));
        if (!tensors && out.size() > 1 && out.back()->dtype != out.front()->dtype) dtype = DType::f64;
    }
    if (!dtype) return out;
    for (Tensor& t : out)
        if (t->dtype != *dtype) t = autodiff::cast(t, *dtype);
    return out;
}

template <int... k>
void add_binary_methods(std::vector<PyMethodDef>& fs, std::integer_sequence<int, k...>) {
    (fs.push_back({kBinaryEntries[k].name, PYFLUX_FASTCALL(binary_entry<k>), METH_FASTCALL, kBinaryEntries[k].doc}), ...);
}

// The table as Python reads it: one dict per op, in table order (a unary op's code is its position
// among the unary ops).
py::list op_table() {
    py::list table;
    int code = 0;
    for (const UnaryEntry& e : kUnaryEntries) {
        py::dict d("name"_a = e.name, "family"_a = "unary", "kind"_a = e.kind, "code"_a = code++, "saves"_a = e.saves,
                   "doc"_a = e.doc);
        d["param"] = e.param ? py::object(py::str(e.param)) : py::none();
        d["default"] = e.param ? py::object(py::float_(e.default_param)) : py::none();
        table.append(d);
    }
    int k = 0;
    for (const BinaryEntry& e : kBinaryEntries)
        table.append(py::dict("name"_a = e.name, "family"_a = k++ < kBinaryCount ? "binary" : "other", "doc"_a = e.doc));
    return table;
}

// Every entry point of the table; the unary and binary ones generated, the others by hand.
std::vector<PyMethodDef> fast_functions() {
    std::vector<PyMethodDef> fs = {
#define PYFLUX_UNARY(name, Rule, kind, saves, param, default_, doc) unary_method<UnaryOp::name>(),
#include "autodiff/ops.def"
#undef PYFLUX_UNARY
    };
    add_binary_methods(fs, std::make_integer_sequence<int, kBinaryCount>{});
    const int kw = METH_FASTCALL | METH_KEYWORDS;
    fs.push_back({"matmul", PYFLUX_FASTCALL(matmul_entry), METH_FASTCALL, doc_of("matmul")});
    add_reduce_methods(fs, std::make_integer_sequence<int, static_cast<int>(std::size(kReductions))>{});
    fs.push_back({"softmax", PYFLUX_FASTCALL(softmax_entry<autodiff::softmax>), kw, doc_of("softmax")});
    fs.push_back({"logsoftmax", PYFLUX_FASTCALL(softmax_entry<autodiff::logsoftmax>), kw, doc_of("logsoftmax")});
    fs.push_back({"dense", PYFLUX_FASTCALL(dense_entry), kw, doc_of("dense")});
    fs.push_back({nullptr, nullptr, 0, nullptr});
    return fs;
}

#undef PYFLUX_FASTCALL

}  // namespace

void bind_ops(py::module_& m) {
    // CPython keeps pointers into the method table for the module's lifetime.
    static std::vector<PyMethodDef> functions = fast_functions();
    if (PyModule_AddFunctions(m.ptr(), functions.data()) < 0) throw py::error_already_set();
    m.def("cast", [](py::handle x, py::object dtype) {
        const py::dtype dt = py::dtype::from_args(dtype);
        if (!dt.equal(py::dtype::of<float>()) && !dt.equal(py::dtype::of<double>()))
            throw py::type_error("cast: dtype must be float32 or float64, got " + std::string(py::str(dt)));
        const DType target = dt.equal(py::dtype::of<float>()) ? DType::f32 : DType::f64;
        return wrap_result(autodiff::cast(unary_operand(x, "cast"), target));
    }, doc_of("cast"));
    m.def("where", [](py::handle cond, py::handle a, py::handle b) {
        auto [ta, tb] = binary_operands(a, b, "where");
        Tensor tc = as_tensor(cond);
        tc = tc ? autodiff::cast(tc, ta->dtype) : tensor_from_object(cond, ta->dtype, "where");
        Tensor out;
        {
            MaybeReleaseGil gil(std::max({tc->size(), ta->size(), tb->size()}) >= kReleaseGilElements);
            out = autodiff::where(tc, ta, tb);
        }
        return wrap_result(out);
    }, py::arg("cond"), py::arg("a"), py::arg("b"), doc_of("where"));
    m.def("cat", [](py::handle xs, py::handle dims) {
        const int axis = required_axis(dims, "cat");
        std::vector<Tensor> parts = cat_operands(xs);
        autodiff::index_t total = 0;
        for (const Tensor& t : parts) total += t->size();
        Tensor out;
        {
            MaybeReleaseGil gil(total >= kReleaseGilElements);
            out = autodiff::cat(parts, axis);
        }
        return wrap_result(out);
    }, py::arg("xs"), py::arg("dims"), doc_of("cat"));
    m.def("index", [](py::handle x, py::handle key) {
        Tensor t = unary_operand(x, "index");
        return wrap_result(index_by_key(t, key));
    }, doc_of("index"));
    m.def("gather", [](py::handle x, py::handle indices, py::handle dims) {
        Tensor t = unary_operand(x, "gather");
        const int axis = required_axis(dims, "gather");
        std::optional<IndexArray> index = index_array_arg(indices, "gather");
        if (!index) {
            const std::optional<autodiff::index_t> i = int_arg(indices, "gather: indices");
            if (!i) throw py::index_error("gather: index " + std::string(py::str(indices)) + " is out of bounds");
            index = IndexArray{{*i}, autodiff::Shape{}};
        }
        return wrap_result(autodiff::gather(t, axis, std::move(index->values), index->shape));
    }, py::arg("x"), py::arg("indices"), py::arg("dims"), doc_of("gather"));
    m.def("transpose", [](py::handle x) { return wrap_result(autodiff::transpose(unary_operand(x, "transpose"))); },
          doc_of("transpose"));
    m.def("reshape", [](py::handle x, py::handle shape) {
        Tensor t = unary_operand(x, "reshape");
        return wrap_result(autodiff::reshape(t, shape_arg(shape, t->size(), "reshape")));
    }, doc_of("reshape"));
    m.def("op_names", &autodiff::op_names, "The names of every differentiable op.");
    m.attr("max_dims") = autodiff::kMaxDims;
    m.def("op_table", &op_table,
          "The op table: a dict per op with its name, family (unary, binary or other) and docstring; the unary ops\n"
          "also with kind (math or activation), code (for dense), saves (what the backward reads: input, output\n"
          "or nothing), param (the parameter's keyword, or None) and default.");
}

}  // namespace pyflux::bindings
