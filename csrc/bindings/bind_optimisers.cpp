// Optimiser updates applied in place to a Param and its state arrays, one fused kernel pass each, or
// written to an output array when the rule is inside an OptimiserChain.
#include <algorithm>
#include <cmath>
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
T* state_array(py::handle obj, const Tensor& p, const char* rule, const char* what = "optimiser state") {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(std::string(rule) + ": " + what + " must be a numpy array, got " + type_name(obj));
    auto arr = py::reinterpret_borrow<py::array>(obj);
    const bool dtype_ok = arr.dtype().equal(numpy_dtype(p->dtype));
    const bool layout_ok = (arr.flags() & py::array::c_style) && arr.writeable();
    if (!dtype_ok || !layout_ok || arr.size() != p->size())
        throw py::value_error(std::string(rule) + ": " + what + " must be a writable contiguous " +
                              autodiff::dtype_name(p->dtype) + " array of " + std::to_string(p->size()) + " elements");
    return static_cast<T*>(arr.mutable_data());
}

double number(PyObject* obj) {
    const double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    return v;
}

// A rule's calling convention: name_update(param, grad, state_1..state_S, hyper_1..hyper_H[, out]).
// Without out (or with None), param -= Δ in place; with out, Δ is written there and param is left alone.
struct RuleSpec {
    const char* name;       // the rule, for messages
    const char* signature;  // for the argument-count message
    int states;
    int hypers;
    int optional_states;  // how many of the last states may be None
};

bool check_nargs(const RuleSpec& spec, Py_ssize_t nargs) {
    const Py_ssize_t base = 2 + spec.states + spec.hypers;
    if (nargs == base || nargs == base + 1) return true;
    PyErr_Format(PyExc_TypeError, "%s takes %zd or %zd arguments (%zd given)", spec.signature, base, base + 1, nargs);
    return false;
}

// The kernel's operands from the call's arguments, checked (with the GIL held).
template <class T>
kernels::UpdateArgs<T> update_args(const RuleSpec& spec, const Tensor& p, const Tensor& g, PyObject* const* args,
                                   Py_ssize_t nargs) {
    kernels::UpdateArgs<T> a;
    a.n = p->size();
    a.g = g->ptr<T>();
    a.p = p->ptr<T>();
    for (int k = 0; k < spec.states; ++k) {
        PyObject* s = args[2 + k];
        const bool may_be_none = k >= spec.states - spec.optional_states;
        a.s[k] = may_be_none && s == Py_None ? nullptr : state_array<T>(s, p, spec.name);
    }
    for (int k = 0; k < spec.hypers; ++k) a.h[k] = static_cast<T>(number(args[2 + spec.states + k]));
    const Py_ssize_t out = 2 + spec.states + spec.hypers;
    if (nargs > out && args[out] != Py_None) a.d = state_array<T>(args[out], p, spec.name, "the output");
    return a;
}

template <class Kernel>
PyObject* run_rule(const RuleSpec& spec, PyObject* const* args, Py_ssize_t nargs, Kernel kernel) {
    if (!check_nargs(spec, nargs)) return nullptr;
    return guarded([&] {
        auto [p, g] = update_operands(args[0], args[1], spec.name);
        dispatch(p->dtype, [&](auto tag) {
            using T = decltype(tag);
            const auto a = update_args<T>(spec, p, g, args, nargs);
            MaybeReleaseGil gil(p->size() >= kReleaseGilElements);
            kernel(a);
        });
        Py_RETURN_NONE;
    });
}

