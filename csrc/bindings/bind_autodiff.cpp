// The Tape as Python sees it: watch leaves, record inside `with tape:`, then sweep once. A CPython
// type rather than a pybind11 class because training makes one per step.
#include <new>
#include <string>

#include "autodiff/tape.hpp"
#include "bindings/dispatch.hpp"
#include "bindings/python_api.hpp"

namespace pyflux::bindings {
namespace {

using autodiff::Tape;

struct TapeObject {
    PyObject_HEAD
    Tape* tape;
};

Tape& tape_of(PyObject* self) { return *reinterpret_cast<TapeObject*>(self)->tape; }

// Watches every Tensor in an iterable.
void watch_all(Tape& tape, PyObject* iterable) {
    py::iterator it = py::iter(py::handle(iterable));
    for (py::handle item : it) {
        if (!is_tensor(item.ptr()))
            throw py::type_error("Tape.watch: expected Tensors, got " + type_name(item));
        tape.watch(tensor_of(item.ptr()));
    }
}

PyObject* tape_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
    static const char* names[] = {"watch", nullptr};
    PyObject* watch = nullptr;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:Tape", const_cast<char**>(names), &watch)) return nullptr;
    PyObject* self = type->tp_alloc(type, 0);
    if (!self) return nullptr;
    auto* obj = reinterpret_cast<TapeObject*>(self);
    obj->tape = new (std::nothrow) Tape();
    if (!obj->tape) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    if (watch && !guarded([&] {
            watch_all(*obj->tape, watch);
            Py_RETURN_NONE;
        })) {
        Py_DECREF(self);
        return nullptr;
    }
    return self;
}

void tape_dealloc(PyObject* self) {
    delete reinterpret_cast<TapeObject*>(self)->tape;
    Py_TYPE(self)->tp_free(self);
}

PyObject* tape_watch(PyObject* self, PyObject* tensor) {
    if (!is_tensor(tensor)) {
        PyErr_Format(PyExc_TypeError, "Tape.watch: expected a Tensor, got %s", Py_TYPE(tensor)->tp_name);
        return nullptr;
    }
    return guarded([&] {
        tape_of(self).watch(tensor_of(tensor));
        Py_RETURN_NONE;
    });
}

PyObject* tape_enter(PyObject* self, PyObject*) {
    return guarded([&] {
        tape_of(self).activate();
        Py_INCREF(self);
        return self;
    });
}

PyObject* tape_exit(PyObject* self, PyObject* const*, Py_ssize_t) {
    tape_of(self).deactivate();
    Py_RETURN_FALSE;
}

PyObject* tape_gradient(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static const char* const names[] = {"loss", "wrt"};
    PyObject* parsed[2] = {nullptr, nullptr};
    if (!parse_arguments("gradient", args, nargs, kwnames, names, 2, 1, parsed)) return nullptr;
    return guarded([&]() -> PyObject* {
        Tape& tape = tape_of(self);
        py::handle loss(parsed[0]);
        Tensor l = as_tensor(loss);
        if (!l) {
            // The function returned something gradient never traced: a constant.
            Tensor c = tensor_from_object(loss, std::nullopt, "gradient");
            if (c->size() != 1)
                throw py::value_error("gradient: the function must return a scalar, got an array of shape " +
                                      c->shape.str());
        }
        std::vector<Tensor> targets;
        if (parsed[1] && parsed[1] != Py_None) {
            for (py::handle item : py::iter(py::handle(parsed[1]))) {
                if (!is_tensor(item.ptr())) throw py::type_error("gradient: wrt must hold Tensors, got " + type_name(item));
                targets.push_back(tensor_of(item.ptr()));
            }
        } else {
            targets = tape.watched();
        }
        std::vector<Tensor> grads;
        {
            // Freeing the tape may release numpy arrays, which takes the GIL back: only worth
            // letting go of it when the sweep has real work.
            MaybeReleaseGil gil(tape.work() >= kReleaseGilElements);
            grads = tape.backward(l, targets);
        }
        py::list out(grads.size());
        for (std::size_t i = 0; i < grads.size(); ++i)
            out[i] = grads[i] ? py::reinterpret_steal<py::object>(tensor_object(grads[i])) : py::none();
        return out.release().ptr();
    });
}

PyObject* tape_recorded(PyObject* self, void*) { return PyLong_FromSize_t(tape_of(self).recorded()); }

PyMethodDef tape_methods[] = {
    {"watch", tape_watch, METH_O, "watch(tensor): makes tensor a leaf whose gradient is wanted."},
    {"__enter__", tape_enter, METH_NOARGS, "Starts recording on this thread."},
    {"__exit__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(tape_exit)), METH_FASTCALL,
     "Stops recording."},
    {"gradient", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(tape_gradient)),
     METH_FASTCALL | METH_KEYWORDS,
     "gradient(loss, wrt=None): gradients of the scalar loss with respect to each tensor in wrt (default: the "
     "watched tensors, in order), None where loss does not depend on it. Sweeps and frees the tape."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef tape_getset[] = {
    {"recorded", tape_recorded, nullptr, "The number of ops recorded and not yet swept.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyTypeObject TapeType = [] {
    PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
    t.tp_name = "pyflux._core.Tape";
    t.tp_basicsize = sizeof(TapeObject);
    t.tp_flags = Py_TPFLAGS_DEFAULT;
    t.tp_doc = "Tape(watch=()): records operations on traced values while entered (`with tape:`), then computes\n"
               "gradients once with tape.gradient(loss). Only ops with a traced input are recorded, and nothing\n"
               "is recorded while no tape is entered. One tape per thread may record at a time.";
    t.tp_new = tape_new;
    t.tp_dealloc = tape_dealloc;
    t.tp_methods = tape_methods;
    t.tp_getset = tape_getset;
    return t;
}();

PyObject* recording_entry(PyObject*, PyObject*) { return PyBool_FromLong(Tape::current() != nullptr); }

PyMethodDef functions[] = {
    {"recording", recording_entry, METH_NOARGS, "recording(): whether a tape is recording on this thread."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void bind_autodiff(py::module_& m) {
    if (PyModule_AddFunctions(m.ptr(), functions) < 0) throw py::error_already_set();
    if (PyType_Ready(&TapeType) < 0) throw py::error_already_set();
    Py_INCREF(&TapeType);
    m.add_object("Tape", reinterpret_cast<PyObject*>(&TapeType));
}

}  // namespace pyflux::bindings
