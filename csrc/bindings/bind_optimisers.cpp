// Optimiser updates applied in place to a Param and its state arrays, one fused kernel pass each.
#include <string>

#include "autodiff/tape.hpp"
#include "bindings/dispatch.hpp"
#include "bindings/python_api.hpp"
#include "kernels/optimisers.hpp"

namespace pyflux::bindings {
namespace {

// The parameter (updated in place) and its gradient, checked to match.
std::pair<Tensor, Tensor> update_operands(py::handle param, py::handle grad, const char* rule) {
    Tensor p = as_tensor(param);
    if (!p) throw py::type_error(std::string(rule) + ": expected a Param, got " + type_name(param));
    if (autodiff::traced(p))
        throw py::value_error(std::string(rule) + ": cannot update a parameter while a gradient is being taken");
    if (!p->is_contiguous()) throw py::value_error(std::string(rule) + ": the parameter must be contiguous");
    Tensor g = as_tensor(grad);
    if (!g || g->dtype != p->dtype)
        g = tensor_from_object(g ? py::object(to_numpy(g)) : py::reinterpret_borrow<py::object>(grad), p->dtype, rule);
    if (g->shape != p->shape)
        throw py::value_error(std::string(rule) + ": gradient of shape " + g->shape.str() +
                              " does not match parameter of shape " + p->shape.str());
    return {p, autodiff::contiguous(g)};
}

// A state array the update writes into: a writable, contiguous numpy array shaped like p.
template <class T>
T* state_array(py::handle obj, const Tensor& p, const char* rule) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(std::string(rule) + ": optimiser state must be a numpy array, got " + type_name(obj));
    auto arr = py::reinterpret_borrow<py::array>(obj);
    const bool dtype_ok = arr.dtype().equal(numpy_dtype(p->dtype));
    const bool layout_ok = (arr.flags() & py::array::c_style) && arr.writeable();
    if (!dtype_ok || !layout_ok || arr.size() != p->size())
        throw py::value_error(std::string(rule) + ": optimiser state must be a writable contiguous " +
                              autodiff::dtype_name(p->dtype) + " array of " + std::to_string(p->size()) + " elements");
    return static_cast<T*>(arr.mutable_data());
}

double number(PyObject* obj) {
    const double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    return v;
}

bool check_nargs(const char* name, Py_ssize_t nargs, Py_ssize_t expected) {
    if (nargs == expected) return true;
    PyErr_Format(PyExc_TypeError, "%s takes %zd arguments (%zd given)", name, expected, nargs);
    return false;
}

PyObject* descent_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (!check_nargs("descent_update(param, grad, eta)", nargs, 3)) return nullptr;
    return guarded([&] {
        const double eta = number(args[2]);
        auto [p, g] = update_operands(args[0], args[1], "Descent");
        MaybeReleaseGil gil(p->size() >= kReleaseGilElements);
        dispatch(p->dtype, [&](auto tag) {
            using T = decltype(tag);
            kernels::descent_update<T>(p->size(), static_cast<T>(eta), g->ptr<T>(), p->ptr<T>());
        });
        Py_RETURN_NONE;
    });
}

PyObject* rmsprop_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (!check_nargs("rmsprop_update(param, grad, s, a, eta, rho, eps)", nargs, 7)) return nullptr;
    return guarded([&] {
        auto [p, g] = update_operands(args[0], args[1], "RMSProp");
        const double eta = number(args[4]), rho = number(args[5]), eps = number(args[6]);
        dispatch(p->dtype, [&](auto tag) {
            using T = decltype(tag);
            T* s = state_array<T>(args[2], p, "RMSProp");
            T* a = args[3] == Py_None ? nullptr : state_array<T>(args[3], p, "RMSProp");
            MaybeReleaseGil gil(p->size() >= kReleaseGilElements);
            kernels::rmsprop_update<T>(p->size(), static_cast<T>(eta), static_cast<T>(rho), static_cast<T>(eps),
                                       g->ptr<T>(), s, a, p->ptr<T>());
        });
        Py_RETURN_NONE;
    });
}

PyObject* adam_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (!check_nargs("adam_update(param, grad, m, v, eta, beta1, beta2, eps, beta1_t, beta2_t)", nargs, 10))
        return nullptr;
    return guarded([&] {
        auto [p, g] = update_operands(args[0], args[1], "Adam");
        double h[6];
        for (int k = 0; k < 6; ++k) h[k] = number(args[4 + k]);
        dispatch(p->dtype, [&](auto tag) {
            using T = decltype(tag);
            T* m = state_array<T>(args[2], p, "Adam");
            T* v = state_array<T>(args[3], p, "Adam");
            MaybeReleaseGil gil(p->size() >= kReleaseGilElements);
            kernels::adam_update<T>(p->size(), static_cast<T>(h[0]), static_cast<T>(h[1]), static_cast<T>(h[2]),
                                    static_cast<T>(h[3]), static_cast<T>(h[4]), static_cast<T>(h[5]), g->ptr<T>(), m, v,
                                    p->ptr<T>());
        });
        Py_RETURN_NONE;
    });
}

#define PYFLUX_FASTCALL(f) reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f))

PyMethodDef functions[] = {
    {"descent_update", PYFLUX_FASTCALL(descent_entry), METH_FASTCALL,
     "descent_update(param, grad, eta): param -= eta * grad, in place."},
    {"rmsprop_update", PYFLUX_FASTCALL(rmsprop_entry), METH_FASTCALL,
     "rmsprop_update(param, grad, s, a, eta, rho, eps): RMSProp's step in place; a is None unless centred."},
    {"adam_update", PYFLUX_FASTCALL(adam_entry), METH_FASTCALL,
     "adam_update(param, grad, m, v, eta, beta1, beta2, eps, beta1_t, beta2_t): Adam's step in place, with\n"
     "beta1_t = beta1^t and beta2_t = beta2^t at step t (counting from 1)."},
    {nullptr, nullptr, 0, nullptr},
};

#undef PYFLUX_FASTCALL

}  // namespace

void bind_optimisers(py::module_& m) {
    if (PyModule_AddFunctions(m.ptr(), functions) < 0) throw py::error_already_set();
}

}  // namespace pyflux::bindings
