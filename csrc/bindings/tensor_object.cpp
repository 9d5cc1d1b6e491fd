#include "bindings/tensor_object.hpp"

#include <new>
#include <stdexcept>
#include <string>

#include "autodiff/tape.hpp"
#include "bindings/dispatch.hpp"
#include "bindings/python_api.hpp"
#include "kernels/elementwise.hpp"

namespace pyflux::bindings {
namespace {

const Tensor& self_tensor(PyObject* self) { return tensor_of(self); }

// An owned, contiguous copy of `data`: float32 and float64 arrays keep their dtype; anything else
// becomes `dtype`, default float32 (Flux's default element type).
Tensor make_owned(py::handle data, py::handle dtype) {
    std::optional<DType> want;
    if (!dtype.is_none()) {
        const py::dtype dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype));
        if (dt.equal(py::dtype::of<float>())) want = DType::f32;
        else if (dt.equal(py::dtype::of<double>())) want = DType::f64;
        else throw py::type_error("Tensor: dtype must be float32 or float64, got " + std::string(py::str(dt)));
    }
    py::object source = py::reinterpret_borrow<py::object>(data);
    if (is_tensor(data.ptr())) source = to_numpy(tensor_of(data.ptr()));
    const bool is_array = py::isinstance<py::array>(source);
    py::array arr = py::module_::import("numpy").attr("asarray")(source);
    if (!want) want = is_array && arr.dtype().equal(py::dtype::of<double>()) ? DType::f64 : DType::f32;
    Tensor src = tensor_from_array(arr, want, "Tensor");
    Tensor owned = autodiff::empty(src->dtype, src->shape);
    dispatch(src->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::strided_copy<T>(src->shape.ndim, src->shape.dims.data(), src->ptr<T>(), src->strides.data(),
                                 owned->ptr<T>(), owned->strides.data());
    });
    return owned;
}

double scalar_value(const Tensor& t) {
    if (t->size() != 1)
        throw py::type_error("only single-element arrays can be converted to Python scalars, got shape " +
                             t->shape.str());
    return t->dtype == DType::f32 ? static_cast<double>(*t->ptr<float>()) : *t->ptr<double>();
}

// Inside gradient a traced value must stay a Tensor: turning it into numpy would silently cut the
// gradient.
void refuse_if_traced(const Tensor& t) {
    if (autodiff::traced(t))
        throw py::type_error("cannot convert a traced value to numpy inside gradient (it would lose its gradient); "
                             "use pyflux operations (flux.sum, flux.exp, ...) on it, or convert after gradient returns");
}

// --- object lifecycle -----------------------------------------------------------------------------

// Every object holds a value from the start: one whose __init__ never runs (Tensor.__new__(Tensor),
// a subclass skipping super().__init__, a Param whose conversion failed) is an empty float32 array.
PyObject* tensor_new(PyTypeObject* type, PyObject*, PyObject*) {
    PyObject* self = type->tp_alloc(type, 0);
    if (!self) return nullptr;
    auto* obj = reinterpret_cast<TensorObject*>(self);
    new (&obj->value) Tensor();
    obj->weakrefs = nullptr;
    PyObject* ok = guarded([&] {
        obj->value = autodiff::empty(DType::f32, autodiff::make_shape({0}));
        obj->value->host_object = self;
        Py_RETURN_NONE;
    });
    if (!ok) {
        Py_DECREF(self);
        return nullptr;
    }
    Py_DECREF(ok);
    return self;
}

int tensor_init(PyObject* self, PyObject* args, PyObject* kwargs) {
    static const char* names[] = {"data", "dtype", nullptr};
    PyObject* data = nullptr;
    PyObject* dtype = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:Tensor", const_cast<char**>(names), &data, &dtype)) return -1;
    PyObject* ok = guarded([&]() -> PyObject* {
        auto* obj = reinterpret_cast<TensorObject*>(self);
        Tensor fresh = make_owned(data, dtype);  // may throw: the object keeps its old value then
        if (obj->value && obj->value->host_object == self) obj->value->host_object = nullptr;
        obj->value = std::move(fresh);
        obj->value->host_object = self;
        Py_RETURN_NONE;
    });
    if (!ok) return -1;
    Py_DECREF(ok);
    return 0;
}

