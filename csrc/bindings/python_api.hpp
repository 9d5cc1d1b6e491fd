// Helpers for entry points written against the CPython API (METH_FASTCALL functions and the Tensor
// and Tape types): training calls them at every step, where pybind11's general dispatch costs more
// than the work.
#pragma once

#include <Python.h>

#include <new>
#include <stdexcept>

#include <pybind11/pybind11.h>

namespace pyflux::bindings {

/// Runs f (returning a new reference or null), turning C++ exceptions into the Python exceptions
/// pybind11 would raise for them.
template <class F>
PyObject* guarded(F&& f) {
    namespace py = pybind11;
    try {
        return f();
    } catch (py::error_already_set& e) {
        e.restore();
    } catch (py::builtin_exception& e) {
        e.set_error();
    } catch (const std::out_of_range& e) {
        PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const std::invalid_argument& e) {
        PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const std::domain_error& e) {
        PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const std::bad_alloc&) {
        PyErr_NoMemory();
    } catch (const std::exception& e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
    }
    return nullptr;
}

/// Positional-or-keyword arguments of a METH_FASTCALL | METH_KEYWORDS call, by name. Fills out[i]
/// (borrowed) for names[i], leaving defaults where absent; raises TypeError for unknown, repeated
/// or missing required (the first `required`) arguments.
bool parse_arguments(const char* function, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                     const char* const* names, int count, int required, PyObject** out);

}  // namespace pyflux::bindings
