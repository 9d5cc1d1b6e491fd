// Loading a native step (capture/native_source.cpp) that pyflux.native built into a shared library.
#pragma once

#include <string>

#include "autodiff/tiny.hpp"

namespace pyflux::capture {

/// The step function of the library at path, loaded once per path and kept for the life of the
/// process (steps attached to it may run at any time). Throws std::runtime_error when the library
/// cannot be loaded, lacks the function, or was built against other tiny instructions
/// (autodiff::tiny_abi).
autodiff::TinySteps load_native(const std::string& path);

/// The native steps loaded so far, by the signature of the steps they run (see
/// FlatStep::native_source): a later capture of the same shape attaches its step without asking
/// pyflux.native again. known_native gives null for a signature not seen.
void remember_native(const std::string& signature, autodiff::TinySteps steps);
autodiff::TinySteps known_native(const std::string& signature);
/// Forgets them (for tests: a process that has loaded none).
void forget_known_natives();

}  // namespace pyflux::capture
