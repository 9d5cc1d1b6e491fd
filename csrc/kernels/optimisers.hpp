// Optimiser updates, each one fused pass over a parameter (and its state), in place.
#pragma once

#include "kernels/common.hpp"

namespace pyflux::kernels {

/// Descent: p -= eta * g.
template <class T>
void descent_update(index_t n, T eta, const T* g, T* p);

}  // namespace pyflux::kernels
