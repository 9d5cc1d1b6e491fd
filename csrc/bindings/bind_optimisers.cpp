// Optimisers for Python, through one generic entry point for every rule: `optimiser_init(spec, param)` makes
// a parameter's `Optimiser` (rule, hyperparameters and state, owned by C++), whose `apply` runs a step and
// whose `arrays()` shows the state as numpy views; `optimisers_update(params, grads, optimisers)` runs the
// update of every parameter of a training step in one call.
#include "bindings/bind_optimisers.hpp"

#include <string>
#include <vector>

#include "autodiff/tape.hpp"
#include "bindings/dispatch.hpp"
#include "bindings/python_api.hpp"

namespace pyflux::bindings {

using optimisers::Optimiser;
using optimisers::Spec;
using optimisers::StatePart;

optimisers::Optimiser& optimiser_of(py::handle obj) {
    // The exact class (every state optimiser_init makes) is found without pybind11's type lookup.
    static PyTypeObject* const exact = reinterpret_cast<PyTypeObject*>(py::type::of<Optimiser>().ptr());
    if (Py_TYPE(obj.ptr()) == exact)
        return *reinterpret_cast<py::detail::instance*>(obj.ptr())->get_value_and_holder().value_ptr<Optimiser>();
    if (!py::isinstance<Optimiser>(obj))
        throw py::type_error("expected an optimiser state (from a rule's init or setup), got " + type_name(obj));
    return obj.cast<Optimiser&>();
}

namespace {

double number(py::handle obj, const std::string& what) {
    const double v = PyFloat_AsDouble(obj.ptr());
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        throw py::type_error(what + " must be a number, got " + type_name(obj));
    }
    return v;
}

// (name, {hyperparameter: number}) for a rule, ("OptimiserChain", [spec, ...]) for a chain.
Spec spec_from(py::handle obj) {
    if (!py::isinstance<py::tuple>(obj) || py::len(obj) != 2)
        throw py::type_error("an optimiser spec is a (name, hyperparameters) pair, got " + type_name(obj));
    auto pair = py::reinterpret_borrow<py::tuple>(obj);
    Spec spec;
    spec.name = py::str(pair[0]).cast<std::string>();
    if (spec.name == "OptimiserChain") {
        for (py::handle rule : py::iter(pair[1])) spec.chain.push_back(spec_from(rule));
        return spec;
    }
    for (auto [key, value] : py::reinterpret_borrow<py::dict>(pair[1])) {
        std::string name = py::str(key).cast<std::string>();
        spec.hypers.emplace_back(name, number(value, spec.name + ": " + name));
    }
    return spec;
}

// The parameter a step of o changes in place: a Tensor (Param) not being traced.
Tensor parameter(py::handle param, const Optimiser& o) {
    Tensor p = as_tensor(param);
    if (!p) throw py::type_error(o.rule() + ": expected a Param, got " + type_name(param));
    if (autodiff::traced(p))
        throw py::value_error(o.rule() + ": cannot update a parameter while a gradient is being taken");
    if (!p->is_contiguous()) throw py::value_error(o.rule() + ": the parameter must be contiguous");
    return p;
}

// The gradient for p as a contiguous tensor of p's dtype and shape.
Tensor gradient(py::handle grad, const Tensor& p, const Optimiser& o) {
    Tensor g = as_tensor(grad);
    if (g && g->dtype == p->dtype && g->shape == p->shape && g->is_contiguous()) return g;
    if (!g || g->dtype != p->dtype)
        g = tensor_from_object(g ? py::object(to_numpy(g)) : py::reinterpret_borrow<py::object>(grad), p->dtype,
                               o.rule().c_str());
    if (g->shape != p->shape)
        throw py::value_error(o.rule() + ": gradient of shape " + g->shape.str() +
                              " does not match parameter of shape " + p->shape.str());
    return autodiff::contiguous(g);
}

// Where Δ goes instead of p: a writable contiguous numpy array like p.
void* output(py::handle out, const Optimiser& o) {
    const std::string what = o.rule() + ": the output";
    if (!py::isinstance<py::array>(out)) throw py::type_error(what + " must be a numpy array, got " + type_name(out));
    auto arr = py::reinterpret_borrow<py::array>(out);
    const bool ok = arr.dtype().equal(numpy_dtype(o.dtype())) && (arr.flags() & py::array::c_style) &&
                    arr.writeable() && arr.size() == o.size();
    if (!ok)
        throw py::value_error(what + " must be a writable contiguous " + autodiff::dtype_name(o.dtype()) +
                              " array of " + std::to_string(o.size()) + " elements");
    return arr.mutable_data();
}

std::vector<py::ssize_t> dims(const autodiff::Shape& shape) {
    return std::vector<py::ssize_t>(shape.dims.begin(), shape.dims.begin() + shape.ndim);
}

// The state as nested dicts of numpy arrays viewing the C++ memory; each view keeps owner alive.
py::dict views(const std::vector<StatePart>& parts, const Optimiser& o, py::handle owner) {
    py::dict out;
    for (const StatePart& part : parts) {
        py::object value;
        switch (part.kind) {
            case StatePart::array: value = py::array(numpy_dtype(o.dtype()), dims(o.shape()), part.data, owner); break;
            case StatePart::step_count:
                value = py::array(py::dtype::of<std::int64_t>(), std::vector<py::ssize_t>{}, part.data, owner);
                break;
            case StatePart::powers:
                value = py::array(py::dtype::of<double>(), std::vector<py::ssize_t>{2}, part.data, owner);
                break;
            case StatePart::rules: value = views(part.parts, o, owner); break;
        }
        out[py::str(part.name)] = value;
    }
    return out;
}

void apply(Optimiser& o, py::handle param, py::handle grad, py::handle out) {
    Tensor p = parameter(param, o);
    Tensor g = gradient(grad, p, o);
    o.check(p, g);
    void* d = out.is_none() ? nullptr : output(out, o);
    if (o.frozen && !d) return;
    MaybeReleaseGil gil(o.size() >= kReleaseGilElements);
    o.apply(p->data, g->data, d);
}

std::string describe(const Optimiser& o) {
    return "<" + o.rule() + " state for a " + o.shape().str() + " " + autodiff::dtype_name(o.dtype()) + " parameter" +
           (o.frozen ? ", frozen>" : ">");
}

// A list or tuple as it is, any other sequence as a new list.
py::object sequence(PyObject* obj) {
    PyObject* fast = PySequence_Fast(obj, "optimisers_update: params, grads and optimisers must be sequences");
    if (!fast) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(fast);
}

// optimisers_update(params, grads, optimisers): one step for every parameter (None grads are skipped).
PyObject* optimisers_update(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "optimisers_update(params, grads, optimisers) takes 3 arguments (%zd given)",
                     nargs);
        return nullptr;
    }
    return guarded([&] {
        py::object ps = sequence(args[0]), gs = sequence(args[1]), os = sequence(args[2]);
        const Py_ssize_t n = PySequence_Fast_GET_SIZE(ps.ptr());
        if (PySequence_Fast_GET_SIZE(gs.ptr()) != n || PySequence_Fast_GET_SIZE(os.ptr()) != n)
            throw py::value_error("optimisers_update: params, grads and optimisers differ in length");
        PyObject** p_items = PySequence_Fast_ITEMS(ps.ptr());
        PyObject** g_items = PySequence_Fast_ITEMS(gs.ptr());
        PyObject** o_items = PySequence_Fast_ITEMS(os.ptr());
        // Reused from call to call so that a training step allocates nothing here; emptied on the way out so
        // that no parameter is kept alive.
        thread_local std::vector<optimisers::Update> updates;
        struct Emptied {
            ~Emptied() { updates.clear(); }
        } emptied;
        updates.clear();
        autodiff::index_t work = 0;
        for (Py_ssize_t i = 0; i < n; ++i) {
            if (g_items[i] == Py_None) continue;
            Optimiser& o = optimiser_of(o_items[i]);
            if (o.frozen) continue;
            Tensor p = parameter(p_items[i], o);
            Tensor g = gradient(g_items[i], p, o);
            updates.push_back({std::move(p), std::move(g), &o});
            work += o.size();
        }
        MaybeReleaseGil gil(work >= kReleaseGilElements);
        optimisers::update_all(updates);
        Py_RETURN_NONE;
    });
}

