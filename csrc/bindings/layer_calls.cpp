// The dense op's entry point _core.dense(W, b, x, activation, param), and the compiled __call__ of
// Dense and Chain.
//
// A Chain of small Dense layers spent most of a training step in Python's __call__ of the layers
// and the chain: attribute reads, shape checks and the activation's fields cost more than the op.
// Dense's method takes the common call straight to the op: the weight a Tensor matrix, the bias a
// Tensor or False, σ a built-in Activation, and x a Tensor or numpy float array of the weight's
// dtype, shaped (in,) or (in, N). Every other call goes to the layer's Python `_forward`, which
// does the checks, the warnings, the conversions and the error messages. Chain's method calls the
// layers of a tuple or dict in turn, and hands anything else to Chain._forward.
#include "bindings/dispatch.hpp"
#include "bindings/python_api.hpp"

namespace pyflux::bindings {
namespace {

using autodiff::UnaryOp;

py::object dense_result(const Tensor& W, const Tensor& b, const Tensor& x, UnaryOp act, double param) {
    Tensor out;
    {
        const autodiff::index_t n = x->shape.ndim == 2 ? x->shape[1] : 1;
        MaybeReleaseGil gil(W->size() * n >= kReleaseGilElements);
        out = autodiff::dense(W, b, x, act, param);
    }
    return wrap_result(out);
}

// A Tensor or array-like in the layer's dtype: a Tensor of another dtype goes through the cast op.
Tensor in_dtype(py::handle obj, DType dtype, const char* op) {
    Tensor t = as_tensor(obj);
    if (!t) return tensor_from_object(obj, dtype, op);
    return t->dtype == dtype ? t : autodiff::cast(t, dtype);
}

// An activation code and its parameter (None: the activation's default) as the kernels take them.
std::pair<UnaryOp, double> activation_of(PyObject* code_obj, PyObject* param_obj) {
    const long code = PyLong_AsLong(code_obj);
    if (code == -1 && PyErr_Occurred()) throw py::error_already_set();
    UnaryOp act;
    if (!kernels::unary_op_of(code, &act)) throw py::value_error("dense: unknown activation code " + std::to_string(code));
    double param = kernels::default_param(act);
    if (param_obj && param_obj != Py_None) {
        param = PyFloat_AsDouble(param_obj);
        if (param == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    }
    return {act, param};
}

// Set by install_layer_calls: the Activation class, and the attribute names, interned once.
PyObject* activation_type = nullptr;
PyObject *name_weight = nullptr, *name_bias = nullptr, *name_sigma = nullptr, *name_code = nullptr,
         *name_param = nullptr, *name_forward = nullptr, *name_layers = nullptr;

py::object attribute(PyObject* obj, PyObject* name) {
    PyObject* value = PyObject_GetAttr(obj, name);
    if (!value) PyErr_Clear();
    return py::reinterpret_steal<py::object>(value);
}

// x as a tensor of dtype with a first dimension of `in` and at most two dimensions, without a copy
// of a Tensor and without conversion; null where the fast path does not apply.
Tensor fast_input(PyObject* x, DType dtype, autodiff::index_t in) {
    Tensor t = as_tensor(x);
    if (t) return t->dtype == dtype && t->shape.ndim >= 1 && t->shape.ndim <= 2 && t->shape[0] == in ? t : Tensor{};
    if (!py::isinstance<py::array>(x)) return {};
    auto* proxy = py::detail::array_proxy(x);
    auto* descr = py::detail::array_descriptor_proxy(proxy->descr);
    const int want = dtype == DType::f32 ? py::detail::npy_api::NPY_FLOAT_ : py::detail::npy_api::NPY_DOUBLE_;
    if (descr->type_num != want || descr->byteorder == '>' || proxy->nd < 1 || proxy->nd > 2 || proxy->dimensions[0] != in)
        return {};
    return tensor_from_array(py::reinterpret_borrow<py::array>(x), dtype, "dense");
}

// The layer's call when it takes the fast path (see the top of the file), else null with no error set.
PyObject* fast_dense_call(PyObject* self, PyObject* x) {
    const py::object weight = attribute(self, name_weight), bias = attribute(self, name_bias),
                     sigma = attribute(self, name_sigma);
    const Tensor W = weight ? as_tensor(weight) : Tensor{};
    if (!W || W->shape.ndim != 2 || !bias || !sigma || Py_TYPE(sigma.ptr()) != reinterpret_cast<PyTypeObject*>(activation_type))
        return nullptr;
    const Tensor b = bias.ptr() == Py_False ? Tensor{} : as_tensor(bias);
    if (bias.ptr() != Py_False && (!b || b->dtype != W->dtype)) return nullptr;
    const py::object code = attribute(sigma.ptr(), name_code), param = attribute(sigma.ptr(), name_param);
    if (!code || !param || !PyLong_CheckExact(code.ptr())) return nullptr;
    const Tensor input = fast_input(x, W->dtype, W->shape[1]);
    if (!input) return nullptr;
    const auto [act, p] = activation_of(code.ptr(), param.ptr());
    return dense_result(W, b, input, act, p).release().ptr();
}

// call(self._forward): the layer's call in Python.
template <class Call>
PyObject* call_forward(PyObject* self, Call call) {
    PyObject* forward = PyObject_GetAttr(self, name_forward);
    if (!forward) return nullptr;
    PyObject* y = call(forward);
    Py_DECREF(forward);
    return y;
}

// self._forward(*args, **kwargs) from vectorcall's arguments (keywords named by kwnames after the
// positional ones).
PyObject* python_forward(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    return call_forward(self, [&](PyObject* forward) {
        return PyObject_Vectorcall(forward, args, static_cast<std::size_t>(nargs), kwnames);
    });
}

PyObject* dense_call(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    if (nargs == 1 && !kwnames) {
        PyObject* y = guarded([&] { return fast_dense_call(self, args[0]); });
        if (y || PyErr_Occurred()) return y;
    }
    return python_forward(self, args, nargs, kwnames);
}

PyObject* chain_call(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames);

// The types' tp_call (install_layer_calls): a call d(x) comes here straight from the interpreter,
// without Python's generic slot, which looks __call__ up and calls the method descriptor (about
// 500 instructions a call). Subclasses keep the generic slot, and with it any __call__ they define.
template <PyObject* (*Call)(PyObject*, PyObject* const*, Py_ssize_t, PyObject*)>
PyObject* call_slot(PyObject* self, PyObject* args, PyObject* kwargs) {
    if (kwargs && PyDict_GET_SIZE(kwargs))
        return call_forward(self, [&](PyObject* forward) { return PyObject_Call(forward, args, kwargs); });
    return Call(self, &PyTuple_GET_ITEM(args, 0), PyTuple_GET_SIZE(args), nullptr);
}

// x passed through each layer in turn (a new reference, or null with the layer's error set).
PyObject* through(PyObject* layer, PyObject* x) {
    const ternaryfunc slot = Py_TYPE(layer)->tp_call;
    PyObject* y = slot == &call_slot<dense_call>   ? dense_call(layer, &x, 1, nullptr)
                  : slot == &call_slot<chain_call> ? chain_call(layer, &x, 1, nullptr)
                                                   : PyObject_CallOneArg(layer, x);
    Py_DECREF(x);
    return y;
}

// Chain.__call__(*xs): the layers of self.layers (a tuple, or a dict in its order) applied in turn
// to xs[0], or to the tuple xs when there are several.
PyObject* chain_call(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* layers = PyObject_GetAttr(self, name_layers);
    if (!layers) return nullptr;
    const py::object owned = py::reinterpret_steal<py::object>(layers);
    if (kwnames || (!PyTuple_CheckExact(layers) && !PyDict_CheckExact(layers)))
        return python_forward(self, args, nargs, kwnames);
    PyObject* x = nargs == 1 ? Py_NewRef(args[0]) : PyTuple_New(nargs);
    if (nargs != 1)
        for (Py_ssize_t i = 0; x && i < nargs; ++i) PyTuple_SET_ITEM(x, i, Py_NewRef(args[i]));
    if (PyTuple_CheckExact(layers)) {
        for (Py_ssize_t i = 0; x && i < PyTuple_GET_SIZE(layers); ++i) x = through(PyTuple_GET_ITEM(layers, i), x);
        return x;
    }
    // The values as they are now, should a layer change the dict.
    const py::object values = py::reinterpret_steal<py::object>(PyDict_Values(layers));
    if (!values) {
        Py_XDECREF(x);
        return nullptr;
    }
    for (Py_ssize_t i = 0; x && i < PyList_GET_SIZE(values.ptr()); ++i) x = through(PyList_GET_ITEM(values.ptr(), i), x);
    return x;
}

PyMethodDef dense_call_def = {
    "__call__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(dense_call)), METH_FASTCALL | METH_KEYWORDS,
    "__call__($self, x)\n--\n\nσ.(W x .+ b) for one sample (in,) or a batch (in, N...): the layer's forward pass."};

PyMethodDef chain_call_def = {
    "__call__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(chain_call)), METH_FASTCALL | METH_KEYWORDS,
    "__call__($self, /, *xs)\n--\n\nThe layers applied in turn to x (or to the tuple of several arguments)."};

// cls.__call__ = a method descriptor for def.
void set_call(py::handle cls, PyMethodDef* def) {
    py::object method = py::reinterpret_steal<py::object>(PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), def));
    if (!method) throw py::error_already_set();
    if (PyObject_SetAttrString(cls.ptr(), "__call__", method.ptr()) < 0) throw py::error_already_set();
}

// _install_layer_calls(Dense, Chain, Activation): the compiled __call__ of Dense and Chain.
void install_layer_calls(py::handle dense, py::handle chain, py::handle activation) {
    for (py::handle cls : {dense, chain, activation})
        if (!PyType_Check(cls.ptr())) throw py::type_error("_install_layer_calls(Dense, Chain, Activation) takes three classes");
    for (auto [slot, text] : {std::pair{&name_weight, "weight"}, {&name_bias, "bias"}, {&name_sigma, "σ"},
                              {&name_code, "code"}, {&name_param, "param"}, {&name_forward, "_forward"},
                              {&name_layers, "layers"}})
        if (!*slot && !(*slot = PyUnicode_InternFromString(text))) throw py::error_already_set();
    Py_XSETREF(activation_type, py::reinterpret_borrow<py::object>(activation).release().ptr());
    set_call(dense, &dense_call_def);
    set_call(chain, &chain_call_def);
    // Setting __call__ gave the types Python's generic slot; they take the calls directly instead.
    // Assigning __call__ again (on the class or a subclass) resets the slot as Python does.
    reinterpret_cast<PyTypeObject*>(dense.ptr())->tp_call = &call_slot<dense_call>;
    reinterpret_cast<PyTypeObject*>(chain.ptr())->tp_call = &call_slot<chain_call>;
}

}  // namespace

PyObject* dense_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static const char* const names[] = {"W", "b", "x", "activation", "param"};
    PyObject* parsed[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
    if (!parse_arguments("dense", args, nargs, kwnames, names, 5, 4, parsed)) return nullptr;
    return guarded([&] {
        const auto [act, param] = activation_of(parsed[3], parsed[4]);
        Tensor W = unary_operand(parsed[0], "dense");
        Tensor b = parsed[1] == Py_None ? Tensor{} : in_dtype(parsed[1], W->dtype, "dense");
        Tensor x = in_dtype(parsed[2], W->dtype, "dense");
        return dense_result(W, b, x, act, param).release().ptr();
    });
}

void bind_layer_calls(py::module_& m) {
    m.def("_install_layer_calls", &install_layer_calls, py::arg("dense"), py::arg("chain"), py::arg("activation"),
          "Makes the compiled forward passes the __call__ of Dense and Chain; each hands the calls it does not\n"
          "take to the class's _forward.");
}

}  // namespace pyflux::bindings
