// Captured training as Python drives it (pyflux/capture.py): a Feed of data arrays, a Program
// recorded while entered (`with program:` around one traced step), and Program.run, which runs a
// range of steps in C++ with the GIL released.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "bindings/bind_optimisers.hpp"
#include "bindings/dispatch.hpp"
#include "bindings/python_api.hpp"
#include "capture/feed.hpp"
#include "capture/program.hpp"
#include "kernels/subnormals.hpp"

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

std::size_t bytes(const Tensor& t) { return static_cast<std::size_t>(t->size()) * autodiff::itemsize(t->dtype); }

// Copies part to dst when it is a C-contiguous native-endian numpy array of like's float dtype and
// shape: the common case of stacking, taken without making a tensor of it. False for anything else.
bool copy_plain_array(PyObject* part, const Tensor& like, void* dst) {
    if (!py::isinstance<py::array>(part)) return false;
    const auto* a = py::detail::array_proxy(part);
    const auto* d = py::detail::array_descriptor_proxy(a->descr);
    if (d->kind != 'f' || d->type != (like->dtype == DType::f32 ? 'f' : 'd') || d->byteorder == '>' ||
        a->nd != like->shape.ndim || !(a->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_))
        return false;
    for (int k = 0; k < a->nd; ++k)
        if (a->dimensions[k] != like->shape[k]) return false;
    std::memcpy(dst, a->data, bytes(like));
    return true;
}

// Whether item has the form of a data item: with splat a tuple (of `width` parts when width >= 0),
// else anything but a tuple.
bool item_form(PyObject* item, bool splat, Py_ssize_t width) {
    if (!splat) return !PyTuple_Check(item);
    return PyTuple_CheckExact(item) && (width < 0 || PyTuple_GET_SIZE(item) == width);
}

// The items read in place as rows of the arrays they view: each part of every item a C-contiguous,
// native float32 or float64 numpy view of one base array (one per part), item i's part starting one
// part's size after item i-1's. Such are the items of zip(X, Y) or list(X) for C-ordered X and Y,
// whose stacked copy would hold the same bytes. Empty when the items are not all such rows.
std::vector<Tensor> consecutive_rows(PyObject* const* all, Py_ssize_t n, bool splat) {
    using py::detail::array_descriptor_proxy;
    using py::detail::array_proxy;
    if (n < 1 || !item_form(all[0], splat, -1)) return {};
    const Py_ssize_t width = splat ? PyTuple_GET_SIZE(all[0]) : 1;
    auto part = [splat](PyObject* item, Py_ssize_t k) { return splat ? PyTuple_GET_ITEM(item, k) : item; };
    struct First {
        PyTypeObject* type;
        const py::detail::PyArray_Proxy* a;
        const py::detail::PyArrayDescr_Proxy* d;
        autodiff::index_t row_bytes;
    };
    std::vector<First> firsts;
    std::vector<Tensor> rows;
    for (Py_ssize_t k = 0; k < width; ++k) {
        PyObject* first = part(all[0], k);
        if (!py::isinstance<py::array>(first)) return {};
        const auto* a = array_proxy(first);
        const auto* d = array_descriptor_proxy(a->descr);
        if (!a->base || (d->type != 'f' && d->type != 'd') || d->byteorder == '>' || a->nd >= autodiff::kMaxDims ||
            !(a->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_))
            return {};
        autodiff::Shape shape;
        shape.ndim = a->nd + 1;
        shape.dims[0] = n;
        for (int j = 0; j < a->nd; ++j) shape.dims[j + 1] = a->dimensions[j];
        const DType dtype = d->type == 'f' ? DType::f32 : DType::f64;
        const autodiff::index_t row_bytes = shape.size() / n * static_cast<autodiff::index_t>(autodiff::itemsize(dtype));
        firsts.push_back({Py_TYPE(first), a, d, row_bytes});
        // Item 0's part keeps the base array, and with it every row, alive.
        rows.push_back(autodiff::wrap(dtype, shape, autodiff::contiguous_strides(shape), a->data,
                                      keep_alive(py::reinterpret_borrow<py::array>(first))));
    }
    // One pass over the items. Their objects lie apart in memory, each a pointer away from the
    // last: those ahead are fetched early (an item eight ahead, the parts of a tuple four ahead),
    // so that the waits for memory overlap.
    constexpr Py_ssize_t ahead = 8;
    for (Py_ssize_t i = 1; i < n; ++i) {
        if (i + ahead < n) __builtin_prefetch(all[i + ahead]);
        if (splat && i + ahead / 2 < n && item_form(all[i + ahead / 2], splat, width))
            for (Py_ssize_t k = 0; k < width; ++k) __builtin_prefetch(part(all[i + ahead / 2], k));
        PyObject* item = all[i];
        if (!item_form(item, splat, width)) return {};
        for (Py_ssize_t k = 0; k < width; ++k) {
            const auto& [type, a, d, row_bytes] = firsts[static_cast<std::size_t>(k)];
            PyObject* p = part(item, k);
            if (Py_TYPE(p) != type) return {};  // an array of the same type as item 0's part
            const auto* b = array_proxy(p);
            const auto* e = array_descriptor_proxy(b->descr);
            if (b->base != a->base || b->data != a->data + i * row_bytes || e->type != d->type ||
                e->byteorder != d->byteorder || b->nd != a->nd || !(b->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_))
                return {};
            for (int j = 0; j < a->nd; ++j)  // a loop: std::equal calls memcmp, which costs more for a dimension or two
                if (b->dimensions[j] != a->dimensions[j]) return {};
        }
    }
    return rows;
}