void tensor_dealloc(PyObject* self) {
    auto* obj = reinterpret_cast<TensorObject*>(self);
    if (obj->weakrefs) PyObject_ClearWeakRefs(self);
    if (obj->value && obj->value->host_object == self) obj->value->host_object = nullptr;
    obj->value.~Tensor();
    Py_TYPE(self)->tp_free(self);
}

PyObject* tensor_repr(PyObject* self) {
    const Tensor& t = self_tensor(self);
    if (!t) return PyUnicode_FromString("Tensor(<uninitialised>)");
    const std::string s = std::string("Tensor(shape=") + t->shape.str() + ", dtype=" + autodiff::dtype_name(t->dtype) +
                          (autodiff::traced(t) ? ", traced)" : ")");
    return PyUnicode_FromString(s.c_str());
}

// --- arithmetic: numpy's operators; either operand may be the Tensor -------------------------------

template <BinaryFn fn>
PyObject* number_binary(PyObject* a, PyObject* b) {
    static const char* const name = fn == autodiff::add ? "add" : fn == autodiff::sub ? "sub"
                                  : fn == autodiff::mul ? "mul" : fn == autodiff::div ? "div"
                                  : fn == autodiff::pow ? "pow" : "matmul";
    return guarded([&] { return call_binary(fn, a, b, name).release().ptr(); });
}

PyObject* number_power(PyObject* a, PyObject* b, PyObject* mod) {
    if (mod != Py_None) {
        PyErr_SetString(PyExc_TypeError, "pow() with a modulus is not supported for Tensors");
        return nullptr;
    }
    return number_binary<autodiff::pow>(a, b);
}

// --- numpy's ufunc protocol: ndarray (op) Tensor ---------------------------------------------------

// pyflux.param's __array_ufunc__, for every ufunc call the fast path below does not take.
PyObject* python_array_ufunc = nullptr;

// Tensor.__array_ufunc__(ufunc, method, *inputs, **kwargs): the binary operators (numpy calls this
// for `ndarray - tensor`, once per op of a training step) go straight to the op; the rest goes to the
// Python hook, which knows every ufunc pyflux has.
PyObject* array_ufunc(PyObject* self, PyObject* args, PyObject* kwargs) {
    struct Entry {
        const char* name;
        BinaryFn fn;
        const char* op;
        PyObject* ufunc;
    };
    static Entry entries[] = {{"add", autodiff::add, "add", nullptr},       {"subtract", autodiff::sub, "sub", nullptr},
                              {"multiply", autodiff::mul, "mul", nullptr},  {"true_divide", autodiff::div, "div", nullptr},
                              {"power", autodiff::pow, "pow", nullptr},     {"matmul", autodiff::matmul, "matmul", nullptr}};
    static const bool ready = [] {
        PyObject* numpy = PyImport_ImportModule("numpy");
        if (!numpy) return false;
        for (Entry& e : entries) e.ufunc = PyObject_GetAttrString(numpy, e.name);  // kept for the process
        Py_DECREF(numpy);
        return true;
    }();
    if (!ready) PyErr_Clear();
    const Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (ready && n == 4 && (!kwargs || PyDict_GET_SIZE(kwargs) == 0) &&
        PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(args, 1), "__call__") == 0) {
        PyObject* ufunc = PyTuple_GET_ITEM(args, 0);
        for (const Entry& e : entries)
            if (e.ufunc == ufunc)
                return guarded([&] {
                    return call_binary(e.fn, PyTuple_GET_ITEM(args, 2), PyTuple_GET_ITEM(args, 3), e.op).release().ptr();
                });
    }
    if (!python_array_ufunc) {
        PyErr_SetString(PyExc_TypeError, "Tensor.__array_ufunc__: pyflux.param is not loaded");
        return nullptr;
    }
    py::tuple full(n + 1);
    full[0] = py::handle(self);
    for (Py_ssize_t i = 0; i < n; ++i) full[i + 1] = py::handle(PyTuple_GET_ITEM(args, i));
    return PyObject_Call(python_array_ufunc, full.ptr(), kwargs);
}

