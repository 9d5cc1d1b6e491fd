// Captured training as Python drives it (pyflux/capture.py): a Feed of data arrays, a Program
// recorded while entered (`with program:` around one traced step), and Program.run, which runs a
// range of steps in C++ with the GIL released.
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
        while (s < stop && finite) {
            out[s] = program.step(feed.item(s), optimisers);
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
        .def_property_readonly("steps", &Feed::steps)
        .def("item", [](Feed& f, autodiff::index_t s) {
            py::list out;
            for (const Tensor& t : f.item(s)) out.append(py::reinterpret_steal<py::object>(tensor_object(t)));
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
