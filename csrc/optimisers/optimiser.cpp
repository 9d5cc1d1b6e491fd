#include "optimisers/optimiser.hpp"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

namespace pyflux::optimisers {
namespace {

using kernels::Clock;
using kernels::UpdateArgs;

// The rule with spec's hyperparameters; every one it has must be given, and nothing else.
template <class Rule>
Rule rule_from(const Spec& spec) {
    Rule rule;
    std::size_t used = 0;
    rule.hypers([&](const char* name, double& value) {
        const auto it = std::find_if(spec.hypers.begin(), spec.hypers.end(),
                                     [&](const auto& h) { return h.first == name; });
        if (it == spec.hypers.end())
            throw std::invalid_argument(spec.name + ": the hyperparameter " + name + " is missing");
        value = it->second;
        ++used;
    });
    if (used != spec.hypers.size())
        throw std::invalid_argument(spec.name + ": unknown hyperparameters given");
    return rule;
}

template <class Rule, class T>
class RuleOptimiser final : public Optimiser {
public:
    RuleOptimiser(const Rule& rule, DType dtype, const Shape& shape) : Optimiser(dtype, shape), rule_(rule) {
        const auto names = rule_.states();
        for (std::size_t k = 0; k < names.size(); ++k)
            arrays_.emplace_back(static_cast<std::size_t>(n_), static_cast<T>(rule_.initial(static_cast<int>(k))));
    }

    void apply(void* p, const void* g, void* d) override {
        UpdateArgs<T> a;
        a.n = n_;
        a.g = static_cast<const T*>(g);
        a.p = static_cast<T*>(p);
        a.d = static_cast<T*>(d);
        for (std::size_t k = 0; k < arrays_.size(); ++k) a.s[k] = arrays_[k].data();
        rule_.apply(a, clock_);
    }

    std::unique_ptr<Optimiser> clone() const override { return std::make_unique<RuleOptimiser>(*this); }

    std::optional<double> descent_rate() const override {
        if constexpr (std::is_same_v<Rule, kernels::Descent>) return rule_.eta;
        return std::nullopt;
    }

    std::string rule() const override { return Rule::name; }

    void set(const Spec& spec) override {
        if (spec.name != Rule::name)
            throw std::invalid_argument("cannot change a " + std::string(Rule::name) + " state to " + spec.name);
        Rule changed = rule_from<Rule>(spec);
        if (changed.states().size() != arrays_.size())
            throw std::invalid_argument(std::string(Rule::name) + ": this change needs a new state (use setup)");
        rule_ = changed;
    }

    std::vector<StatePart> state() override {
        std::vector<StatePart> parts;
        const auto names = rule_.states();
        for (std::size_t k = 0; k < arrays_.size(); ++k)
            parts.push_back({names[k], StatePart::array, arrays_[k].data(), {}});
        if (Rule::clocked) {
            parts.push_back({"t", StatePart::step_count, &clock_.t, {}});
            parts.push_back({"beta_t", StatePart::powers, clock_.beta_t, {}});
        }
        return parts;
    }

private:
    Rule rule_;
    Clock clock_;
    std::vector<std::vector<T>> arrays_;
};

// OptimiserChain: each rule's step is the next rule's gradient; the last one updates p (or writes d).
// The caller's gradient is never written: the first rule writes to scratch (or d), which each later
// rule reads and overwrites in place. An empty chain is Descent(1).
template <class T>
class ChainOptimiser final : public Optimiser {
public:
    ChainOptimiser(const Spec& spec, DType dtype, const Shape& shape) : Optimiser(dtype, shape) {
        for (const Spec& s : spec.chain) rules_.push_back(make_optimiser(s, dtype, shape));
        if (rules_.size() > 1) scratch_.resize(static_cast<std::size_t>(n_));
    }

    void apply(void* p, const void* g, void* d) override {
        if (rules_.empty()) {
            kernels::Descent descent;
            descent.eta = 1.0;
            Clock unused;
            UpdateArgs<T> a;
            a.n = n_, a.g = static_cast<const T*>(g), a.p = static_cast<T*>(p), a.d = static_cast<T*>(d);
            descent.apply(a, unused);
            return;
        }
        const std::size_t last = rules_.size() - 1;
        if (last) {
            void* s = d ? d : scratch_.data();
            for (std::size_t i = 0; i < last; ++i) {
                rules_[i]->apply(p, g, s);
                g = s;
            }
        }
        rules_[last]->apply(p, g, d);
    }