// The items as a feed of the rows they view (consecutive_rows), or None when they are not such rows.
py::object feed_of_rows(py::sequence items, bool splat) {
    const py::object fast = py::reinterpret_steal<py::object>(PySequence_Fast(items.ptr(), "capture: items must be a sequence"));
    if (!fast) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.ptr());
    std::vector<Tensor> rows = consecutive_rows(PySequence_Fast_ITEMS(fast.ptr()), n, splat);
    if (rows.empty()) return py::none();
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
    return py::cast(Feed(std::move(rows), std::move(order), 0));
}

// Whether two lists or tuples hold the same objects in the same order: compared by identity, without
// reading the objects.
bool same_items(py::handle a, py::handle b) {
    auto items = [](py::handle s, Py_ssize_t& n) -> PyObject* const* {
        if (PyList_CheckExact(s.ptr())) {
            n = PyList_GET_SIZE(s.ptr());
            return reinterpret_cast<PyListObject*>(s.ptr())->ob_item;
        }
        if (PyTuple_CheckExact(s.ptr())) {
            n = PyTuple_GET_SIZE(s.ptr());
            return reinterpret_cast<PyTupleObject*>(s.ptr())->ob_item;
        }
        throw py::type_error("same_items: expected a list or tuple, got " + type_name(s));
    };
    Py_ssize_t n = 0, m = 0;
    PyObject* const* x = items(a, n);
    PyObject* const* y = items(b, m);
    return n == m && (n == 0 || std::memcmp(x, y, static_cast<std::size_t>(n) * sizeof(PyObject*)) == 0);
}

// Items (arrays, or tuples of `width` arrays and numbers when splat) as tensors, float arrays as they are
// and others converted to `want`: each item's own (no copy), or with `copy` all stacked into one array
// per argument (compact; each step reads its row). Stops at the first item that is not of item 0's
// form, shapes and dtypes: the feed holds the items before it (at least one, else ValueError).
Feed feed_from_items(py::sequence items, bool splat, py::object want_dtype, py::object order, bool copy) {
    const DType want = py::dtype::from_args(want_dtype).equal(py::dtype::of<float>()) ? DType::f32 : DType::f64;
    const py::object fast = py::reinterpret_steal<py::object>(PySequence_Fast(items.ptr(), "capture: items must be a sequence"));
    if (!fast) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.ptr());
    PyObject** all = PySequence_Fast_ITEMS(fast.ptr());
    auto order_of = [&](Py_ssize_t kept) {
        std::vector<std::int64_t> steps;
        if (order.is_none()) {
            for (Py_ssize_t i = 0; i < kept; ++i) steps.push_back(static_cast<std::int64_t>(i));
        } else {
            for (py::handle i : order) steps.push_back(i.cast<std::int64_t>());
        }
        return steps;
    };
    std::vector<std::vector<Tensor>> converted;
    std::vector<Tensor> stacked;  // with copy: one array per argument, an item per row
    Py_ssize_t width = -1, kept = 0;
    for (; kept < n; ++kept) {
        PyObject* item = all[kept];
        if (!item_form(item, splat, width)) break;
        width = splat ? PyTuple_GET_SIZE(item) : 1;
        const std::vector<Tensor>* first = converted.empty() ? nullptr : &converted[0];
        std::vector<Tensor> parts;
        bool same = true;
        for (Py_ssize_t k = 0; same && k < width; ++k) {
            PyObject* part = splat ? PyTuple_GET_ITEM(item, k) : item;
            char* row = copy && first ? stacked[k]->ptr<char>() + static_cast<std::size_t>(kept) * bytes((*first)[k]) : nullptr;
            if (row && copy_plain_array(part, (*first)[k], row)) continue;
            Tensor t = item_part(part, want);
            same = t && (!first || (t->shape == (*first)[k]->shape && t->dtype == (*first)[k]->dtype));
            if (!same) break;
            if (row) {
                const Tensor c = autodiff::contiguous(t);
                std::memcpy(row, c->data, bytes(c));
            }
            parts.push_back(std::move(t));
        }
        if (!same) break;
        if (!first) {
            if (copy) {
                for (const Tensor& t : parts) {
                    autodiff::Shape shape;
                    shape.ndim = t->shape.ndim + 1;
                    shape.dims[0] = n;
                    for (int d = 0; d < t->shape.ndim; ++d) shape.dims[d + 1] = t->shape[d];
                    stacked.push_back(autodiff::empty(t->dtype, shape));
                    const Tensor c = autodiff::contiguous(t);
                    std::memcpy(stacked.back()->data, c->data, bytes(c));
                }
            }
            converted.push_back(std::move(parts));
        } else if (!copy) {
            converted.push_back(std::move(parts));
        }
    }
    if (kept == 0) throw py::value_error("capture: the first data item is not arrays and numbers");
    std::vector<std::int64_t> steps = order_of(kept);
    if (!copy) return Feed(std::move(converted), std::move(steps));
    for (Tensor& t : stacked) {  // the rows of the items kept
        autodiff::Shape shape = t->shape;
        shape.dims[0] = kept;
        t = autodiff::view(t, shape, t->strides, 0);
    }
    return Feed(std::move(stacked), std::move(steps), 0);
}

