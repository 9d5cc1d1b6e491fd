// Optimiser updates applied in place to a Param, one fused kernel pass each.
#include <string>

#include "autodiff/tape.hpp"
#include "bindings/dispatch.hpp"
#include "kernels/optimisers.hpp"

namespace pyflux::bindings {
namespace {

// The parameter (updated in place) and its gradient, checked to match.
std::pair<Tensor, Tensor> update_operands(py::handle param, py::handle grad, const char* rule) {
    Tensor p = as_tensor(param);
    if (!p) throw py::type_error(std::string(rule) + ": expected a Param, got " +
                                 type_name(param));
    if (autodiff::traced(p))
        throw py::value_error(std::string(rule) + ": cannot update a parameter while a gradient is being taken");
    if (!p->is_contiguous())
        throw py::value_error(std::string(rule) + ": the parameter must be contiguous");
    Tensor g = as_tensor(grad);
    if (!g || g->dtype != p->dtype) g = tensor_from_object(g ? to_numpy(g) : grad, p->dtype, rule);
    if (g->shape != p->shape)
        throw py::value_error(std::string(rule) + ": gradient of shape " + g->shape.str() +
                              " does not match parameter of shape " + p->shape.str());
    return {p, autodiff::contiguous(g)};
}

}  // namespace

void bind_optimisers(py::module_& m) {
    m.def("descent_update", [](py::handle param, py::handle grad, double eta) {
        auto [p, g] = update_operands(param, grad, "Descent");
        MaybeReleaseGil gil(p->size() >= kReleaseGilElements);
        dispatch(p->dtype, [&](auto tag) {
            using T = decltype(tag);
            kernels::descent_update<T>(p->size(), static_cast<T>(eta), g->ptr<T>(), p->ptr<T>());
        });
    }, py::arg("param"), py::arg("grad"), py::arg("eta"), "param -= eta * grad, in place.");
}

}  // namespace pyflux::bindings