    ChainOptimiser(const ChainOptimiser& other) : Optimiser(other), scratch_(other.scratch_.size()) {
        for (const auto& r : other.rules_) rules_.push_back(r->clone());
    }

    std::unique_ptr<Optimiser> clone() const override { return std::make_unique<ChainOptimiser>(*this); }

    std::string rule() const override { return "OptimiserChain"; }

    void set(const Spec& spec) override {
        if (spec.name != "OptimiserChain" || spec.chain.size() != rules_.size())
            throw std::invalid_argument("cannot change an OptimiserChain of " + std::to_string(rules_.size()) +
                                        " rules to " + spec.name);
        for (std::size_t i = 0; i < rules_.size(); ++i) rules_[i]->set(spec.chain[i]);
    }

    std::vector<StatePart> state() override {
        std::vector<StatePart> parts;
        for (std::size_t i = 0; i < rules_.size(); ++i)
            parts.push_back({std::to_string(i), StatePart::rules, nullptr, rules_[i]->state()});
        return parts;
    }

private:
    std::vector<std::unique_ptr<Optimiser>> rules_;
    std::vector<T> scratch_;
};

template <class Rule>
std::unique_ptr<Optimiser> make_rule(const Spec& spec, DType dtype, const Shape& shape) {
    const Rule rule = rule_from<Rule>(spec);
    if (dtype == DType::f32) return std::make_unique<RuleOptimiser<Rule, float>>(rule, dtype, shape);
    return std::make_unique<RuleOptimiser<Rule, double>>(rule, dtype, shape);
}

template <class Rule>
RuleInfo info() {
    Rule rule;
    RuleInfo out{Rule::name, {}, {}, Rule::clocked};
    rule.hypers([&](const char* name, double&) { out.hypers.emplace_back(name); });
    for (const char* s : rule.states()) out.states.emplace_back(s);
    return out;
}

struct Entry {
    const char* name;
    std::unique_ptr<Optimiser> (*make)(const Spec&, DType, const Shape&);
    RuleInfo (*describe)();
};

#define PYFLUX_ENTRY(Rule) Entry{kernels::Rule::name, &make_rule<kernels::Rule>, &info<kernels::Rule>},
const Entry kEntries[] = {PYFLUX_OPTIMISERS(PYFLUX_ENTRY)};
#undef PYFLUX_ENTRY

}  // namespace

void Optimiser::check(const Tensor& p, const Tensor& g) const {
    if (!p || !g) throw std::invalid_argument(rule() + ": a parameter and its gradient are needed");
    if (p->dtype != dtype_ || g->dtype != dtype_)
        throw std::invalid_argument(rule() + ": the optimiser state holds " + autodiff::dtype_name(dtype_) +
                                    ", the parameter is " + autodiff::dtype_name(p->dtype) + " and its gradient " +
                                    autodiff::dtype_name(g->dtype));
    if (p->shape != shape_ || g->shape != shape_)
        throw std::invalid_argument(rule() + ": the optimiser state is for shape " + shape_.str() +
                                    ", the parameter has shape " + p->shape.str() + " and its gradient " +
                                    g->shape.str());
    if (!p->is_contiguous() || !g->is_contiguous())
        throw std::invalid_argument(rule() + ": the parameter and its gradient must be contiguous");
}

void Optimiser::step(const Tensor& p, const Tensor& g) {
    if (frozen) return;
    check(p, g);
    apply(p->data, g->data, nullptr);
}

std::unique_ptr<Optimiser> make_optimiser(const Spec& spec, DType dtype, const Shape& shape) {
    if (spec.name == "OptimiserChain") {
        if (dtype == DType::f32) return std::make_unique<ChainOptimiser<float>>(spec, dtype, shape);
        return std::make_unique<ChainOptimiser<double>>(spec, dtype, shape);
    }
    for (const Entry& e : kEntries)
        if (spec.name == e.name) return e.make(spec, dtype, shape);
    throw std::invalid_argument("no optimisation rule named " + spec.name);
}

const std::vector<RuleInfo>& rules() {
    static const std::vector<RuleInfo> all = [] {
        std::vector<RuleInfo> out;
        for (const Entry& e : kEntries) out.push_back(e.describe());
        return out;
    }();
    return all;
}

void update_all(const std::vector<Update>& updates) {
    for (const Update& u : updates)
        if (u.g) u.optimiser->check(u.p, u.g);
    for (const Update& u : updates)
        if (u.g && !u.optimiser->frozen) u.optimiser->apply(u.p->data, u.g->data, nullptr);
}

}  // namespace pyflux::optimisers
