// The general path's training step, and its pass over the data as one C++ loop: train
// (pyflux/train.py) hands it a whole pass when no Python is needed between steps (no progress
// display, no callbacks), and one item at a time otherwise, so that each step costs the loss
// function and its ops, not the interpreter running the loop around them.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autodiff/tape.hpp"
#include "bindings/bind_optimisers.hpp"
#include "bindings/dispatch.hpp"
#include "bindings/python_api.hpp"
#include "kernels/subnormals.hpp"

namespace pyflux::bindings {
namespace {

using autodiff::Tape;

// loss(*prefix, *item) for a plain tuple item (as Flux splats it), loss(*prefix, item) otherwise.
py::object call_loss(PyObject* loss, const py::tuple& prefix, PyObject* item) {
    const bool splat = PyTuple_CheckExact(item);
    const Py_ssize_t n = PyTuple_GET_SIZE(prefix.ptr()), m = splat ? PyTuple_GET_SIZE(item) : 1;
    py::tuple args(n + m);
    for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject* a = PyTuple_GET_ITEM(prefix.ptr(), k);
        Py_INCREF(a);
        PyTuple_SET_ITEM(args.ptr(), k, a);
    }
    for (Py_ssize_t k = 0; k < m; ++k) {
        PyObject* a = splat ? PyTuple_GET_ITEM(item, k) : item;
        Py_INCREF(a);
        PyTuple_SET_ITEM(args.ptr(), n + k, a);
    }
    PyObject* value = PyObject_Call(loss, args.ptr(), nullptr);
    if (!value) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(value);
}

std::string number_text(double v) { return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

// One step: the loss traced on a tape watching ps, its value, and (when it was traced) the update of
// each parameter by its optimiser. Throws ValueError naming the item for a NaN or infinite loss,
// before any update.
double step(PyObject* loss, const py::tuple& prefix, PyObject* item, const std::vector<Tensor>& ps,
            const std::vector<optimisers::Optimiser*>& opts, std::vector<optimisers::Update>& updates, Py_ssize_t i) {
    Tape tape;
    tape.watch(ps);
    tape.activate();
    py::object value = call_loss(loss, prefix, item);  // on an exception the tape deactivates as it goes
    tape.deactivate();
    if (PyTuple_Check(value.ptr()) && PyTuple_GET_SIZE(value.ptr()) > 0)
        value = py::reinterpret_borrow<py::object>(PyTuple_GET_ITEM(value.ptr(), 0));
    const Tensor traced = as_tensor(value);
    const Tensor l = traced ? traced : tensor_from_object(value, std::nullopt, "train");
    if (l->size() != 1)
        throw py::value_error("gradient: the function must return a scalar, got an array of shape " + l->shape.str());
    const kernels::SubnormalMode training(kernels::SubnormalMode::for_training());
    std::vector<Tensor> grads;
    if (traced) {
        MaybeReleaseGil gil(tape.work() >= kReleaseGilElements);
        grads = tape.backward(traced, ps);
    }
    const double v = l->dtype == autodiff::DType::f32 ? static_cast<double>(*l->ptr<float>()) : *l->ptr<double>();
    if (!std::isfinite(v))
        throw py::value_error("Loss is " + number_text(v) + " on data item " + std::to_string(i) +
                              " (counting from 0), stopping training");
    updates.clear();
    autodiff::index_t work = 0;
    for (std::size_t k = 0; k < grads.size(); ++k) {
        if (!grads[k] || !opts[k] || opts[k]->frozen) continue;
        updates.push_back({ps[k], autodiff::contiguous(grads[k]), opts[k]});
        work += opts[k]->size();
    }
    MaybeReleaseGil gil(work >= kReleaseGilElements);
    optimisers::update_all(updates);
    return v;
}

// train_steps(loss, params, optimisers, data, prefix[, first]): the losses of one pass (a float64 array).
PyObject* train_steps(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 5 && nargs != 6) {
        PyErr_Format(PyExc_TypeError,
                     "train_steps(loss, params, optimisers, data, prefix[, first]) takes 5 or 6 arguments (%zd given)",
                     nargs);
        return nullptr;
    }
    return guarded([&]() -> PyObject* {
        PyObject* loss = args[0];
        std::vector<Tensor> ps;
        for (py::handle p : py::iter(py::handle(args[1]))) {
            if (!is_tensor(p.ptr())) throw py::type_error("train_steps: params must be Tensors, got " + type_name(p));
            ps.push_back(tensor_of(p.ptr()));
        }
        std::vector<optimisers::Optimiser*> opts;
        for (py::handle o : py::iter(py::handle(args[2]))) opts.push_back(o.is_none() ? nullptr : &optimiser_of(o));
        if (opts.size() != ps.size()) throw py::value_error("train_steps: one optimiser per parameter");
        if (!PyTuple_Check(args[4])) throw py::type_error("train_steps: prefix must be a tuple");
        const py::tuple prefix = py::reinterpret_borrow<py::tuple>(args[4]);
        std::vector<double> losses;
        std::vector<optimisers::Update> updates;
        const py::iterator it = py::iter(py::handle(args[3]));
        Py_ssize_t i = 0;
        if (nargs == 6) {
            i = PyLong_AsSsize_t(args[5]);
            if (i == -1 && PyErr_Occurred()) throw py::error_already_set();
        }
        for (py::handle item : it) losses.push_back(step(loss, prefix, item.ptr(), ps, opts, updates, i++));
        py::array_t<double> out(static_cast<py::ssize_t>(losses.size()));
        std::copy(losses.begin(), losses.end(), out.mutable_data());
        return out.release().ptr();
    });
}

PyMethodDef functions[] = {
    {"train_steps", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(train_steps)), METH_FASTCALL,
     "train_steps(loss, params, optimisers, data, prefix[, first]): train's general path over data: for each\n"
     "item, loss(*prefix, *item) (a plain tuple is spread) traced on a tape watching params, then each\n"
     "parameter's optimiser (None: not updated). Returns the losses; a NaN or infinite loss raises ValueError\n"
     "naming its item (counted from first, default 0), before that item's update."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void bind_train(py::module_& m) {
    if (PyModule_AddFunctions(m.ptr(), functions) < 0) throw py::error_already_set();
}

}  // namespace pyflux::bindings
