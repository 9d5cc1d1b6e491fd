// The ops as module functions: each takes Tensors, numpy arrays or Python numbers.
#include <string>

#include "bindings/dispatch.hpp"

namespace pyflux::bindings {
namespace {

using autodiff::Activation;

Tensor optional_tensor(py::handle obj, DType dtype, const char* op) {
    if (obj.is_none()) return nullptr;
    if (Tensor t = as_tensor(obj)) return t;
    return tensor_from_object(obj, dtype, op);
}

py::object call_dense(py::handle W_obj, py::handle b_obj, py::handle x_obj, int act) {
    if (act < 0 || act > static_cast<int>(Activation::tanh))
        throw py::value_error("dense: unknown activation code " + std::to_string(act));
    Tensor W = unary_operand(W_obj, "dense");
    Tensor b = optional_tensor(b_obj, W->dtype, "dense");
    Tensor x = as_tensor(x_obj);
    if (!x) x = tensor_from_object(x_obj, W->dtype, "dense");
    else if (x->dtype != W->dtype) x = autodiff::cast(x, W->dtype);
    Tensor out;
    {
        const autodiff::index_t n = x->shape.ndim == 2 ? x->shape[1] : 1;
        MaybeReleaseGil gil(W->size() * n >= kReleaseGilElements);
        out = autodiff::dense(W, b, x, static_cast<Activation>(act));
    }
    return wrap_result(out);
}

template <Activation act>
Tensor activation_op(const Tensor& x) {
    return autodiff::activation(x, act);
}

py::object reduce_op(Tensor (*fn)(const Tensor&, std::optional<int>), py::handle x, py::handle axis, const char* op) {
    Tensor t = unary_operand(x, op);
    const std::optional<int> ax = axis_arg(axis);
    Tensor out;
    {
        MaybeReleaseGil gil(t->size() >= kReleaseGilElements);
        out = fn(t, ax);
    }
    return wrap_result(out);
}

}  // namespace

void bind_ops(py::module_& m) {
    m.def("add", [](py::handle a, py::handle b) { return call_binary(autodiff::add, a, b, "add"); },
          "a + b with numpy broadcasting.");
    m.def("sub", [](py::handle a, py::handle b) { return call_binary(autodiff::sub, a, b, "sub"); },
          "a - b with numpy broadcasting.");
    m.def("mul", [](py::handle a, py::handle b) { return call_binary(autodiff::mul, a, b, "mul"); },
          "a * b with numpy broadcasting.");
    m.def("div", [](py::handle a, py::handle b) { return call_binary(autodiff::div, a, b, "div"); },
          "a / b with numpy broadcasting.");
    m.def("pow", [](py::handle a, py::handle b) { return call_binary(autodiff::pow, a, b, "pow"); },
          "a ** b with numpy broadcasting.");
    m.def("matmul", [](py::handle a, py::handle b) {
        auto [ta, tb] = binary_operands(a, b, "matmul");
        Tensor out;
        {
            MaybeReleaseGil gil(ta->size() * (tb->shape.ndim == 2 ? tb->shape[1] : 1) >= kReleaseGilElements);
            out = autodiff::matmul(ta, tb);
        }
        return wrap_result(out);
    }, "a @ b for 1-D and 2-D operands.");
    m.def("neg", [](py::handle x) { return call_unary(autodiff::neg, x, "neg"); }, "-x.");
    m.def("exp", [](py::handle x) { return call_unary(autodiff::exp, x, "exp"); }, "exp(x) elementwise.");
    m.def("log", [](py::handle x) { return call_unary(autodiff::log, x, "log"); }, "log(x) elementwise.");
    m.def("cast", [](py::handle x, py::object dtype) {
        const py::dtype dt = py::dtype::from_args(dtype);
        if (!dt.equal(py::dtype::of<float>()) && !dt.equal(py::dtype::of<double>()))
            throw py::type_error("cast: dtype must be float32 or float64, got " + std::string(py::str(dt)));
        const DType target = dt.equal(py::dtype::of<float>()) ? DType::f32 : DType::f64;
        return wrap_result(autodiff::cast(unary_operand(x, "cast"), target));
    }, "x converted to float32 or float64; the gradient comes back in x's dtype.");
    m.def("identity", [](py::handle x) { return call_unary(activation_op<Activation::identity>, x, "identity"); },
          "identity(x) = x.");
    m.def("relu", [](py::handle x) { return call_unary(activation_op<Activation::relu>, x, "relu"); },
          "relu(x) = max(x, 0); relu'(0) = 0.");
    m.def("sigmoid", [](py::handle x) { return call_unary(activation_op<Activation::sigmoid>, x, "sigmoid"); },
          "sigmoid(x) = 1 / (1 + exp(-x)).");
    m.def("tanh", [](py::handle x) { return call_unary(activation_op<Activation::tanh>, x, "tanh"); },
          "tanh(x).");
    m.def("dense", &call_dense, py::arg("W"), py::arg("b"), py::arg("x"), py::arg("activation"),
          "act(W @ x + b) fused; activation codes: 0 identity, 1 relu, 2 sigmoid, 3 tanh; b may be None.");
    m.def("sum", [](py::handle x, py::handle axis) { return reduce_op(autodiff::sum, x, axis, "sum"); },
          py::arg("x"), py::arg("axis") = py::none(), "Sum over all elements or one axis.");
    m.def("mean", [](py::handle x, py::handle axis) { return reduce_op(autodiff::mean, x, axis, "mean"); },
          py::arg("x"), py::arg("axis") = py::none(), "Mean over all elements or one axis.");
    m.def("index", [](py::handle x, py::handle key) {
        Tensor t = unary_operand(x, "index");
        return wrap_result(autodiff::index(t, index_spec(key, t->shape)));
    }, "x[key] for integer, slice and Ellipsis keys.");
    m.def("transpose", [](py::handle x) { return wrap_result(autodiff::transpose(unary_operand(x, "transpose"))); },
          "x with its axes reversed (numpy's x.T).");
    m.def("reshape", [](py::handle x, py::handle shape) {
        Tensor t = unary_operand(x, "reshape");
        return wrap_result(autodiff::reshape(t, shape_arg(shape, t->size(), "reshape")));
    }, "x with a new shape of the same size (one dimension may be -1).");
    m.def("op_names", &autodiff::op_names, "The names of every differentiable op.");
}

}  // namespace pyflux::bindings
