// The ops as module functions: each takes Tensors, numpy arrays or Python numbers. The ones a
// training step calls are CPython METH_FASTCALL functions; the rest are bound with pybind11.
#include <string>

#include "bindings/dispatch.hpp"
#include "bindings/python_api.hpp"

namespace pyflux::bindings {
namespace {

using autodiff::Activation;

// The activation ops by code: their names in _core, and the name of their parameter (null for
// those without one).
struct ActivationEntry {
    const char* name;
    const char* param;
};
constexpr ActivationEntry kActivationEntries[kernels::kActivationCount] = {
    {"identity", nullptr},  {"relu", nullptr},     {"sigmoid", nullptr},   {"tanh", nullptr},
    {"hardsigmoid", nullptr}, {"hardtanh", nullptr}, {"leakyrelu", "a"},     {"relu6", nullptr},
    {"elu", "alpha"},       {"gelu", nullptr},     {"gelu_erf", nullptr},  {"swish", nullptr},
    {"hardswish", nullptr}, {"selu", nullptr},     {"celu", "alpha"},      {"softplus", nullptr},
    {"softsign", nullptr},  {"logsigmoid", nullptr}, {"logcosh", nullptr}, {"mish", nullptr},
    {"tanhshrink", nullptr}, {"softshrink", "lambda"}, {"lisht", nullptr},
};

constexpr const ActivationEntry& entry_of(Activation act) { return kActivationEntries[static_cast<int>(act)]; }

template <Activation act>
Tensor activation_op(const Tensor& x) {
    return autodiff::activation(x, act, kernels::default_param(act));
}

// The activations without a parameter: METH_O, as cheap a call as CPython has.
template <Activation act>
PyObject* activation_entry(PyObject*, PyObject* x) {
    return guarded([&] { return call_unary(activation_op<act>, x, entry_of(act).name).release().ptr(); });
}

// act(x, param=default) for leakyrelu, elu, celu and softshrink.
template <Activation act>
PyObject* param_activation_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    const char* name = entry_of(act).name;
    static const char* const names[] = {"x", entry_of(act).param};
    PyObject* parsed[2] = {nullptr, nullptr};
    if (!parse_arguments(name, args, nargs, kwnames, names, 2, 1, parsed)) return nullptr;
    return guarded([&] {
        double param = kernels::default_param(act);
        if (parsed[1]) {
            param = PyFloat_AsDouble(parsed[1]);
            if (param == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        }
        autodiff::check_activation_param(name, act, param);
        Tensor t = unary_operand(parsed[0], name);
        Tensor out;
        {
            MaybeReleaseGil gil(t->size() >= kReleaseGilElements);
            out = autodiff::activation(t, act, param);
        }
        return wrap_result(out).release().ptr();
    });
}

const char* op_name(UnaryFn fn) {
    if (fn == autodiff::neg) return "neg";
    if (fn == autodiff::exp) return "exp";
    return "log";
}

const char* op_name(BinaryFn fn) {
    if (fn == autodiff::add) return "add";
    if (fn == autodiff::sub) return "sub";
    if (fn == autodiff::mul) return "mul";
    if (fn == autodiff::div) return "div";
    if (fn == autodiff::pow) return "pow";
    return "matmul";
}

template <UnaryFn fn>
PyObject* unary_entry(PyObject*, PyObject* x) {
    return guarded([&] { return call_unary(fn, x, op_name(fn)).release().ptr(); });
}

template <BinaryFn fn>
PyObject* binary_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes 2 arguments (%zd given)", op_name(fn), nargs);
        return nullptr;
    }
    return guarded([&] { return call_binary(fn, args[0], args[1], op_name(fn)).release().ptr(); });
}

template <Tensor (*fn)(const Tensor&, std::optional<int>)>
PyObject* reduce_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    const char* name = fn == autodiff::sum ? "sum" : "mean";
    static const char* const names[] = {"x", "axis"};
    PyObject* parsed[2] = {nullptr, nullptr};
    if (!parse_arguments(name, args, nargs, kwnames, names, 2, 1, parsed)) return nullptr;
    return guarded([&] {
        Tensor t = unary_operand(parsed[0], name);
        const std::optional<int> axis = parsed[1] ? axis_arg(parsed[1]) : std::nullopt;
        Tensor out;
        {
            MaybeReleaseGil gil(t->size() >= kReleaseGilElements);
            out = fn(t, axis);
        }
        return wrap_result(out).release().ptr();
    });
}

template <Tensor (*fn)(const Tensor&, int)>
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
        const std::optional<int> dims = parsed[1] ? axis_arg(parsed[1]) : std::nullopt;
        Tensor out;
        {
            MaybeReleaseGil gil(t->size() >= kReleaseGilElements);
            out = fn(t, dims ? *dims : 0);
        }
        return wrap_result(out).release().ptr();
    });
}

