// Optimiser updates applied in place to a Param, one fused kernel pass each.
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
    if (!g || g->dtype != p->dtype) g = tensor_from_object(g ? py::object(to_numpy(g)) : py::reinterpret_borrow<py::object>(grad), p->dtype, rule);
    if (g->shape != p->shape)
        throw py::value_error(std::string(rule) + ": gradient of shape " + g->shape.str() +
                              " does not match parameter of shape " + p->shape.str());
    return {p, autodiff::contiguous(g)};
}

PyObject* descent_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "descent_update(param, grad, eta) takes 3 arguments (%zd given)", nargs);
        return nullptr;
    }
    const double eta = PyFloat_AsDouble(args[2]);
    if (eta == -1.0 && PyErr_Occurred()) return nullptr;
    return guarded([&] {
        auto [p, g] = update_operands(args[0], args[1], "Descent");
        MaybeReleaseGil gil(p->size() >= kReleaseGilElements);
        dispatch(p->dtype, [&](auto tag) {
            using T = decltype(tag);
            kernels::descent_update<T>(p->size(), static_cast<T>(eta), g->ptr<T>(), p->ptr<T>());
        });
        Py_RETURN_NONE;
    });
}

PyMethodDef functions[] = {
    {"descent_update", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(descent_entry)), METH_FASTCALL,
     "descent_update(param, grad, eta): param -= eta * grad, in place."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void bind_optimisers(py::module_& m) {
    if (PyModule_AddFunctions(m.ptr(), functions) < 0) throw py::error_already_set();
}

}  // namespace pyflux::bindings
