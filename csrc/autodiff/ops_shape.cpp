// index, transpose, reshape: views where the layout allows, copies otherwise; cat; gather.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "autodiff/axes.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/gather.hpp"

namespace pyflux::autodiff {
namespace {

struct ViewGeometry {
    Shape shape;
    Strides strides{};
    index_t offset = 0;
};

// Where x[spec] lies inside an array of x's shape laid out with `strides`.
ViewGeometry index_geometry(const std::vector<AxisIndex>& spec, const Strides& strides) {
    ViewGeometry v;
    for (std::size_t d = 0; d < spec.size(); ++d) {
        v.offset += spec[d].start * strides[d];
        if (!spec[d].keep) continue;
        v.shape.dims[v.shape.ndim] = spec[d].count;
        v.strides[v.shape.ndim] = spec[d].step * strides[d];
        ++v.shape.ndim;
    }
    return v;
}

// The gradient of a view is zero except where the view looked: scatter g there.
class IndexNode : public Node {
public:
    IndexNode(std::vector<AxisIndex> spec, Shape x_shape) : spec_(std::move(spec)), x_shape_(x_shape) {}

    void backward(const Tensor& g, Tape& tape) override {
        Tensor grad = zeros(g->dtype, x_shape_);
        const ViewGeometry v = index_geometry(spec_, grad->strides);
        dispatch(g->dtype, [&](auto tag) {
            using T = decltype(tag);
            kernels::strided_copy<T>(v.shape.ndim, v.shape.dims.data(), g->ptr<T>(), g->strides.data(),
                                     grad->ptr<T>() + v.offset, v.strides.data());
        });
        tape.accumulate(input_ids[0], grad);
    }

private:
    std::vector<AxisIndex> spec_;
    Shape x_shape_;
};

class TransposeNode : public Node {
public:
    void backward(const Tensor& g, Tape& tape) override { tape.accumulate(input_ids[0], contiguous(transpose(g))); }
};

class ReshapeNode : public Node {
public:
    explicit ReshapeNode(Shape x_shape) : x_shape_(x_shape) {}
    void backward(const Tensor& g, Tape& tape) override { tape.accumulate(input_ids[0], reshape(contiguous(g), x_shape_)); }

private:
    Shape x_shape_;
};

// Each input's gradient is its slice of g along the joined axis.
class CatNode : public Node {
public:
    CatNode(int axis, std::vector<Shape> shapes) : axis_(axis), shapes_(std::move(shapes)) {}

    void backward(const Tensor& g, Tape& tape) override {
        index_t start = 0;
        for (std::size_t k = 0; k < shapes_.size(); ++k) {
            if (input_ids[k] >= 0)
                tape.accumulate(input_ids[k], contiguous(view(g, shapes_[k], g->strides, start * g->strides[axis_])));
            start += shapes_[k][axis_];
        }
    }

private:
    int axis_;
    std::vector<Shape> shapes_;
};

std::string shapes_str(const std::vector<Tensor>& xs) {
    std::string s;
    for (const Tensor& x : xs) s += (s.empty() ? "" : ", ") + x->shape.str();
    return s;
}

// One recorded op joining up to three checked inputs (a Node has three input slots).
Tensor join(const std::vector<Tensor>& xs, int axis) {
    Shape shape = xs[0]->shape;
    shape.dims[axis] = 0;
    for (const Tensor& x : xs) shape.dims[axis] += x->shape[axis];
    Tensor out = empty(xs[0]->dtype, shape);
    index_t start = 0;
    for (const Tensor& x : xs) {
        dispatch(x->dtype, [&](auto tag) {
            using T = decltype(tag);
            kernels::strided_copy<T>(shape.ndim, x->shape.dims.data(), x->ptr<T>(), x->strides.data(),
                                     out->ptr<T>() + start * out->strides[axis], out->strides.data());
        });
        start += x->shape[axis];
    }
    const Tensor none;
    return record_if_traced(
        out, {&xs[0], xs.size() > 1 ? &xs[1] : &none, xs.size() > 2 ? &xs[2] : &none},
        [&] {
            std::vector<Shape> shapes;
            for (const Tensor& x : xs) shapes.push_back(x->shape);
            return std::make_unique<CatNode>(axis, std::move(shapes));
        },
        [&] {
            return Replay([axis](const OpInputs& in) {
                std::vector<Tensor> parts;
                for (const Tensor& t : in)
                    if (t) parts.push_back(t);
                return join(parts, axis);
            });
        });
}

// x viewed as [outer x n x inner] around axis.
Lines lines_around(const Shape& shape, int axis) {
    Lines l;
    for (int d = 0; d < shape.ndim; ++d) {
        if (d < axis) l.outer *= shape[d];
        else if (d > axis) l.inner *= shape[d];
        else l.n = shape[d];
    }
    return l;
}

using Indices = std::shared_ptr<const std::vector<index_t>>;

// The gradient of a gather is a scatter-add of g into zeros of x's shape.
class GatherNode : public Node {
public:
    GatherNode(Shape x_shape, int axis, Indices indices) : x_shape_(x_shape), axis_(axis), indices_(std::move(indices)) {}

