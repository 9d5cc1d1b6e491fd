// The optimiser objects other bindings may take from Python: a `_core.Optimiser` is a C++ Optimiser.
#pragma once

#include <pybind11/pybind11.h>

#include "optimisers/optimiser.hpp"

namespace pyflux::bindings {

/// The C++ optimiser behind a `_core.Optimiser` (as made by `_core.optimiser_init`); TypeError otherwise.
optimisers::Optimiser& optimiser_of(pybind11::handle obj);

}  // namespace pyflux::bindings