// The optimisers of states (None: a parameter not updated).
std::vector<optimisers::Optimiser*> optimisers_of(py::sequence states) {
    std::vector<optimisers::Optimiser*> out;
    for (py::handle s : states) out.push_back(s.is_none() ? nullptr : &optimiser_of(s));
    return out;
}

// The program's flat step when it reads the feed's data as they are laid out (null: replay through the
// tape); `data` receives step 0's data.
capture::FlatStep* flat_for(Program& program, Feed& feed, std::vector<Tensor>& data) {
    feed.item(0, data);
    return feed.contiguous() && program.fits(data) ? program.flat() : nullptr;
}

// The program's flat step for the feed's data (flat_for), null for a feed with no steps.
capture::FlatStep* flat_of(Program& program, Feed& feed) {
    std::vector<Tensor> data;
    return feed.steps() > 0 ? flat_for(program, feed, data) : nullptr;
}

// Steps s, s+1, ... until stop through flat's native step, in blocks whose data pointers are read
// first (one step a block where the feed gathers each step's batch into one buffer), until
// `seconds` have passed or a loss is NaN or infinite (finite is then false). Returns the next step.
autodiff::index_t run_native(capture::FlatStep& flat, Feed& feed, std::size_t data, autodiff::index_t s,
                             autodiff::index_t stop, double* out, double seconds, bool& finite) {
    const autodiff::index_t block = feed.gathers() ? 1 : std::min<autodiff::index_t>(256, stop - s);
    std::vector<const void*> pointers(static_cast<std::size_t>(block) * data);
    const bool apart = !flat.reads_parameter(feed.spans());
    const auto began = std::chrono::steady_clock::now();
    const auto budget = std::chrono::duration<double>(seconds);
    while (s < stop) {
        const autodiff::index_t n = std::min(block, stop - s);
        feed.pointers(s, n, pointers.data());
        const autodiff::index_t done = flat.run_native(pointers.data(), n, out + s, apart);
        s += done;
        if (done < n) {
            finite = false;
            break;
        }
        if (seconds > 0 && std::chrono::steady_clock::now() - began >= budget) break;
    }
    return s;
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
    const std::vector<optimisers::Optimiser*> optimisers = optimisers_of(states);
    double* out = losses.mutable_data();
    const kernels::SubnormalMode training(kernels::SubnormalMode::for_training());
    autodiff::index_t s = start;
    bool finite = true;
    std::vector<Tensor> data;
    capture::FlatStep* flat = start < stop ? flat_for(program, feed, data) : nullptr;
    if (flat) flat->use(optimisers);
    if (flat && flat->native()) {
        {
            py::gil_scoped_release release;
            s = run_native(*flat, feed, data.size(), s, stop, out, seconds, finite);
        }
        return py::make_tuple(s, finite);
    }
    {
        py::gil_scoped_release release;
        const auto began = std::chrono::steady_clock::now();
        const auto budget = std::chrono::duration<double>(seconds);
        std::vector<const void*> pointers(data.size());
        data.clear();
        // Steps under a microsecond read the clock every 16 steps: it costs as much as such a step.
        autodiff::index_t every = 1;
        for (autodiff::index_t n = 1; s < stop && finite; ++n) {
            if (flat) {
                feed.pointers(s, 1, pointers.data());
                out[s] = flat->step(pointers.data());
            } else {
                feed.item(s, data);
                out[s] = program.step(data, optimisers);
            }
            finite = std::isfinite(out[s]);
            if (finite) ++s;
            if (seconds <= 0 || n % every != 0) continue;
            const auto elapsed = std::chrono::steady_clock::now() - began;
            if (elapsed >= budget) break;
            if (elapsed < n * std::chrono::microseconds(1)) every = 16;
        }
    }
    return py::make_tuple(s, finite);
}

}  // namespace

