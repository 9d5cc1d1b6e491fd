// The extension module: wires the binding files together and reports build facts.
#include "bindings/dispatch.hpp"
#include "kernels/blas.hpp"
#include "kernels/contention.hpp"
#include "kernels/subnormals.hpp"
#include "capture/native_library.hpp"

PYBIND11_MODULE(_core, m) {
    namespace py = pybind11;
    using namespace pyflux;
    m.doc() = "pyflux's C++ core: kernels, the autodiff tape and the ops.";
    m.attr("__version__") = PYFLUX_VERSION;
    kernels::install_fork_handler();
    kernels::install_blas_threading();
    bindings::bind_tensor(m);
    bindings::bind_ops(m);
    bindings::bind_autodiff(m);
    bindings::bind_optimisers(m);
    bindings::bind_capture(m);
    bindings::bind_train(m);
    bindings::bind_layer_calls(m);
    m.def("set_num_threads", &kernels::set_num_threads, py::arg("n"),
          "Sets the threads used by OpenMP kernels and BLAS.");
    m.def("get_num_threads", &kernels::get_num_threads, "Threads used by OpenMP kernels and BLAS.");
    m.def("set_zero_subnormals", &kernels::set_zero_subnormals, py::arg("yes"),
          "Whether optimiser updates, and train's and fit's steps (their backward passes and updates),\n"
          "treat subnormal numbers as zero, as JAX does on CPUs: on by default, for speed (csrc/kernels/subnormals.hpp).");
    m.def("get_zero_subnormals", &kernels::zero_subnormals,
          "Whether updates and training steps treat subnormal numbers as zero (set_zero_subnormals).");
    // For tests of the contention rule (kernels/contention.hpp).
    m.def("_note_start_spread", &kernels::note_start_spread, py::arg("spread_ns"));
    m.def("_contended", &kernels::contended);
    m.def("_clear_contention", &kernels::clear_contention);
    // For tests of native steps: a process that has loaded none.
    m.def("_forget_known_natives", &capture::forget_known_natives);
    m.def("blas_info", []() { return std::string(kernels::blas_info()); }, "The BLAS library and its configuration.");
    m.attr("openmp_version") = _OPENMP;
}
