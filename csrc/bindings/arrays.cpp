#include "bindings/arrays.hpp"

#include <cstdint>
#include <string>

namespace pyflux::bindings {

std::shared_ptr<void> keep_alive(const py::array& arr) {
    PyObject* obj = arr.ptr();
    Py_INCREF(obj);
    return std::shared_ptr<void>(obj, [](void* p) {
        PyGILState_STATE state = PyGILState_Ensure();
        Py_DECREF(static_cast<PyObject*>(p));
        PyGILState_Release(state);
    });
}

namespace {

// Arrays up to this size are copied rather than borrowed.
constexpr autodiff::index_t kCopyBytes = 512;

}  // namespace

py::dtype numpy_dtype(DType dtype) {
    return dtype == DType::f32 ? py::dtype::of<float>() : py::dtype::of<double>();
}

Tensor tensor_from_array(const py::array& arr_in, std::optional<DType> want, const char* op) {
    // Read numpy's array struct directly: this runs for every constant operand of every op.
    auto* proxy = py::detail::array_proxy(arr_in.ptr());
    auto* descr = py::detail::array_descriptor_proxy(proxy->descr);
    if (proxy->nd > autodiff::kMaxDims)
        throw py::value_error(std::string(op) + ": arrays of at most " + std::to_string(autodiff::kMaxDims) +
                              " dimensions are supported, got " + std::to_string(proxy->nd));
    const char kind = descr->kind;
    if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b')
        throw py::type_error(std::string(op) + ": expected a real numeric array, got dtype " +
                             std::string(py::str(arr_in.dtype())));
    std::optional<DType> have;
    if (descr->byteorder != '>') {
        if (descr->type_num == py::detail::npy_api::NPY_FLOAT_) have = DType::f32;
        else if (descr->type_num == py::detail::npy_api::NPY_DOUBLE_) have = DType::f64;
    }
    const DType target = want ? *want : have ? *have : DType::f64;
    const auto item = static_cast<py::ssize_t>(autodiff::itemsize(target));
    bool usable = have == target && reinterpret_cast<std::uintptr_t>(proxy->data) % static_cast<std::uintptr_t>(item) == 0;
    autodiff::Shape shape;
    autodiff::Strides strides{};
    shape.ndim = proxy->nd;
    for (int d = 0; d < shape.ndim; ++d) {
        shape.dims[d] = proxy->dimensions[d];
        strides[d] = proxy->strides[d] / item;
        usable = usable && proxy->strides[d] % item == 0;
    }
    if (!usable) {
        py::array converted = arr_in.attr("astype")(numpy_dtype(target), py::arg("copy") = true);
        return tensor_from_array(converted, target, op);
    }
    // Copying a small array is cheaper than keeping it alive (and releasing it under the GIL).
    if (shape.size() * item <= kCopyBytes) return autodiff::copy_of(target, shape, strides, proxy->data);
    return autodiff::wrap(target, shape, strides, proxy->data, keep_alive(arr_in));
}

Tensor tensor_from_object(py::handle obj, std::optional<DType> want, const char* op) {
    if (py::isinstance<py::array>(obj)) return tensor_from_array(py::reinterpret_borrow<py::array>(obj), want, op);
    if (PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr()) || PyBool_Check(obj.ptr())) {
        // A Python number takes the other operand's dtype, as in numpy 2.
        const double v = PyFloat_Check(obj.ptr()) ? PyFloat_AS_DOUBLE(obj.ptr()) : PyLong_AsDouble(obj.ptr());
        if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();  // an int beyond float range
        Tensor t = autodiff::empty(want ? *want : DType::f64, autodiff::Shape{});
        if (t->dtype == DType::f32) *t->ptr<float>() = static_cast<float>(v);
        else *t->ptr<double>() = v;
        return t;
    }
    py::object np = py::module_::import("numpy");
    py::array arr;
    try {
        arr = np.attr("asarray")(obj);
    } catch (py::error_already_set&) {
        throw py::type_error(std::string(op) + ": cannot use an object of type " +
                             type_name(obj) + " as an array");
    }
    return tensor_from_array(arr, want, op);
}

py::array to_numpy(const Tensor& t) {
    const auto item = static_cast<py::ssize_t>(autodiff::itemsize(t->dtype));
    std::vector<py::ssize_t> shape(static_cast<size_t>(t->shape.ndim)), strides(static_cast<size_t>(t->shape.ndim));
    for (int d = 0; d < t->shape.ndim; ++d) {
        shape[static_cast<size_t>(d)] = t->shape[d];
        strides[static_cast<size_t>(d)] = t->strides[d] * item;
    }
    auto* owner = new std::shared_ptr<void>(autodiff::memory_owner(t));
    py::capsule base(owner, [](void* p) { delete static_cast<std::shared_ptr<void>*>(p); });
    return py::array(numpy_dtype(t->dtype), shape, strides, t->data, base);
}

py::object to_numpy_result(const Tensor& t) {
    py::array arr = to_numpy(t);
    if (t->shape.ndim == 0) return arr[py::tuple()];
    return std::move(arr);
}

std::string type_name(py::handle obj) { return py::str(py::type::handle_of(obj).attr("__name__")); }


}  // namespace pyflux::bindings