// One METH_FASTCALL entry per rule: rule_entry runs kernels::rule_update.
#define PYFLUX_RULE_ENTRY(rule, name, signature, states, hypers, optional_states)              \
    PyObject* rule##_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs) {               \
        static const RuleSpec spec{name, signature, states, hypers, optional_states};           \
        return run_rule(spec, args, nargs, [](const auto& a) { kernels::rule##_update(a); }); \
    }

PYFLUX_RULE_ENTRY(descent, "Descent", "descent_update(param, grad, eta[, out])", 0, 1, 0)
PYFLUX_RULE_ENTRY(momentum, "Momentum", "momentum_update(param, grad, v, eta, rho[, out])", 1, 2, 0)
PYFLUX_RULE_ENTRY(nesterov, "Nesterov", "nesterov_update(param, grad, v, eta, rho[, out])", 1, 2, 0)
PYFLUX_RULE_ENTRY(rmsprop, "RMSProp", "rmsprop_update(param, grad, s, a, eta, rho, eps[, out])", 2, 3, 1)
PYFLUX_RULE_ENTRY(adam, "Adam", "adam_update(param, grad, m, v, eta, beta1, beta2, eps, beta1_t, beta2_t[, out])", 2,
                  6, 0)
PYFLUX_RULE_ENTRY(adamw, "AdamW",
                  "adamw_update(param, grad, m, v, eta, beta1, beta2, eps, beta1_t, beta2_t, lambda, couple[, out])",
                  2, 8, 0)
PYFLUX_RULE_ENTRY(radam, "RAdam", "radam_update(param, grad, m, v, eta, beta1, beta2, eps, beta1_t, beta2_t, r[, out])",
                  2, 7, 0)
PYFLUX_RULE_ENTRY(adamax, "AdaMax", "adamax_update(param, grad, m, u, eta, beta1, beta2, eps, beta1_t[, out])", 2, 5,
                  0)
PYFLUX_RULE_ENTRY(adagrad, "AdaGrad", "adagrad_update(param, grad, acc, eta, eps[, out])", 1, 2, 0)
PYFLUX_RULE_ENTRY(adadelta, "AdaDelta", "adadelta_update(param, grad, acc, dacc, rho, eps[, out])", 2, 2, 0)
PYFLUX_RULE_ENTRY(amsgrad, "AMSGrad", "amsgrad_update(param, grad, m, v, vmax, eta, beta1, beta2, eps[, out])", 3, 4,
                  0)
PYFLUX_RULE_ENTRY(nadam, "NAdam", "nadam_update(param, grad, m, v, eta, beta1, beta2, eps, beta1_t, beta2_t[, out])", 2,
                  6, 0)
PYFLUX_RULE_ENTRY(oadam, "OAdam",
                  "oadam_update(param, grad, m, v, term, eta, beta1, beta2, eps, beta1_t, beta2_t[, out])", 3, 6, 0)
PYFLUX_RULE_ENTRY(lion, "Lion", "lion_update(param, grad, m, eta, beta1, beta2[, out])", 1, 3, 0)
PYFLUX_RULE_ENTRY(clipgrad, "ClipGrad", "clipgrad_update(param, grad, delta[, out])", 0, 1, 0)
PYFLUX_RULE_ENTRY(weightdecay, "WeightDecay", "weightdecay_update(param, grad, lambda[, out])", 0, 1, 0)
PYFLUX_RULE_ENTRY(signdecay, "SignDecay", "signdecay_update(param, grad, lambda[, out])", 0, 1, 0)

#undef PYFLUX_RULE_ENTRY

// ClipNorm: n = norm(g, p); Δ = g min(omega / n, 1). A non-finite n raises ValueError when throw is true.
PyObject* clipnorm_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    static const RuleSpec spec{"ClipNorm", "clipnorm_update(param, grad, omega, p, throw[, out])", 0, 3, 0};
    if (!check_nargs(spec, nargs)) return nullptr;
    return guarded([&] {
        auto [p, g] = update_operands(args[0], args[1], spec.name);
        const double omega = number(args[2]), order = number(args[3]);
        const bool strict = PyObject_IsTrue(args[4]) != 0;
        dispatch(p->dtype, [&](auto tag) {
            using T = decltype(tag);
            auto a = update_args<T>(spec, p, g, args, nargs);
            double norm;
            {
                MaybeReleaseGil gil(p->size() >= kReleaseGilElements);
                norm = kernels::pnorm<T>(a.n, a.g, order);
            }
            if (strict && !std::isfinite(norm))
                throw py::value_error("ClipNorm: the gradient has " + py::str(py::float_(order)).cast<std::string>() +
                                      "-norm " + py::str(py::float_(norm)).cast<std::string>() +
                                      ", for an array of shape " + p->shape.str() + " (use throw=False to allow)");
            a.h[0] = static_cast<T>(std::min(omega / norm, 1.0));
            MaybeReleaseGil gil(p->size() >= kReleaseGilElements);
            kernels::scale_update(a);
        });
        Py_RETURN_NONE;
    });
}