PyMethodDef functions[] = {
    {"optimisers_update", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(optimisers_update)),
     METH_FASTCALL,
     "optimisers_update(params, grads, optimisers): one optimisation step for every parameter, in place; a None "
     "gradient or a frozen optimiser leaves its parameter alone. All are checked before any is changed."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void bind_optimisers(py::module_& m) {
    py::class_<Optimiser>(m, "Optimiser",
                          "One parameter's optimisation rule and state (moments, step count t, powers beta_t), "
                          "owned by C++. Made by optimiser_init.")
        .def_property_readonly("rule", &Optimiser::rule, "The rule's name.")
        .def_property_readonly("dtype", [](const Optimiser& o) { return numpy_dtype(o.dtype()); })
        .def_property_readonly("shape", [](const Optimiser& o) { return py::tuple(py::cast(dims(o.shape()))); })
        .def_readwrite("frozen", &Optimiser::frozen, "A frozen optimiser's steps leave the parameter alone.")
        .def(
            "apply", [](Optimiser& o, py::handle p, py::handle g, py::handle out) { apply(o, p, g, out); },
            py::arg("param"), py::arg("grad"), py::arg("out") = py::none(),
            "One step: param -= Δ in place, or Δ written to out (a writable contiguous array like param; it may be "
            "grad itself) with param left alone.")
        .def(
            "set", [](Optimiser& o, py::handle spec) { o.set(spec_from(spec)); }, py::arg("spec"),
            "New hyperparameters for the same rule, keeping the state.")
        .def(
            "arrays", [](py::object self) { Optimiser& o = self.cast<Optimiser&>(); return views(o.state(), o, self); },
            "The state as a dict of numpy arrays that view (and write) the C++ memory: the rule's arrays by name, "
            "'t' and 'beta_t' for rules that count steps, one dict per rule for a chain.")
        .def("__getitem__",
             [](py::object self, py::handle key) -> py::object {
                 py::dict arrays = self.attr("arrays")();
                 if (!arrays.contains(key)) throw py::key_error(py::str(key).cast<std::string>());
                 return arrays[key];
             })
        .def("__copy__", &Optimiser::clone, "An independent copy of the rule and its state.")
        .def("__deepcopy__", [](const Optimiser& o, py::handle) { return o.clone(); }, py::arg("memo"))
        .def("__repr__", &describe);
    m.def(
        "optimiser_init",
        [](py::handle spec, py::handle param) {
            Spec s = spec_from(spec);
            Tensor p = as_tensor(param);
            if (!p) throw py::type_error(s.name + ": expected a Param, got " + type_name(param));
            return optimisers::make_optimiser(s, p->dtype, p->shape);
        },
        py::arg("spec"), py::arg("param"),
        "The optimiser state for a parameter: spec is (rule name, {hyperparameter: value}), or "
        "('OptimiserChain', [spec, ...]).");
    m.def(
        "optimiser_rules",
        [] {
            py::list out;
            for (const auto& r : optimisers::rules())
                out.append(py::dict(py::arg("name") = r.name, py::arg("hypers") = r.hypers,
                                    py::arg("states") = r.states, py::arg("clocked") = r.clocked));
            return out;
        },
        "Every rule the core implements: name, hyperparameter names, state array names, whether it counts steps.");
    if (PyModule_AddFunctions(m.ptr(), functions) < 0) throw py::error_already_set();
}

}  // namespace pyflux::bindings