    void backward(const Tensor& g_in, Tape& tape) override {
        const Tensor g = contiguous(g_in);
        const Lines l = lines_around(x_shape_, axis_);
        Tensor grad = empty(g->dtype, x_shape_);
        dispatch(g->dtype, [&](auto tag) {
            using T = decltype(tag);
            kernels::scatter_add<T>(l.outer, l.n, l.inner, g->ptr<T>(), static_cast<index_t>(indices_->size()),
                                    indices_->data(), grad->ptr<T>());
        });
        tape.accumulate(input_ids[0], grad);
    }

private:
    Shape x_shape_;
    int axis_;
    Indices indices_;
};

Tensor gather_checked(const Tensor& x, int axis, const Indices& indices, const Shape& index_shape) {
    Shape shape;
    for (int d = 0; d < axis; ++d) shape.dims[shape.ndim++] = x->shape[d];
    for (int d = 0; d < index_shape.ndim; ++d) shape.dims[shape.ndim++] = index_shape[d];
    for (int d = axis + 1; d < x->shape.ndim; ++d) shape.dims[shape.ndim++] = x->shape[d];
    const Tensor xc = contiguous(x);
    const Lines l = lines_around(x->shape, axis);
    Tensor out = empty(x->dtype, shape);
    dispatch(x->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::gather<T>(l.outer, l.n, l.inner, xc->ptr<T>(), static_cast<index_t>(indices->size()), indices->data(),
                           out->ptr<T>());
    });
    return record_if_traced(
        out, {&x}, [&] { return std::make_unique<GatherNode>(x->shape, axis, indices); },
        [&] {
            // The indices were checked against this axis length; a replay on another would read outside x.
            return Replay([axis, indices, index_shape, n = x->shape[axis]](const OpInputs& in) {
                if (in[0]->shape.ndim <= axis || in[0]->shape[axis] != n)
                    throw std::invalid_argument("gather: replayed on an array of shape " + in[0]->shape.str());
                return gather_checked(in[0], axis, indices, index_shape);
            });
        });
}

}  // namespace

Tensor gather(const Tensor& x, int axis, std::vector<index_t> indices, const Shape& index_shape) {
    const int a = axis < 0 ? axis + x->shape.ndim : axis;
    if (a < 0 || a >= x->shape.ndim)
        throw std::out_of_range("gather: dims " + std::to_string(axis) + " is out of bounds for shape " + x->shape.str());
    if (index_shape.size() != static_cast<index_t>(indices.size()))
        throw std::invalid_argument("gather: index shape " + index_shape.str() + " does not hold " +
                                    std::to_string(indices.size()) + " indices");
    if (x->shape.ndim - 1 + index_shape.ndim > kMaxDims)
        throw std::invalid_argument("gather: the result would have more than " + std::to_string(kMaxDims) +
                                    " dimensions");
    const index_t n = x->shape[a];
    for (index_t& i : indices) {
        if (i < -n || i >= n)
            throw std::out_of_range("index " + std::to_string(i) + " is out of bounds for axis " + std::to_string(a) +
                                    " with size " + std::to_string(n));
        if (i < 0) i += n;
    }
    return gather_checked(x, a, std::make_shared<const std::vector<index_t>>(std::move(indices)), index_shape);
}