void bind_capture(py::module_& m) {
    m.attr("NATIVE_STEP_FLAGS") = PYFLUX_NATIVE_STEP_FLAGS;
    m.def("same_items", &same_items, py::arg("a"), py::arg("b"),
          "same_items(a, b): whether two lists or tuples hold the same objects in the same order (by identity).");
    py::class_<Feed>(m, "Feed", "Feed(sources, order, batch): the data of a captured training loop (see capture.hpp).")
        .def(py::init(&make_feed), py::arg("sources"), py::arg("order"), py::arg("batch"))
        .def_static("from_items", &feed_from_items, py::arg("items"), py::arg("splat"), py::arg("dtype"),
                    py::arg("order") = py::none(), py::arg("copy") = false,
                    "Feed.from_items(items, splat, dtype, order=None, copy=False): the leading items of one form and\n"
                    "shape, as they are (or, with copy, stacked into one array per argument); steps counts them (or\n"
                    "is len(order)).")
        .def_static("of_rows", &feed_of_rows, py::arg("items"), py::arg("splat"),
                    "Feed.of_rows(items, splat): the items read in place as the consecutive rows of the arrays they\n"
                    "view (the items of zip(X, Y) or list(X) for C-ordered float X and Y), or None when they are not.")
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
        .def("compiled_for", [](Program& p, Feed& f) {
            return flat_of(p, f) != nullptr;
        }, py::arg("feed"), "Whether run() takes the feed's steps as kernel calls over fixed buffers (else through the tape).")
        .def("tiny_for", [](Program& p, Feed& f) {
            const capture::FlatStep* flat = flat_of(p, f);
            return flat && flat->tiny();
        }, py::arg("feed"), "Whether run() takes the feed's steps as one list of plain loops (a step of small buffers).")
        .def("native_source", [](Program& p, Feed& f, py::sequence states) {
            capture::FlatStep* flat = flat_of(p, f);
            if (!flat) return std::string();
            flat->use(optimisers_of(states));
            return flat->native_source();
        }, py::arg("feed"), py::arg("optimisers"),
             "The C++ source of this program's native step for the feed and optimisers (pyflux.native); '' when\n"
             "it has none.")
        .def("load_native", [](Program& p, Feed& f, const std::string& path, const std::string& source) {
            capture::FlatStep* flat = flat_of(p, f);
            return flat && flat->load_native(source, path);
        }, py::arg("feed"), py::arg("path"), py::arg("source"),
             "Runs the following steps through the native step built from `source` at `path`, if `source` is\n"
             "still this program's; returns whether it does. Raises RuntimeError when the library does not load.")
        .def("attach_known_native", [](Program& p, Feed& f, py::sequence states) {
            capture::FlatStep* flat = flat_of(p, f);
            if (!flat) return false;
            flat->use(optimisers_of(states));
            return flat->attach_known_native();
        }, py::arg("feed"), py::arg("optimisers"),
             "Runs the following steps through a native step of this program's shape already loaded in this\n"
             "process (by an earlier load_native); returns whether there was one.")
        .def("native_for", [](Program& p, Feed& f) {
            const capture::FlatStep* flat = flat_of(p, f);
            return flat && flat->native();
        }, py::arg("feed"), "Whether run() took the feed's last steps through a native step.")
        .def("run", &run, py::arg("feed"), py::arg("start"), py::arg("stop"), py::arg("optimisers"), py::arg("losses"),
             py::arg("seconds"));
}

}  // namespace pyflux::bindings
