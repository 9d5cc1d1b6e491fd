// The Tape as Python sees it: watch leaves, record inside `with tape:`, then sweep once.
#include <string>

#include "autodiff/tape.hpp"
#include "bindings/dispatch.hpp"

namespace pyflux::bindings {

using autodiff::Tape;

void bind_autodiff(py::module_& m) {
    py::class_<Tape>(m, "Tape", R"doc(
Records operations on traced values while it is entered (``with tape:``), then computes gradients
once with ``tape.gradient(loss, wrt)``. Only ops with a traced input are recorded, and nothing is
recorded while no tape is entered. One tape per thread may record at a time.
)doc")
        .def(py::init<>())
        .def("watch", [](Tape& tape, const Tensor& t) { tape.watch(t); }, py::arg("tensor"),
             "Makes tensor a leaf whose gradient is wanted; ops on it are recorded.")
        .def("__enter__", [](Tape& tape) -> Tape& {
            tape.activate();
            return tape;
        }, py::return_value_policy::reference)
        .def("__exit__", [](Tape& tape, py::args) { tape.deactivate(); })
        .def_property_readonly("recorded", &Tape::recorded, "The number of ops recorded and not yet swept.")
        .def("gradient", [](Tape& tape, py::handle loss, const std::vector<Tensor>& wrt) {
            Tensor l = as_tensor(loss);
            if (!l) {
                // The function returned something gradient never traced: a constant.
                Tensor c = tensor_from_object(loss, std::nullopt, "gradient");
                if (c->size() != 1)
                    throw py::value_error("gradient: the function must return a scalar, got an array of shape " +
                                          c->shape.str());
            }
            std::vector<Tensor> grads;
            {
                py::gil_scoped_release release;
                grads = tape.backward(l, wrt);
            }
            py::list out;
            for (const Tensor& g : grads) out.append(g ? py::cast(g) : py::none());
            return out;
        }, py::arg("loss"), py::arg("wrt"),
           "Gradients of the scalar loss with respect to each tensor in wrt (None where loss does not depend on "
           "it). Sweeps and frees the tape.");
}

}  // namespace pyflux::bindings