Tensor cat(const std::vector<Tensor>& xs, int axis) {
    if (xs.empty()) throw std::invalid_argument("cat: needs at least one array");
    const Shape& first = xs[0]->shape;
    const int a = axis < 0 ? axis + first.ndim : axis;
    if (a < 0 || a >= first.ndim)
        throw std::out_of_range("cat: dims " + std::to_string(axis) + " is out of bounds for shape " + first.str());
    for (const Tensor& x : xs) {
        if (x->dtype != xs[0]->dtype)
            throw std::invalid_argument("cat: the arrays' dtypes differ (" + std::string(dtype_name(x->dtype)) + " and " +
                                        dtype_name(xs[0]->dtype) + ")");
        bool same = x->shape.ndim == first.ndim;
        for (int d = 0; same && d < first.ndim; ++d) same = d == a || x->shape[d] == first[d];
        if (!same)
            throw std::invalid_argument("cat: shapes " + shapes_str(xs) + " must match except along dims " +
                                        std::to_string(a));
    }
    if (xs.size() <= 3) return join(xs, a);
    // More than three: a tree of joins, each element copied about log3(n) times.
    std::vector<Tensor> joined;
    for (std::size_t k = 0; k < xs.size(); k += 3)
        joined.push_back(join(std::vector<Tensor>(xs.begin() + static_cast<std::ptrdiff_t>(k),
                                                  xs.begin() + static_cast<std::ptrdiff_t>(std::min(k + 3, xs.size()))),
                              a));
    return cat(joined, a);
}

Tensor index(const Tensor& x, const std::vector<AxisIndex>& spec) {
    if (static_cast<int>(spec.size()) != x->shape.ndim)
        throw std::invalid_argument("index: expected one entry per axis of " + x->shape.str());
    for (std::size_t d = 0; d < spec.size(); ++d) {
        const AxisIndex& s = spec[d];
        const index_t last = s.start + (s.count > 0 ? (s.count - 1) * s.step : 0);
        if (s.count > 0 && (s.start < 0 || s.start >= x->shape[static_cast<int>(d)] || last < 0 ||
                            last >= x->shape[static_cast<int>(d)]))
            throw std::out_of_range("index " + std::to_string(s.start) + " is out of bounds for axis " +
                                    std::to_string(d) + " with size " + std::to_string(x->shape[static_cast<int>(d)]));
    }
    const ViewGeometry v = index_geometry(spec, x->strides);
    Tensor out = view(x, v.shape, v.strides, v.offset);
    return record_if_traced(out, {&x}, [&] { return std::make_unique<IndexNode>(spec, x->shape); },
                            [&] { return Replay([spec](const OpInputs& in) { return index(in[0], spec); }); });
}

Tensor transpose(const Tensor& x) {
    Shape shape;
    Strides strides{};
    shape.ndim = x->shape.ndim;
    for (int d = 0; d < shape.ndim; ++d) {
        shape.dims[d] = x->shape[shape.ndim - 1 - d];
        strides[d] = x->strides[shape.ndim - 1 - d];
    }
    Tensor out = view(x, shape, strides, 0);
    return record_if_traced(out, {&x}, [&] { return std::make_unique<TransposeNode>(); },
                            [&] { return Replay([](const OpInputs& in) { return transpose(in[0]); }); });
}

Tensor reshape(const Tensor& x, const Shape& shape) {
    for (int d = 0; d < shape.ndim; ++d)
        if (shape[d] < 0) throw std::invalid_argument("reshape: negative dimension in shape " + shape.str());
    index_t size = 0;
    try {
        size = shape.size();
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("reshape: ") + e.what());
    }
    if (size != x->size())
        throw std::invalid_argument("reshape: cannot reshape an array of shape " + x->shape.str() + " (" +
                                    std::to_string(x->size()) + " elements) into shape " + shape.str());
    const Tensor c = contiguous(x);
    Tensor out = view(c, shape, contiguous_strides(shape), 0);
    return record_if_traced(out, {&x}, [&] { return std::make_unique<ReshapeNode>(x->shape); },
                            [&] { return Replay([shape](const OpInputs& in) { return reshape(in[0], shape); }); });
}

}  // namespace pyflux::autodiff
