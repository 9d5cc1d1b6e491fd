// The op tables' scalar rules by code: with_unary_rule and with_binary_rule call f with the functor
// of an op (kernels/activations.hpp, elementwise_rules.hpp, binary_rules.hpp), one switch per call,
// so that the loops f writes inline the rule; unary_rule_name and binary_rule_name name it.
#pragma once

#include "kernels/activations.hpp"
#include "kernels/binary_rules.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/elementwise_rules.hpp"
#include "kernels/elementwise_unary.hpp"

namespace pyflux::kernels {

template <class F>
decltype(auto) with_unary_rule(UnaryOp op, F&& f) {
    switch (op) {
#define PYFLUX_UNARY(name, Rule, kind, saves_, param, default_, doc) \
    case UnaryOp::name: return f(rules::Rule{});
#include "autodiff/ops.def"
#undef PYFLUX_UNARY
    }
    return f(rules::Identity{});  // not reached: every op has a case
}

template <class F>
decltype(auto) with_binary_rule(BinaryOp op, F&& f) {
    switch (op) {
#define PYFLUX_BINARY(name, doc) \
    case BinaryOp::name: return f(binary_rules::name{});
#include "autodiff/ops.def"
#undef PYFLUX_BINARY
    }
    return f(binary_rules::add{});  // not reached: every op has a case
}

/// The C++ name of with_unary_rule's functor for op (for generated code).
inline const char* unary_rule_name(UnaryOp op) {
    switch (op) {
#define PYFLUX_UNARY(name, Rule, kind, saves_, param, default_, doc) \
    case UnaryOp::name: return "pyflux::kernels::rules::" #Rule;
#include "autodiff/ops.def"
#undef PYFLUX_UNARY
    }
    return "pyflux::kernels::rules::Identity";
}

/// The C++ name of with_binary_rule's functor for op.
inline const char* binary_rule_name(BinaryOp op) {
    switch (op) {
#define PYFLUX_BINARY(name, doc) \
    case BinaryOp::name: return "pyflux::kernels::binary_rules::" #name;
#include "autodiff/ops.def"
#undef PYFLUX_BINARY
    }
    return "pyflux::kernels::binary_rules::add";
}

}  // namespace pyflux::kernels