PyMethodDef array_ufunc_def = {"__array_ufunc__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(array_ufunc)),
                               METH_VARARGS | METH_KEYWORDS, "numpy's ufunc hook: binary operators as pyflux ops."};

PyObject* number_negative(PyObject* x) {
    return guarded([&] { return call_unary(autodiff::neg, x, "neg").release().ptr(); });
}

PyObject* number_positive(PyObject* x) {
    Py_INCREF(x);
    return x;
}

PyObject* number_float(PyObject* x) {
    return guarded([&] { return PyFloat_FromDouble(scalar_value(self_tensor(x))); });
}

PyNumberMethods number_methods = [] {
    PyNumberMethods m{};
    m.nb_add = number_binary<autodiff::add>;
    m.nb_subtract = number_binary<autodiff::sub>;
    m.nb_multiply = number_binary<autodiff::mul>;
    m.nb_true_divide = number_binary<autodiff::div>;
    m.nb_power = number_power;
    m.nb_matrix_multiply = number_binary<autodiff::matmul>;
    m.nb_negative = number_negative;
    m.nb_positive = number_positive;
    m.nb_float = number_float;
    return m;
}();

// --- indexing ------------------------------------------------------------------------------------

Py_ssize_t mapping_length(PyObject* self) {
    const Tensor& t = self_tensor(self);
    if (t->shape.ndim == 0) {
        PyErr_SetString(PyExc_TypeError, "len() of a 0-d array");
        return -1;
    }
    return static_cast<Py_ssize_t>(t->shape[0]);
}

PyObject* mapping_subscript(PyObject* self, PyObject* key) {
    return guarded([&]() -> PyObject* {
        const Tensor& t = self_tensor(self);
        // An untraced Tensor (a Param outside gradient) indexes exactly as numpy does, views and all.
        if (!autodiff::traced(t)) return py::object(to_numpy(t)[py::handle(key)]).release().ptr();
        return tensor_object(index_by_key(t, key));
    });
}

PyMappingMethods mapping_methods = {mapping_length, mapping_subscript, nullptr};

// --- properties ----------------------------------------------------------------------------------

PyObject* get_shape(PyObject* self, void*) {
    return guarded([&] {
        const Tensor& t = self_tensor(self);
        py::tuple tuple(t->shape.ndim);
        for (int d = 0; d < t->shape.ndim; ++d) tuple[static_cast<size_t>(d)] = py::int_(t->shape[d]);
        return tuple.release().ptr();
    });
}
PyObject* get_ndim(PyObject* self, void*) { return PyLong_FromLong(self_tensor(self)->shape.ndim); }
PyObject* get_size(PyObject* self, void*) { return PyLong_FromLongLong(self_tensor(self)->size()); }
PyObject* get_dtype(PyObject* self, void*) {
    return guarded([&] { return numpy_dtype(self_tensor(self)->dtype).release().ptr(); });
}
PyObject* get_traced(PyObject* self, void*) { return PyBool_FromLong(autodiff::traced(self_tensor(self))); }
PyObject* get_T(PyObject* self, void*) {
    return guarded([&] { return wrap_result(autodiff::transpose(self_tensor(self))).release().ptr(); });
}

