// How Python arguments meet the ops: operand conversion and dtype agreement, GIL release around
// large work, and the result convention (a traced Tensor inside gradient, a numpy array otherwise).
#pragma once

#include <limits>
#include <optional>
#include <string>

#include "autodiff/ops.hpp"
#include "bindings/arrays.hpp"

namespace pyflux::bindings {

using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);
using UnaryFn = Tensor (*)(const Tensor&);

/// A traced result stays a Tensor; anything else goes back to Python as numpy.
py::object wrap_result(const Tensor& t);

/// Converts two operands to tensors of one dtype. A Tensor's dtype wins over a numpy array's or a
/// Python number's; two Tensors of different dtypes meet in float64 through the cast op.
std::pair<Tensor, Tensor> binary_operands(py::handle a, py::handle b, const char* op);

/// One operand: a Tensor as it is, anything else converted (float arrays keep their dtype).
Tensor unary_operand(py::handle x, const char* op);

py::object call_binary(BinaryFn fn, py::handle a, py::handle b, const char* op);
py::object call_unary(UnaryFn fn, py::handle x, const char* op);

/// An int argument (a Python int or anything with __index__) as index_t, or nothing when it does not
/// fit in 64 bits; a TypeError naming `what` for anything else (a float included).
std::optional<autodiff::index_t> int_arg(py::handle value, const std::string& what);

/// The most elements a shape from Python may have: the byte count of a float64 array must fit in
/// index_t too.
constexpr autodiff::index_t kMaxElements = std::numeric_limits<autodiff::index_t>::max() / 8;

/// numpy-style axis argument: None or an int (IndexError when it cannot be an axis).
std::optional<int> axis_arg(py::handle axis);

/// An axis argument that must be an int: TypeError naming op for None.
int required_axis(py::handle dims, const char* op);

/// Axes as the ops take them: an int, a tuple or list of ints, or None (all axes).
autodiff::Axes dims_arg(py::handle dims);

/// A reduction's axes from its `dims` and numpy's `axis` keyword (either may be null: not given);
/// giving both is a TypeError.
autodiff::Axes reduce_dims(const char* op, PyObject* dims, PyObject* axis);

/// A flag argument: a bool (or numpy bool); anything else is a TypeError naming `what`.
bool bool_arg(py::handle value, const std::string& what);

/// A key of ints, slices and Ellipsis as one AxisIndex per axis of `shape`; anything else is a
/// TypeError naming what was given.
std::vector<autodiff::AxisIndex> index_spec(py::handle key, const autodiff::Shape& shape);

/// An integer index array (a numpy integer array or a list of ints) as its elements and shape.
struct IndexArray {
    std::vector<autodiff::index_t> values;
    autodiff::Shape shape;
};
/// item as an IndexArray, or nothing when it is not an array or list; a bool or float array is a
/// TypeError naming `op`.
std::optional<IndexArray> index_array_arg(py::handle item, const char* op);

/// t[key] as traced indexing does it: ints, slices and Ellipsis as views (index), and at most one
/// integer array, a gather along its axis (numpy's placement of the new axes).
Tensor index_by_key(const Tensor& t, py::handle key);

/// Shape from a tuple/list of ints (one -1 allowed, inferred from size) or a single int.
autodiff::Shape shape_arg(py::handle shape, autodiff::index_t size, const char* op);

/// Holds the GIL released while it lives, when `release` is true.
class MaybeReleaseGil {
public:
    explicit MaybeReleaseGil(bool release) {
        if (release) released_.emplace();
    }

private:
    std::optional<py::gil_scoped_release> released_;
};

/// _core.dense(W, b, x, activation, param), a METH_FASTCALL | METH_KEYWORDS function (layer_calls.cpp).
PyObject* dense_entry(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames);

void bind_tensor(py::module_& m);
void bind_ops(py::module_& m);
void bind_autodiff(py::module_& m);
void bind_optimisers(py::module_& m);
void bind_capture(py::module_& m);
void bind_train(py::module_& m);
void bind_layer_calls(py::module_& m);

}  // namespace pyflux::bindings