// A Tensor or array-like in the layer's dtype: a Tensor of another dtype goes through the cast op.
Tensor in_dtype(py::handle obj, DType dtype, const char* op) {
    Tensor t = as_tensor(obj);
    if (!t) return tensor_from_object(obj, dtype, op);
    return t->dtype == dtype ? t : autodiff::cast(t, dtype);
}

PyObject* dense_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static const char* const names[] = {"W", "b", "x", "activation", "param"};
    PyObject* parsed[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
    if (!parse_arguments("dense", args, nargs, kwnames, names, 5, 4, parsed)) return nullptr;
    return guarded([&] {
        const long code = PyLong_AsLong(parsed[3]);
        if (code < 0 || code >= kernels::kActivationCount) {
            if (PyErr_Occurred()) throw py::error_already_set();
            throw py::value_error("dense: unknown activation code " + std::to_string(code));
        }
        const auto act = static_cast<Activation>(code);
        double param = kernels::default_param(act);
        if (parsed[4] && parsed[4] != Py_None) {
            param = PyFloat_AsDouble(parsed[4]);
            if (param == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        }
        Tensor W = unary_operand(parsed[0], "dense");
        Tensor b = parsed[1] == Py_None ? Tensor{} : in_dtype(parsed[1], W->dtype, "dense");
        Tensor x = in_dtype(parsed[2], W->dtype, "dense");
        Tensor out;
        {
            const autodiff::index_t n = x->shape.ndim == 2 ? x->shape[1] : 1;
            MaybeReleaseGil gil(W->size() * n >= kReleaseGilElements);
            out = autodiff::dense(W, b, x, act, param);
        }
        return wrap_result(out).release().ptr();
    });
}

#define PYFLUX_FASTCALL(f) reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f))

PyMethodDef fast_functions[] = {
    {"add", PYFLUX_FASTCALL(binary_entry<autodiff::add>), METH_FASTCALL, "add(a, b): a + b with numpy broadcasting."},
    {"sub", PYFLUX_FASTCALL(binary_entry<autodiff::sub>), METH_FASTCALL, "sub(a, b): a - b with numpy broadcasting."},
    {"mul", PYFLUX_FASTCALL(binary_entry<autodiff::mul>), METH_FASTCALL, "mul(a, b): a * b with numpy broadcasting."},
    {"div", PYFLUX_FASTCALL(binary_entry<autodiff::div>), METH_FASTCALL, "div(a, b): a / b with numpy broadcasting."},
    {"pow", PYFLUX_FASTCALL(binary_entry<autodiff::pow>), METH_FASTCALL, "pow(a, b): a ** b with numpy broadcasting."},
    {"matmul", PYFLUX_FASTCALL(binary_entry<autodiff::matmul>), METH_FASTCALL,
     "matmul(a, b): a @ b for 1-D and 2-D operands."},
    {"neg", unary_entry<autodiff::neg>, METH_O, "neg(x): -x."},
    {"exp", unary_entry<autodiff::exp>, METH_O, "exp(x): e to the power x, elementwise."},
    {"log", unary_entry<autodiff::log>, METH_O, "log(x): the natural logarithm, elementwise."},
    {"identity", activation_entry<Activation::identity>, METH_O, "identity(x) = x."},
    {"relu", activation_entry<Activation::relu>, METH_O, "relu(x) = x < 0 ? 0 : x, with relu'(0) = 0."},
    {"sigmoid", activation_entry<Activation::sigmoid>, METH_O, "sigmoid(x) = 1 / (1 + exp(-x))."},
    {"tanh", activation_entry<Activation::tanh>, METH_O, "tanh(x)."},
    {"hardsigmoid", activation_entry<Activation::hardsigmoid>, METH_O, "hardsigmoid(x) = clamp((x + 3) / 6, 0, 1)."},
    {"hardtanh", activation_entry<Activation::hardtanh>, METH_O, "hardtanh(x) = clamp(x, -1, 1)."},
    {"relu6", activation_entry<Activation::relu6>, METH_O, "relu6(x) = clamp(x, 0, 6)."},
    {"gelu", activation_entry<Activation::gelu>, METH_O,
     "gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the tanh approximation."},
    {"gelu_erf", activation_entry<Activation::gelu_erf>, METH_O, "gelu_erf(x) = 0.5 x (1 + erf(x / sqrt(2)))."},
    {"swish", activation_entry<Activation::swish>, METH_O, "swish(x) = x sigmoid(x)."},
    {"hardswish", activation_entry<Activation::hardswish>, METH_O, "hardswish(x) = x hardsigmoid(x)."},
    {"selu", activation_entry<Activation::selu>, METH_O,
     "selu(x) = lambda (x > 0 ? x : alpha (exp(x) - 1)), lambda = 1.0507009873554805, alpha = 1.6732632423543772."},
    {"softplus", activation_entry<Activation::softplus>, METH_O, "softplus(x) = log(1 + exp(x)), computed stably."},
    {"softsign", activation_entry<Activation::softsign>, METH_O, "softsign(x) = x / (1 + |x|)."},
    {"logsigmoid", activation_entry<Activation::logsigmoid>, METH_O, "logsigmoid(x) = -softplus(-x)."},
    {"logcosh", activation_entry<Activation::logcosh>, METH_O, "logcosh(x) = x + softplus(-2x) - log(2)."},
    {"mish", activation_entry<Activation::mish>, METH_O, "mish(x) = x tanh(softplus(x))."},
    {"tanhshrink", activation_entry<Activation::tanhshrink>, METH_O, "tanhshrink(x) = x - tanh(x)."},
    {"lisht", activation_entry<Activation::lisht>, METH_O, "lisht(x) = x tanh(x)."},
    {"leakyrelu", PYFLUX_FASTCALL(param_activation_entry<Activation::leakyrelu>), METH_FASTCALL | METH_KEYWORDS,
     "leakyrelu(x, a=0.01) = x > 0 ? x : a x."},
    {"elu", PYFLUX_FASTCALL(param_activation_entry<Activation::elu>), METH_FASTCALL | METH_KEYWORDS,
     "elu(x, alpha=1) = x >= 0 ? x : alpha (exp(x) - 1)."},
    {"celu", PYFLUX_FASTCALL(param_activation_entry<Activation::celu>), METH_FASTCALL | METH_KEYWORDS,
     "celu(x, alpha=1) = x >= 0 ? x : alpha (exp(x / alpha) - 1)."},
    {"softshrink", PYFLUX_FASTCALL(param_activation_entry<Activation::softshrink>), METH_FASTCALL | METH_KEYWORDS,
     "softshrink(x, lambda=0.5) = x >= lambda ? x - lambda : (x <= -lambda ? x + lambda : 0)."},
    {"sum", PYFLUX_FASTCALL(reduce_entry<autodiff::sum>), METH_FASTCALL | METH_KEYWORDS,
     "sum(x, axis=None): the sum of all elements, or along one axis (which is removed)."},
    {"mean", PYFLUX_FASTCALL(reduce_entry<autodiff::mean>), METH_FASTCALL | METH_KEYWORDS,
     "mean(x, axis=None): the mean of all elements, or along one axis (which is removed)."},
    {"softmax", PYFLUX_FASTCALL(softmax_entry<autodiff::softmax>), METH_FASTCALL | METH_KEYWORDS,
     "softmax(x, dims=0) = exp(x) / sum(exp(x)) along dims (default: the feature axis, Flux's dims=1)."},
    {"logsoftmax", PYFLUX_FASTCALL(softmax_entry<autodiff::logsoftmax>), METH_FASTCALL | METH_KEYWORDS,
     "logsoftmax(x, dims=0) = x - log(sum(exp(x))) along dims, computed stably."},
    {"dense", PYFLUX_FASTCALL(dense_entry), METH_FASTCALL | METH_KEYWORDS,
     "dense(W, b, x, activation, param=None): act(W @ x + b) fused; W (out, in), b (out,) or None, x (in,) or\n"
     "(in, N). activation is a code of pyflux.activations (0 identity, 1 relu, 2 sigmoid, 3 tanh, ...); param is\n"
     "the parameter of leakyrelu, elu, celu and softshrink (None: Flux's default)."},
    {nullptr, nullptr, 0, nullptr},
};

#undef PYFLUX_FASTCALL

}  // namespace

