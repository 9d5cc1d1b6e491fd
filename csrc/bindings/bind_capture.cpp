// Captured training as Python drives it (pyflux/capture.py): a Feed of data arrays, a Program
// recorded while entered (`with program:` around one traced step), and Program.run, which runs a
// range of steps in C++ with the GIL released.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "bindings/bind_optimisers.hpp"
#include "bindings/dispatch.hpp"
#include "bindings/python_api.hpp"
#include "capture/feed.hpp"
#include "capture/program.hpp"

namespace pyflux::bindings {
namespace {

using capture::Feed;
using capture::Program;

std::vector<Tensor> tensors(py::iterable items, const char* what) {
    std::vector<Tensor> out;
    for (py::handle item : items) {
        if (!is_tensor(item.ptr())) throw py::type_error(std::string("capture: ") + what + " must be Tensors, got " + type_name(item));
        out.push_back(tensor_of(item.ptr()));
    }
    return out;
}

// One part of a data item as a tensor: float arrays and Tensors as they are, other arrays and numbers
// converted to `want`; null for anything else (a string, None, a bool, an object array).
Tensor item_part(py::handle part, DType want) {
    if (is_tensor(part.ptr())) return tensor_of(part.ptr());
    if (py::isinstance<py::array>(part)) {
        const char kind = py::detail::array_descriptor_proxy(py::detail::array_proxy(part.ptr())->descr)->kind;
        if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') return Tensor{};
        return tensor_from_array(py::reinterpret_borrow<py::array>(part), kind == 'f' ? std::nullopt
                                                                                      : std::optional<DType>(want),
                                 "capture");
    }
    static const py::handle numpy_scalar = py::object(py::module_::import("numpy").attr("generic")).release();
    if (PyBool_Check(part.ptr())) return Tensor{};
    if (!PyFloat_Check(part.ptr()) && !PyLong_Check(part.ptr()) && !py::isinstance(part, numpy_scalar))
        return Tensor{};
    try {
        return item_part(py::array::ensure(part), want);
    } catch (const py::error_already_set&) {
        return Tensor{};
    }
}

Feed make_feed(py::iterable sources, py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> order,
               autodiff::index_t batch) {
    std::vector<Tensor> arrays;
    for (py::handle s : sources) {
        Tensor t = as_tensor(s);
        arrays.push_back(t ? t : tensor_from_object(s, std::nullopt, "capture"));
    }
    const std::int64_t* o = order.data();
    return Feed(std::move(arrays), std::vector<std::int64_t>(o, o + order.size()), batch);
}

// Items (arrays, or tuples of `width` arrays and numbers when splat) as tensors, float arrays as they are
// (no copy) and others converted to `want`. Stops at the first item that is not of item 0's form,
// shapes and dtypes: the feed holds the items before it (at least one, else ValueError).
Feed feed_from_items(py::sequence items, bool splat, py::object want_dtype, py::object order) {
    const DType want = py::dtype::from_args(want_dtype).equal(py::dtype::of<float>()) ? DType::f32 : DType::f64;
    std::vector<std::vector<Tensor>> converted;
    const py::object fast = py::reinterpret_steal<py::object>(PySequence_Fast(items.ptr(), "capture: items must be a sequence"));
    if (!fast) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.ptr());
    PyObject** all = PySequence_Fast_ITEMS(fast.ptr());
    converted.reserve(static_cast<std::size_t>(n));
    Py_ssize_t width = -1;
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* item = all[i];
        std::vector<Tensor> parts;
        if (splat) {
            if (!PyTuple_CheckExact(item) || (width >= 0 && PyTuple_GET_SIZE(item) != width)) break;
            width = PyTuple_GET_SIZE(item);
            for (Py_ssize_t k = 0; k < width; ++k) parts.push_back(item_part(PyTuple_GET_ITEM(item, k), want));
        } else {
            if (PyTuple_Check(item)) break;
            parts.push_back(item_part(item, want));
        }
        if (!converted.empty()) {
            const std::vector<Tensor>& first = converted[0];
            bool same = true;
            for (std::size_t k = 0; same && k < parts.size(); ++k)
                same = parts[k] && parts[k]->shape == first[k]->shape && parts[k]->dtype == first[k]->dtype;
            if (!same) break;
        } else if (std::any_of(parts.begin(), parts.end(), [](const Tensor& t) { return !t; })) {
            break;
        }
        converted.push_back(std::move(parts));
    }
    if (converted.empty()) throw py::value_error("capture: the first data item is not arrays and numbers");
    std::vector<std::int64_t> steps;
    if (order.is_none()) {
        for (std::size_t i = 0; i < converted.size(); ++i) steps.push_back(static_cast<std::int64_t>(i));
    } else {
        for (py::handle i : order) steps.push_back(i.cast<std::int64_t>());
    }
    return Feed(std::move(converted), std::move(steps));
}

