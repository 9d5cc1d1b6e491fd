// The Python type of Tensor, written against the CPython API rather than pybind11's class
// machinery: a traced op's result is created and destroyed at every step of training, and
// pybind11's per-instance registry and type lookups cost more than the op itself.
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>

#include "autodiff/tensor.hpp"

namespace pyflux::bindings {

struct TensorObject {
    PyObject_HEAD
    autodiff::Tensor value;
    PyObject* weakrefs;
};

extern PyTypeObject TensorType;

/// Whether obj is a Tensor (or an instance of a subclass such as Param).
inline bool is_tensor(PyObject* obj) { return PyObject_TypeCheck(obj, &TensorType); }

/// The tensor behind obj, which must be a Tensor.
inline const autodiff::Tensor& tensor_of(PyObject* obj) { return reinterpret_cast<TensorObject*>(obj)->value; }

/// A new reference to the object representing t: the existing one if t already has one.
PyObject* tensor_object(const autodiff::Tensor& t);


}  // namespace pyflux::bindings

namespace pybind11::detail {

// Lets pybind11-bound functions take and return Tensors as TensorObjects.
template <>
struct type_caster<pyflux::autodiff::Tensor> {
    PYBIND11_TYPE_CASTER(pyflux::autodiff::Tensor, const_name("Tensor"));

    bool load(handle src, bool) {
        if (!src || !pyflux::bindings::is_tensor(src.ptr())) return false;
        value = pyflux::bindings::tensor_of(src.ptr());
        return true;
    }

    static handle cast(const pyflux::autodiff::Tensor& t, return_value_policy, handle) {
        if (!t) return none().release();
        return pyflux::bindings::tensor_object(t);
    }
};

}  // namespace pybind11::detail