void bind_ops(py::module_& m) {
    if (PyModule_AddFunctions(m.ptr(), fast_functions) < 0) throw py::error_already_set();
    m.def("cast", [](py::handle x, py::object dtype) {
        const py::dtype dt = py::dtype::from_args(dtype);
        if (!dt.equal(py::dtype::of<float>()) && !dt.equal(py::dtype::of<double>()))
            throw py::type_error("cast: dtype must be float32 or float64, got " + std::string(py::str(dt)));
        const DType target = dt.equal(py::dtype::of<float>()) ? DType::f32 : DType::f64;
        return wrap_result(autodiff::cast(unary_operand(x, "cast"), target));
    }, "cast(x, dtype): x converted to float32 or float64; the gradient comes back in x's dtype.");
    m.def("index", [](py::handle x, py::handle key) {
        Tensor t = unary_operand(x, "index");
        return wrap_result(autodiff::index(t, index_spec(key, t->shape)));
    }, "index(x, key): x[key] for integer, slice and Ellipsis keys.");
    m.def("transpose", [](py::handle x) { return wrap_result(autodiff::transpose(unary_operand(x, "transpose"))); },
          "transpose(x): x with its axes reversed (numpy's x.T).");
    m.def("reshape", [](py::handle x, py::handle shape) {
        Tensor t = unary_operand(x, "reshape");
        return wrap_result(autodiff::reshape(t, shape_arg(shape, t->size(), "reshape")));
    }, "reshape(x, shape): x with a new shape of the same size (one dimension may be -1).");
    m.def("op_names", &autodiff::op_names, "The names of every differentiable op.");
}

}  // namespace pyflux::bindings
