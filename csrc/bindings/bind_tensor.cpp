// The Tensor class: a traced value inside gradient (arithmetic records on the tape) and the base of
// pyflux.Param, the array type that layers keep their weights in.
#include <cstring>
#include <string>

#include "autodiff/tape.hpp"
#include "bindings/dispatch.hpp"
#include "kernels/elementwise.hpp"

namespace pyflux::bindings {
namespace {

// An owned, contiguous copy of `data` (float32 and float64 arrays keep their dtype; anything else
// becomes `dtype`, default float32, Flux's default element type).
Tensor make_owned(py::handle data, py::handle dtype) {
    std::optional<DType> want;
    if (!dtype.is_none()) {
        const py::dtype dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype));
        if (dt.equal(py::dtype::of<float>())) want = DType::f32;
        else if (dt.equal(py::dtype::of<double>())) want = DType::f64;
        else throw py::type_error("Tensor: dtype must be float32 or float64, got " + std::string(py::str(dt)));
    }
    if (Tensor t = as_tensor(data)) data = to_numpy(t).release();
    py::array arr = py::module_::import("numpy").attr("asarray")(data);
    if (!want) {
        const py::dtype dt = arr.dtype();
        want = dt.equal(py::dtype::of<double>()) ? DType::f64 : DType::f32;
    }
    Tensor src = tensor_from_array(arr, want, "Tensor");
    Tensor owned = autodiff::empty(src->dtype, src->shape);
    dispatch(src->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::strided_copy<T>(src->shape.ndim, src->shape.dims.data(), src->ptr<T>(), src->strides.data(),
                                 owned->ptr<T>(), owned->strides.data());
    });
    return owned;
}

py::tuple shape_tuple(const autodiff::Shape& s) {
    py::tuple t(static_cast<size_t>(s.ndim));
    for (int d = 0; d < s.ndim; ++d) t[static_cast<size_t>(d)] = py::int_(s[d]);
    return t;
}

double scalar_value(const Tensor& t, const char* what) {
    if (t->size() != 1)
        throw py::type_error(std::string("only single-element arrays can be converted to ") + what + ", got shape " +
                             t->shape.str());
    return t->dtype == DType::f32 ? static_cast<double>(*t->ptr<float>()) : *t->ptr<double>();
}

// Inside gradient a traced value must stay a Tensor: turning it into numpy would silently cut the
// gradient.
void refuse_if_traced(const Tensor& t, const char* what) {
    if (autodiff::traced(t))
        throw py::type_error(std::string("cannot ") + what +
                             " a traced value inside gradient (it would lose its gradient); use pyflux "
                             "operations (flux.sum, flux.exp, ...) on it, or convert after gradient returns");
}

}  // namespace

void bind_tensor(py::module_& m) {
    py::class_<TensorImpl, Tensor> cls(m, "Tensor", R"doc(
An array that gradient can trace.

Inside ``gradient`` every operation on a traced Tensor is recorded so its gradient can be computed;
the result of each operation is again a Tensor. Outside ``gradient`` operations return numpy arrays.
``pyflux.Param`` (trainable parameters) derives from it.
)doc");
    cls.def(py::init(&make_owned), py::arg("data"), py::arg("dtype") = py::none(),
            "Tensor(data, dtype=None): an owned, contiguous copy of data.");
    cls.def_property_readonly("shape", [](const TensorImpl& t) { return shape_tuple(t.shape); });
    cls.def_property_readonly("ndim", [](const TensorImpl& t) { return t.shape.ndim; });
    cls.def_property_readonly("size", [](const TensorImpl& t) { return t.size(); });
    cls.def_property_readonly("dtype", [](const TensorImpl& t) { return numpy_dtype(t.dtype); });
    cls.def_property_readonly("traced", [](const Tensor& t) { return autodiff::traced(t); },
                              "Whether the current gradient is tracing this value.");
    cls.def("__len__", [](const TensorImpl& t) {
        if (t.shape.ndim == 0) throw py::type_error("len() of a 0-d array");
        return t.shape[0];
    });
    cls.def("__float__", [](const Tensor& t) { return scalar_value(t, "Python scalars"); });
    cls.def("item", [](const Tensor& t) { return scalar_value(t, "Python scalars"); },
            "The value of a one-element array as a Python float.");
    cls.def("__array__", [](const Tensor& t, py::object dtype, py::object copy) -> py::object {
        refuse_if_traced(t, "convert to numpy");
        py::object arr = to_numpy(t);
        if (!dtype.is_none()) arr = arr.attr("astype")(dtype, py::arg("copy") = false);
        if (!copy.is_none() && copy.cast<bool>()) arr = arr.attr("copy")();
        return arr;
    }, py::arg("dtype") = py::none(), py::arg("copy") = py::none());
    cls.def("numpy", [](const Tensor& t) {
        refuse_if_traced(t, "convert to numpy");
        return to_numpy(t);
    }, "A numpy array sharing this tensor's memory.");
    cls.def("__repr__", [](const Tensor& t) {
        return std::string("Tensor(shape=") + t->shape.str() + ", dtype=" + dtype_name(t->dtype) +
               (autodiff::traced(t) ? ", traced)" : ")");
    });
    // numpy defers binary operators to us (ndarray + Tensor calls Tensor.__radd__).
    cls.attr("__array_ufunc__") = py::none();

    auto binary = [&](const char* name, const char* rname, BinaryFn fn, const char* op) {
        cls.def(name, [fn, op](py::handle a, py::handle b) { return call_binary(fn, a, b, op); }, py::is_operator());
        cls.def(rname, [fn, op](py::handle a, py::handle b) { return call_binary(fn, b, a, op); }, py::is_operator());
    };
    binary("__add__", "__radd__", autodiff::add, "add");
    binary("__sub__", "__rsub__", autodiff::sub, "sub");
    binary("__mul__", "__rmul__", autodiff::mul, "mul");
    binary("__truediv__", "__rtruediv__", autodiff::div, "div");
    binary("__pow__", "__rpow__", autodiff::pow, "pow");
    binary("__matmul__", "__rmatmul__", autodiff::matmul, "matmul");
    cls.def("__neg__", [](py::handle x) { return call_unary(autodiff::neg, x, "neg"); });
    cls.def("__pos__", [](py::handle x) { return x; });

    cls.def("__getitem__", [](const Tensor& t, py::handle key) -> py::object {
        if (!autodiff::traced(t)) return to_numpy(t)[key];  // numpy's indexing, views and all
        return py::cast(autodiff::index(t, index_spec(key, t->shape)));
    });
    cls.def_property_readonly("T", [](const Tensor& t) { return wrap_result(autodiff::transpose(t)); });
    cls.def("reshape", [](const Tensor& t, py::args shape) {
        py::handle s = shape.size() == 1 ? shape[0] : static_cast<py::handle>(shape);
        return wrap_result(autodiff::reshape(t, shape_arg(s, t->size(), "reshape")));
    });
    cls.def("sum", [](const Tensor& t, py::handle axis) {
        return wrap_result(autodiff::sum(t, axis_arg(axis)));
    }, py::arg("axis") = py::none());
    cls.def("mean", [](const Tensor& t, py::handle axis) {
        return wrap_result(autodiff::mean(t, axis_arg(axis)));
    }, py::arg("axis") = py::none());
}

}  // namespace pyflux::bindings