PyGetSetDef getset[] = {
    {"shape", get_shape, nullptr, "The dimensions, as a tuple.", nullptr},
    {"ndim", get_ndim, nullptr, "The number of dimensions.", nullptr},
    {"size", get_size, nullptr, "The number of elements.", nullptr},
    {"dtype", get_dtype, nullptr, "The numpy dtype (float32 or float64).", nullptr},
    {"traced", get_traced, nullptr, "Whether the current gradient is tracing this value.", nullptr},
    {"T", get_T, nullptr, "The transpose (axes reversed), as numpy's .T.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

// --- methods -------------------------------------------------------------------------------------

PyObject* method_item(PyObject* self, PyObject*) { return number_float(self); }

PyObject* method_numpy(PyObject* self, PyObject*) {
    return guarded([&] {
        refuse_if_traced(self_tensor(self));
        return to_numpy(self_tensor(self)).release().ptr();
    });
}

PyObject* method_array(PyObject* self, PyObject* args, PyObject* kwargs) {
    static const char* names[] = {"dtype", "copy", nullptr};
    PyObject* dtype = Py_None;
    PyObject* copy = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:__array__", const_cast<char**>(names), &dtype, &copy))
        return nullptr;
    return guarded([&] {
        refuse_if_traced(self_tensor(self));
        py::object arr = to_numpy(self_tensor(self));
        if (dtype != Py_None) arr = arr.attr("astype")(py::handle(dtype), py::arg("copy") = false);
        if (copy != Py_None && PyObject_IsTrue(copy)) arr = arr.attr("copy")();
        return arr.release().ptr();
    });
}

PyObject* method_reshape(PyObject* self, PyObject* args) {
    return guarded([&] {
        const Tensor& t = self_tensor(self);
        py::handle shape = PyTuple_GET_SIZE(args) == 1 ? PyTuple_GET_ITEM(args, 0) : args;
        return wrap_result(autodiff::reshape(t, shape_arg(shape, t->size(), "reshape"))).release().ptr();
    });
}

template <Tensor (*fn)(const Tensor&, const autodiff::Axes&, bool)>
PyObject* method_reduce(PyObject* self, PyObject* args, PyObject* kwargs) {
    static const char* names[] = {"axis", "keepdims", "dims", nullptr};
    PyObject* axis = nullptr;
    PyObject* keepdims = nullptr;
    PyObject* dims = nullptr;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOO", const_cast<char**>(names), &axis, &keepdims, &dims))
        return nullptr;
    return guarded([&] {
        const char* op = fn == autodiff::sum ? "sum" : "mean";
        const bool keep = keepdims && bool_arg(keepdims, std::string(op) + ": keepdims");
        return wrap_result(fn(self_tensor(self), reduce_dims(op, dims, axis), keep)).release().ptr();
    });
}

PyMethodDef methods[] = {
    {"item", method_item, METH_NOARGS, "The value of a one-element array as a Python float."},
    {"numpy", method_numpy, METH_NOARGS, "A numpy array sharing this tensor's memory."},
    {"__array__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(method_array)), METH_VARARGS | METH_KEYWORDS,
     "numpy's conversion hook: a view of this tensor's memory."},
    {"reshape", method_reshape, METH_VARARGS, "reshape(*shape): the same elements in a new shape (one -1 allowed)."},
    {"sum", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(method_reduce<autodiff::sum>)),
     METH_VARARGS | METH_KEYWORDS, "sum(axis=None, keepdims=False): the sum over axis (an int, a tuple of ints, or None for all)."},
    {"mean", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(method_reduce<autodiff::mean>)),
     METH_VARARGS | METH_KEYWORDS, "mean(axis=None, keepdims=False): the mean over axis (an int, a tuple of ints, or None for all)."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

// --- the buffer protocol: memoryview(t), torch.as_tensor(t), bytes(t) read the data in place ---------

int tensor_getbuffer(PyObject* self, Py_buffer* view, int flags) {
    const Tensor& t = self_tensor(self);
    if (autodiff::traced(t)) {
        PyErr_SetString(PyExc_BufferError, "a traced value has no buffer inside gradient (it would lose its gradient); "
                                           "read it after gradient returns");
        return -1;
    }
    const auto item = static_cast<Py_ssize_t>(autodiff::itemsize(t->dtype));
    const bool contiguous = t->is_contiguous();
    if (!contiguous && (flags & PyBUF_STRIDES) != PyBUF_STRIDES) {
        PyErr_SetString(PyExc_BufferError, "this Tensor is not contiguous; ask for a strided buffer");
        return -1;
    }
    const int nd = t->shape.ndim;
    auto* dims = new (std::nothrow) Py_ssize_t[2 * static_cast<std::size_t>(nd) + 1];
    if (!dims) {
        PyErr_NoMemory();
        return -1;
    }
    for (int d = 0; d < nd; ++d) {
        dims[d] = static_cast<Py_ssize_t>(t->shape[d]);
        dims[nd + d] = static_cast<Py_ssize_t>(t->strides[d]) * item;
    }
    view->buf = t->data;
    view->obj = Py_NewRef(self);
    view->len = static_cast<Py_ssize_t>(t->size()) * item;
    view->readonly = 0;
    view->itemsize = item;
    view->format = (flags & PyBUF_FORMAT) ? const_cast<char*>(t->dtype == DType::f32 ? "f" : "d") : nullptr;
    view->ndim = nd;
    view->shape = (flags & PyBUF_ND) == PyBUF_ND ? dims : nullptr;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? dims + nd : nullptr;
    view->suboffsets = nullptr;
    view->internal = dims;
    return 0;
}

void tensor_releasebuffer(PyObject*, Py_buffer* view) { delete[] static_cast<Py_ssize_t*>(view->internal); }

PyBufferProcs buffer_methods = {tensor_getbuffer, tensor_releasebuffer};

PyTypeObject TensorType = [] {
    PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
    t.tp_name = "pyflux._core.Tensor";
    t.tp_basicsize = sizeof(TensorObject);
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    t.tp_doc = "An array that gradient can trace.\n\n"
               "Inside gradient every operation on a traced Tensor is recorded so that its gradient can be\n"
               "computed, and returns a Tensor. Outside gradient operations return numpy arrays.\n"
               "pyflux.Param (trainable parameters) derives from it.";
    t.tp_new = tensor_new;
    t.tp_init = tensor_init;
    t.tp_dealloc = tensor_dealloc;
    t.tp_repr = tensor_repr;
    t.tp_as_number = &number_methods;
    t.tp_as_mapping = &mapping_methods;
    t.tp_as_buffer = &buffer_methods;
    t.tp_getset = getset;
    t.tp_methods = methods;
    t.tp_weaklistoffset = offsetof(TensorObject, weakrefs);
    return t;
}();

PyObject* tensor_object(const Tensor& t) {
    if (t->host_object) {
        PyObject* existing = static_cast<PyObject*>(t->host_object);
        Py_INCREF(existing);
        return existing;
    }
    PyObject* self = TensorType.tp_alloc(&TensorType, 0);
    if (!self) throw py::error_already_set();
    auto* obj = reinterpret_cast<TensorObject*>(self);
    new (&obj->value) Tensor(t);
    obj->weakrefs = nullptr;
    t->host_object = self;
    return self;
}

void bind_tensor(py::module_& m) {
    if (PyType_Ready(&TensorType) < 0) throw py::error_already_set();
    // numpy defers binary operators to us (ndarray + Tensor calls our nb_add) until pyflux installs
    // its ufunc hook.
    if (PyDict_SetItemString(TensorType.tp_dict, "__array_ufunc__", Py_None) < 0) throw py::error_already_set();
    Py_INCREF(&TensorType);
    m.add_object("Tensor", reinterpret_cast<PyObject*>(&TensorType));
    m.def(
        "_set_numpy_hooks",
        [](py::object hook, py::object array_function) {
            Py_XDECREF(python_array_ufunc);
            python_array_ufunc = hook.inc_ref().ptr();
            py::object method = py::reinterpret_steal<py::object>(PyDescr_NewMethod(&TensorType, &array_ufunc_def));
            if (!method || PyDict_SetItemString(TensorType.tp_dict, "__array_ufunc__", method.ptr()) < 0 ||
                PyDict_SetItemString(TensorType.tp_dict, "__array_function__", array_function.ptr()) < 0)
                throw py::error_already_set();
            PyType_Modified(&TensorType);
        },
        py::arg("array_ufunc"), py::arg("array_function"),
        "Installs Tensor.__array_ufunc__ and Tensor.__array_function__ (defined in pyflux.param, which knows "
        "the pyflux ops).");
}

}  // namespace pyflux::bindings
