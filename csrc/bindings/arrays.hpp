// numpy <-> tensor conversion for the bindings: dtype and layout checks, zero-copy where possible,
// and error text that names the op.
#pragma once

#include <optional>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "autodiff/tensor.hpp"
#include "bindings/tensor_object.hpp"

namespace pyflux::bindings {

namespace py = pybind11;
using autodiff::DType;
using autodiff::Tensor;
using autodiff::TensorImpl;

py::dtype numpy_dtype(DType dtype);

/// An owner that keeps arr alive while any tensor views its memory. The last owner may let go
/// without the GIL (in a kernel or the backward sweep), so the release takes it.
std::shared_ptr<void> keep_alive(const py::array& arr);

/// A tensor over a numpy array's memory (no copy) when it already has dtype `want` (or, with no
/// `want`, is float32 or float64) and a usable layout; otherwise a converted copy. Integer and bool
/// arrays convert to `want` (default float64); complex and object arrays are refused naming `op`.
Tensor tensor_from_array(const py::array& arr, std::optional<DType> want, const char* op);

/// Any array-like (numpy array, list, Python or numpy scalar) as a tensor, as tensor_from_array.
Tensor tensor_from_object(py::handle obj, std::optional<DType> want, const char* op);

/// A numpy array viewing t's memory; it keeps the memory alive.
py::array to_numpy(const Tensor& t);

/// to_numpy, but a 0-d result becomes a numpy scalar, as numpy's own reductions return.
py::object to_numpy_result(const Tensor& t);

/// The name of obj's type, for error messages.
std::string type_name(py::handle obj);

/// The Tensor behind a Python object, or null if it is not one.
inline Tensor as_tensor(py::handle obj) { return is_tensor(obj.ptr()) ? tensor_of(obj.ptr()) : Tensor{}; }

/// Releases the GIL for work on at least this many elements; below it, releasing costs more than
/// the kernel.
constexpr autodiff::index_t kReleaseGilElements = 32768;

}  // namespace pyflux::bindings