// run(feed, start, stop, optimisers, losses, seconds): steps start, start+1, ... until stop, or until
// `seconds` have passed (after at least one step), or a loss is NaN or infinite. Writes each loss to
// losses[step]; returns (the next step, whether the last loss was finite).
py::tuple run(Program& program, Feed& feed, autodiff::index_t start, autodiff::index_t stop, py::sequence states,
              py::array_t<double, py::array::c_style> losses, double seconds) {
    if (start < 0 || stop > feed.steps() || start > stop)
        throw py::value_error("capture: steps " + std::to_string(start) + ".." + std::to_string(stop) + " outside the " +
                              std::to_string(feed.steps()) + " the data holds");
    if (losses.ndim() != 1 || losses.shape(0) < stop || !losses.writeable())
        throw py::value_error("capture: losses must be a writable float64 array of at least " + std::to_string(stop) +
                              " elements");
    std::vector<optimisers::Optimiser*> optimisers;
    for (py::handle s : states) optimisers.push_back(s.is_none() ? nullptr : &optimiser_of(s));
    double* out = losses.mutable_data();
    autodiff::index_t s = start;
    bool finite = true;
    {
        py::gil_scoped_release release;
        const auto began = std::chrono::steady_clock::now();
        const auto budget = std::chrono::duration<double>(seconds);
        std::vector<Tensor> data;
        while (s < stop && finite) {
            feed.item(s, data);
            out[s] = program.step(data, optimisers);
            finite = std::isfinite(out[s]);
            if (finite) ++s;
            if (seconds > 0 && std::chrono::steady_clock::now() - began >= budget) break;
        }
    }
    return py::make_tuple(s, finite);
}

}  // namespace

void bind_capture(py::module_& m) {
    py::class_<Feed>(m, "Feed", "Feed(sources, order, batch): the data of a captured training loop (see capture.hpp).")
        .def(py::init(&make_feed), py::arg("sources"), py::arg("order"), py::arg("batch"))
        .def_static("from_items", &feed_from_items, py::arg("items"), py::arg("splat"), py::arg("dtype"),
                    py::arg("order") = py::none(),
                    "Feed.from_items(items, splat, dtype, order=None): the leading items of one form and shape, as\n"
                    "they are (no copy); steps counts them (or is len(order)).")
        .def_property_readonly("items", [](const Feed& f) { return f.item_count(); })
        .def_property_readonly("steps", &Feed::steps)
        .def("item", [](Feed& f, autodiff::index_t s) {
            std::vector<Tensor> data;
            f.item(s, data);
            py::list out;
            for (const Tensor& t : data) out.append(py::reinterpret_steal<py::object>(tensor_object(t)));
            return out;
        }, py::arg("step"), "The data of one step, as Tensors.");
    py::class_<Program>(m, "Program",
                        "Program(params, data): a training step recorded while entered (`with program:`), then run\n"
                        "again in C++ for new data by run().")
        .def(py::init([](py::iterable params, py::iterable data) {
            return new Program(tensors(params, "params"), tensors(data, "data"));
        }), py::arg("params"), py::arg("data"))
        .def("__enter__", [](Program& p) {
            autodiff::Recorder::install(&p);
            return &p;
        }, py::return_value_policy::reference)
        .def("__exit__", [](Program&, py::args) {
            autodiff::Recorder::install(nullptr);
            return false;
        })
        .def("finish", [](Program& p, py::handle loss) {
            const Tensor l = as_tensor(loss);
            if (!l) throw py::type_error("capture: the loss must be a traced value, got " + type_name(loss));
            p.finish(l);
        }, py::arg("loss"))
        .def_property_readonly("ops", &Program::ops)
        .def("run", &run, py::arg("feed"), py::arg("start"), py::arg("stop"), py::arg("optimisers"), py::arg("losses"),
             py::arg("seconds"));
}

}  // namespace pyflux::bindings