#define PYFLUX_FASTCALL(f) reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f))
#define PYFLUX_METHOD(rule, doc) {#rule "_update", PYFLUX_FASTCALL(rule##_entry), METH_FASTCALL, doc}

// Every entry: param -= Δ in place, or Δ written to out (a writable contiguous array like param; it may
// be grad itself) when out is given. Formulas in kernels/optimisers.hpp; beta_t = beta^t at step t >= 1.
PyMethodDef functions[] = {
    PYFLUX_METHOD(descent, "descent_update(param, grad, eta[, out]): Δ = eta grad."),
    PYFLUX_METHOD(momentum, "momentum_update(param, grad, v, eta, rho[, out]): Momentum's step."),
    PYFLUX_METHOD(nesterov, "nesterov_update(param, grad, v, eta, rho[, out]): Nesterov's step."),
    PYFLUX_METHOD(rmsprop, "rmsprop_update(param, grad, s, a, eta, rho, eps[, out]): RMSProp's step; a is None "
                           "unless centred."),
    PYFLUX_METHOD(adam, "adam_update(param, grad, m, v, eta, beta1, beta2, eps, beta1_t, beta2_t[, out]): Adam's step."),
    PYFLUX_METHOD(adamw, "adamw_update(param, grad, m, v, eta, beta1, beta2, eps, beta1_t, beta2_t, lambda, couple"
                         "[, out]): AdamW's step."),
    PYFLUX_METHOD(radam, "radam_update(param, grad, m, v, eta, beta1, beta2, eps, beta1_t, beta2_t, r[, out]): RAdam's "
                         "step with rectification r (r <= 0: the unrectified step)."),
    PYFLUX_METHOD(adamax, "adamax_update(param, grad, m, u, eta, beta1, beta2, eps, beta1_t[, out]): AdaMax's step."),
    PYFLUX_METHOD(adagrad, "adagrad_update(param, grad, acc, eta, eps[, out]): AdaGrad's step."),
    PYFLUX_METHOD(adadelta, "adadelta_update(param, grad, acc, dacc, rho, eps[, out]): AdaDelta's step."),
    PYFLUX_METHOD(amsgrad, "amsgrad_update(param, grad, m, v, vmax, eta, beta1, beta2, eps[, out]): AMSGrad's step."),
    PYFLUX_METHOD(nadam, "nadam_update(param, grad, m, v, eta, beta1, beta2, eps, beta1_t, beta2_t[, out]): NAdam's "
                         "step."),
    PYFLUX_METHOD(oadam, "oadam_update(param, grad, m, v, term, eta, beta1, beta2, eps, beta1_t, beta2_t[, out]): "
                         "OAdam's step."),
    PYFLUX_METHOD(lion, "lion_update(param, grad, m, eta, beta1, beta2[, out]): Lion's step."),
    PYFLUX_METHOD(clipgrad, "clipgrad_update(param, grad, delta[, out]): Δ = clamp(grad, -delta, delta)."),
    PYFLUX_METHOD(clipnorm, "clipnorm_update(param, grad, omega, p, throw[, out]): Δ = grad min(omega / norm(grad, p), "
                            "1); a non-finite norm raises ValueError when throw is true."),
    PYFLUX_METHOD(weightdecay, "weightdecay_update(param, grad, lambda[, out]): Δ = grad + lambda param."),
    PYFLUX_METHOD(signdecay, "signdecay_update(param, grad, lambda[, out]): Δ = grad + lambda sign(param)."),
    {nullptr, nullptr, 0, nullptr},
};

#undef PYFLUX_METHOD
#undef PYFLUX_FASTCALL

}  // namespace

void bind_optimisers(py::module_& m) {
    if (PyModule_AddFunctions(m.ptr(), functions) < 0) throw py::error_already_set();
}

}  // namespace pyflux::bindings
