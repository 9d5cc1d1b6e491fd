#include "bindings/dispatch.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include "autodiff/tape.hpp"

namespace pyflux::bindings {

py::object wrap_result(const Tensor& t) {
    if (autodiff::traced(t)) return py::reinterpret_steal<py::object>(tensor_object(t));
    return to_numpy_result(t);
}

std::pair<Tensor, Tensor> binary_operands(py::handle a, py::handle b, const char* op) {
    Tensor ta = as_tensor(a), tb = as_tensor(b);
    if (ta && tb) {
        if (ta->dtype != tb->dtype) {
            ta = autodiff::cast(ta, DType::f64);
            tb = autodiff::cast(tb, DType::f64);
        }
        return {ta, tb};
    }
    if (ta) return {ta, tensor_from_object(b, ta->dtype, op)};
    if (tb) return {tensor_from_object(a, tb->dtype, op), tb};
    // Neither is a Tensor (a module-level function called on plain data): numpy's promotion among
    // float32 and float64, with a Python number taking the other operand's dtype.
    const bool a_weak = PyFloat_Check(a.ptr()) || PyLong_Check(a.ptr());
    const bool b_weak = PyFloat_Check(b.ptr()) || PyLong_Check(b.ptr());
    if (a_weak && !b_weak) {
        tb = tensor_from_object(b, std::nullopt, op);
        ta = tensor_from_object(a, tb->dtype, op);
    } else if (b_weak && !a_weak) {
        ta = tensor_from_object(a, std::nullopt, op);
        tb = tensor_from_object(b, ta->dtype, op);
    } else {
        ta = tensor_from_object(a, std::nullopt, op);
        tb = tensor_from_object(b, std::nullopt, op);
        if (ta->dtype != tb->dtype) {
            ta = autodiff::converted(ta, DType::f64);
            tb = autodiff::converted(tb, DType::f64);
        }
    }
    return {ta, tb};
}

Tensor unary_operand(py::handle x, const char* op) {
    if (Tensor t = as_tensor(x)) return t;
    return tensor_from_object(x, std::nullopt, op);
}

py::object call_binary(BinaryFn fn, py::handle a, py::handle b, const char* op) {
    auto [ta, tb] = binary_operands(a, b, op);
    Tensor out;
    {
        MaybeReleaseGil gil(std::max(ta->size(), tb->size()) >= kReleaseGilElements);
        out = fn(ta, tb);
    }
    return wrap_result(out);
}

py::object call_unary(UnaryFn fn, py::handle x, const char* op) {
    Tensor t = unary_operand(x, op);
    Tensor out;
    {
        MaybeReleaseGil gil(t->size() >= kReleaseGilElements);
        out = fn(t);
    }
    return wrap_result(out);
}

std::optional<autodiff::index_t> int_arg(py::handle value, const std::string& what) {
    if (PyFloat_Check(value.ptr()) || (!PyLong_Check(value.ptr()) && !PyIndex_Check(value.ptr())))
        throw py::type_error(what + " must be an int, got " + type_name(value));
    py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
    if (!index) throw py::error_already_set();
    int overflow = 0;
    const long long n = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
    if (overflow) return std::nullopt;
    if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
    return static_cast<autodiff::index_t>(n);
}

std::optional<int> axis_arg(py::handle axis) {
    if (axis.is_none()) return std::nullopt;
    const std::optional<autodiff::index_t> a = int_arg(axis, "axis");
    if (!a || *a < std::numeric_limits<int>::min() || *a > std::numeric_limits<int>::max())
        throw py::index_error("axis " + std::string(py::str(axis)) + " is out of bounds");
    return static_cast<int>(*a);
}

int required_axis(py::handle dims, const char* op) {
    const std::optional<int> axis = axis_arg(dims);
    if (!axis) throw py::type_error(std::string(op) + ": dims must be an int, got None");
    return *axis;
}

autodiff::Axes dims_arg(py::handle dims) {
    if (dims.is_none()) return std::nullopt;
    if (py::isinstance<py::tuple>(dims) || py::isinstance<py::list>(dims)) {
        std::vector<int> axes;
        for (py::handle d : dims) axes.push_back(*axis_arg(d));
        return axes;
    }
    return std::vector<int>{*axis_arg(dims)};
}

autodiff::Axes reduce_dims(const char* op, PyObject* dims, PyObject* axis) {
    if (dims && axis) throw py::type_error(std::string(op) + "() got both dims and axis; give one");
    PyObject* given = dims ? dims : axis;
    return given ? dims_arg(given) : std::nullopt;
}

bool bool_arg(py::handle value, const std::string& what) {
    if (PyBool_Check(value.ptr())) return value.ptr() == Py_True;
    if (py::isinstance(value, py::module_::import("numpy").attr("bool_"))) return PyObject_IsTrue(value.ptr()) == 1;
    throw py::type_error(what + " must be a bool, got " + type_name(value));
}

std::vector<autodiff::AxisIndex> index_spec(py::handle key_in, const autodiff::Shape& shape) {
    py::tuple key = py::isinstance<py::tuple>(key_in) ? py::reinterpret_borrow<py::tuple>(key_in)
                                                       : py::make_tuple(key_in);
    int explicit_axes = 0;
    bool ellipsis = false;
    for (py::handle item : key) {
        if (item.is(py::ellipsis())) {
            if (ellipsis) throw py::index_error("an index can only have a single ellipsis ('...')");
            ellipsis = true;
        } else {
            ++explicit_axes;
        }
    }
    if (explicit_axes > shape.ndim)
        throw py::index_error("too many indices: array of shape " + shape.str() + " is " +
                              std::to_string(shape.ndim) + "-dimensional, but " + std::to_string(explicit_axes) +
                              " were indexed");
    std::vector<autodiff::AxisIndex> spec;
    auto full_axis = [&](int d) { spec.push_back({0, 1, shape[d], true}); };
    for (py::handle item : key) {
        const int d = static_cast<int>(spec.size());
        if (item.is(py::ellipsis())) {
            for (int k = 0; k < shape.ndim - explicit_axes; ++k) full_axis(static_cast<int>(spec.size()));
        } else if (PySlice_Check(item.ptr())) {
            py::ssize_t start = 0, stop = 0, step = 0, count = 0;
            if (!py::reinterpret_borrow<py::slice>(item).compute(shape[d], &start, &stop, &step, &count))
                throw py::error_already_set();
            spec.push_back({start, step, count, true});
        } else if (!PyBool_Check(item.ptr()) && (PyLong_Check(item.ptr()) || (!py::isinstance<py::array>(item) &&
                                                                               py::hasattr(item, "__index__")))) {
            const std::optional<autodiff::index_t> i = int_arg(item, "index");
            if (!i || *i < -shape[d] || *i >= shape[d])
                throw py::index_error("index " + std::string(py::str(item)) + " is out of bounds for axis " +
                                      std::to_string(d) + " with size " + std::to_string(shape[d]));
            spec.push_back({*i < 0 ? *i + shape[d] : *i, 1, 1, false});
        } else {
            throw py::type_error("traced values support integer, slice, Ellipsis and integer-array indexing only; got " +
                                 type_name(item) + " (use reshape for new axes)");
        }
    }
    while (static_cast<int>(spec.size()) < shape.ndim) full_axis(static_cast<int>(spec.size()));
    return spec;
}

std::optional<IndexArray> index_array_arg(py::handle item, const char* op) {
    if (!py::isinstance<py::array>(item) && !py::isinstance<py::list>(item)) return std::nullopt;
    py::array arr = py::module_::import("numpy").attr("asarray")(item);
    const char kind = arr.dtype().kind();
    if (kind == 'b')
        throw py::type_error(std::string(op) + ": boolean mask indexing cannot be traced; use flux.where(mask, x, 0) "
                             "or integer indices (np.flatnonzero(mask))");
    if (kind != 'i' && kind != 'u' && !(py::isinstance<py::list>(item) && arr.size() == 0))
        throw py::type_error(std::string(op) + ": index arrays must hold integers, got " +
                             std::string(py::str(arr.dtype())));
    if (arr.ndim() > autodiff::kMaxDims)
        throw py::index_error(std::string(op) + ": an index array has too many dimensions");
    auto ints = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(arr);
    if (!ints) throw py::error_already_set();
    IndexArray out;
    out.values.assign(ints.data(), ints.data() + ints.size());
    out.shape.ndim = static_cast<int>(arr.ndim());
    for (int d = 0; d < out.shape.ndim; ++d) out.shape.dims[d] = arr.shape(d);
    return out;
}

Tensor index_by_key(const Tensor& t, py::handle key_in) {
    py::tuple key = py::isinstance<py::tuple>(key_in) ? py::reinterpret_borrow<py::tuple>(key_in)
                                                       : py::make_tuple(key_in);
    std::optional<IndexArray> found;
    std::size_t at = 0;
    for (std::size_t k = 0; k < key.size(); ++k) {
        std::optional<IndexArray> a = index_array_arg(key[k], "index");
        if (!a) continue;
        if (found) throw py::type_error("traced values support one integer-array index at a time");
        found = std::move(a);
        at = k;
    }
    if (!found) return autodiff::index(t, index_spec(key, t->shape));
    // The array's axis in the view that the other items leave: slices and Ellipsis keep axes, ints drop them.
    py::list basic(key);
    basic[at] = py::slice(py::none(), py::none(), py::none());
    const Tensor v = autodiff::index(t, index_spec(py::tuple(basic), t->shape));
    int explicit_axes = 0;
    for (py::handle item : key) explicit_axes += !item.is(py::ellipsis());
    int axis = 0;
    for (std::size_t k = 0; k < at; ++k) {
        py::handle item = key[k];
        if (item.is(py::ellipsis())) axis += t->shape.ndim - explicit_axes;
        else if (PySlice_Check(item.ptr())) ++axis;
    }
    return autodiff::gather(v, axis, std::move(found->values), found->shape);
}

autodiff::Shape shape_arg(py::handle shape_in, autodiff::index_t size, const char* op) {
    py::tuple dims = py::isinstance<py::tuple>(shape_in) || py::isinstance<py::list>(shape_in)
                         ? py::tuple(py::reinterpret_borrow<py::object>(shape_in))
                         : py::make_tuple(shape_in);
    if (static_cast<int>(dims.size()) > autodiff::kMaxDims)
        throw py::value_error(std::string(op) + ": at most " + std::to_string(autodiff::kMaxDims) + " dimensions");
    autodiff::Shape shape;
    int infer = -1;
    autodiff::index_t known = 1;
    const auto too_large = [&] {
        return py::value_error(std::string(op) + ": shape " + std::string(py::repr(shape_in)) +
                               " has more elements than an array can hold");
    };
    for (py::handle d : dims) {
        const std::optional<autodiff::index_t> dim = int_arg(d, std::string(op) + ": each dimension");
        if (!dim) throw too_large();
        const autodiff::index_t n = *dim;
        if (n == -1) {
            if (infer >= 0) throw py::value_error(std::string(op) + ": can only specify one unknown dimension");
            infer = shape.ndim;
        } else if (n < 0) {
            throw py::value_error(std::string(op) + ": negative dimension " + std::to_string(n));
        } else if (__builtin_mul_overflow(known, n, &known) || known > kMaxElements) {
            throw too_large();
        }
        shape.dims[shape.ndim++] = n;
    }
    if (infer >= 0) {
        if (known == 0 || size % known != 0)
            throw py::value_error(std::string(op) + ": cannot infer the unknown dimension of an array of size " +
                                  std::to_string(size));
        shape.dims[infer] = size / known;
    }
    return shape;
}

}  // namespace pyflux::bindings
