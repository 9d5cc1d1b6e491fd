// matmul and the fused dense op, both on BLAS GEMM.
#include <stdexcept>

#include "autodiff/ops.hpp"
#include "autodiff/tape.hpp"
#include "kernels/blas.hpp"
#include "kernels/dense.hpp"

namespace pyflux::autodiff {
namespace {

// A 2-D operand as GEMM takes it: row-major with leading dimension ld, or (trans) the transpose of
// a row-major matrix, which is how a Fortran-ordered or transposed array arrives without a copy.
struct GemmOperand {
    Tensor keep;  // owns the memory data points into
    index_t rows = 0, cols = 0, ld = 1;
    bool trans = false;
    template <class T>
    const T* data() const { return keep->ptr<T>(); }
};

GemmOperand as_gemm(const Tensor& t, index_t rows, index_t cols, index_t s_row, index_t s_col) {
    GemmOperand op{t, rows, cols, 1, false};
    if ((cols == 1 || s_col == 1) && (rows == 1 || s_row >= cols)) {
        op.ld = rows == 1 ? std::max<index_t>(cols, 1) : std::max<index_t>(s_row, 1);
        if (op.ld >= std::max<index_t>(cols, 1)) return op;
    }
    if ((rows == 1 || s_row == 1) && (cols == 1 || s_col >= rows)) {
        op.trans = true;
        op.ld = cols == 1 ? std::max<index_t>(rows, 1) : std::max<index_t>(s_col, 1);
        if (op.ld >= std::max<index_t>(rows, 1)) return op;
    }
    op.keep = contiguous(t);
    op.trans = false;
    op.ld = std::max<index_t>(cols, 1);
    return op;
}

// a as [m x k]: a 1-D operand is one row.
GemmOperand left_operand(const Tensor& a) {
    if (a->shape.ndim == 1) return as_gemm(a, 1, a->shape[0], a->shape[0] * a->strides[0], a->strides[0]);
    return as_gemm(a, a->shape[0], a->shape[1], a->strides[0], a->strides[1]);
}

// b as [k x n]: a 1-D operand is one column.
GemmOperand right_operand(const Tensor& b) {
    if (b->shape.ndim == 1) return as_gemm(b, b->shape[0], 1, b->strides[0], 1);
    return as_gemm(b, b->shape[0], b->shape[1], b->strides[0], b->strides[1]);
}

// C [M x N] = op(A) . op(B), written into c (contiguous).
template <class T>
void gemm_into(const GemmOperand& A, bool flip_a, const GemmOperand& B, bool flip_b, index_t M, index_t N,
               index_t K, T* c) {
    kernels::gemm<T>(A.trans != flip_a, B.trans != flip_b, M, N, K, T(1), A.data<T>(), A.ld, B.data<T>(),
                     B.ld, T(0), c, std::max<index_t>(N, 1));
}

class MatmulNode : public Node {
public:
    MatmulNode(GemmOperand a, GemmOperand b, Shape a_shape, Shape b_shape)
        : a_(std::move(a)), b_(std::move(b)), a_shape_(a_shape), b_shape_(b_shape) {}

    // With C = A B, A [m x k], B [k x n]:  dA = dC B^T [m x n].[n x k],  dB = A^T dC [k x m].[m x n]
    void backward(const Tensor& g_in, Tape& tape) override {
        const Tensor g = contiguous(g_in);
        const index_t m = a_.rows, k = a_.cols, n = b_.cols;
        GemmOperand dC{g, m, n, std::max<index_t>(n, 1), false};
        dispatch(g->dtype, [&](auto tag) {
            using T = decltype(tag);
            if (input_ids[0] >= 0) {
                Tensor da = empty(g->dtype, a_shape_);
                gemm_into<T>(dC, false, b_, true, m, k, n, da->ptr<T>());
                tape.accumulate(input_ids[0], da);
            }
            if (input_ids[1] >= 0) {
                Tensor db = empty(g->dtype, b_shape_);
                gemm_into<T>(a_, true, dC, false, k, n, m, db->ptr<T>());
                tape.accumulate(input_ids[1], db);
            }
        });
    }

private:
    GemmOperand a_, b_;
    Shape a_shape_, b_shape_;
};

class DenseNode : public Node {
public:
    // saved is y, or the pre-activation z = W x + b where the activation's derivative needs it.
    DenseNode(UnaryOp act, double param, Tensor W, Tensor saved, GemmOperand x, Shape x_shape)
        : act_(act), param_(param), W_(std::move(W)), saved_(std::move(saved)), x_(std::move(x)),
          x_shape_(x_shape) {}

    // dz = dy act'(z);  db = row sums of dz;  dW = dz x^T;  dx = W^T dz  (kernels::dense_backward)
    void backward(const Tensor& g_in, Tape& tape) override {
        const Tensor g = contiguous(g_in);
        const index_t out = W_->shape[0], in = W_->shape[1], N = x_.cols;
        const DType dt = g->dtype;
        Tensor dW = input_ids[0] >= 0 ? empty(dt, W_->shape) : Tensor{};
        Tensor db = input_ids[1] >= 0 ? empty(dt, make_shape({out})) : Tensor{};
        Tensor dx = input_ids[2] >= 0 ? empty(dt, x_shape_) : Tensor{};
        Tensor scratch = act_ != UnaryOp::identity ? empty(dt, g->shape) : Tensor{};
        dispatch(dt, [&](auto tag) {
            using T = decltype(tag);
            auto p = [](const Tensor& t) { return t ? t->ptr<T>() : nullptr; };
            kernels::dense_backward<T>(act_, param_, out, in, N, g->ptr<T>(), saved_->ptr<T>(), W_->ptr<T>(),
                                       {x_.data<T>(), x_.ld, x_.trans}, p(scratch), p(dW), p(db), p(dx));
        });
        if (dW) tape.accumulate(input_ids[0], dW);
        if (db) tape.accumulate(input_ids[1], db);
        if (dx) tape.accumulate(input_ids[2], dx);
    }

private:
    UnaryOp act_;
    double param_;
    Tensor W_, saved_;
    GemmOperand x_;
    Shape x_shape_;
};

// A 1-D or 2-D buffer as GEMM's [rows x cols] (a vector is a row on the left, a column on the right),
// with its leading dimension; trans: stored as the row-major transpose.
struct FlatMatrix {
    index_t rows, cols, ld;
    bool trans;
};

FlatMatrix flat_matrix(const FlatBuf& b, bool left) {
    const Shape& s = b.shape;
    if (b.transposed) return {s[0], s[1], std::max<index_t>(s[0], 1), true};
    if (s.ndim == 2) return {s[0], s[1], std::max<index_t>(s[1], 1), false};
    return left ? FlatMatrix{1, s[0], std::max<index_t>(s[0], 1), false} : FlatMatrix{s[0], 1, 1, false};
}

// One GEMM of a flat op, with its sizes and transposes fixed: a tiny one runs gemm's plain loop
// directly (kernels::small_gemm), a larger one kernels::gemm.
template <class T>
struct FlatGemm {
    bool ta = false, tb = false;
    index_t M = 0, N = 0, K = 0;
    kernels::GemmLoop<T> loop = nullptr;

    FlatGemm() = default;
    FlatGemm(bool ta_, bool tb_, index_t M_, index_t N_, index_t K_)
        : ta(ta_), tb(tb_), M(M_), N(N_), K(K_),
          loop(kernels::small_gemm_size(M_, N_, K_) ? kernels::small_gemm<T>(ta_, tb_) : nullptr) {}
    void operator()(const T* A, index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc) const {
        if (loop) return loop(M, N, K, T(1), A, lda, B, ldb, beta, C, ldc);
        kernels::gemm<T>(ta, tb, M, N, K, T(1), A, lda, B, ldb, beta, C, ldc);
    }
    /// The same product as a tiny instruction, adding to C where add.
    TinyInstr tiny(void* const* A, index_t lda, void* const* B, index_t ldb, void* const* C, index_t ldc, bool add) const {
        TinyInstr i{TinyInstr::gemm};
        i.ta = ta;
        i.tb = tb;
        i.m = M;
        i.n = N;
        i.k = K;
        i.lda = lda;
        i.ldb = ldb;
        i.ldc = ldc;
        i.add = add;
        i.p = {A, B, C};
        return i;
    }
};

// matmul over fixed buffers: the gradients are GEMMs that add into the target with beta = 1. An
// input that wants a gradient is contiguous (only data come transposed, and they want none).
template <class T>
class FlatMatmul : public FlatOp {
public:
    static constexpr bool reads_transposed = true;

    explicit FlatMatmul(const FlatArgs& io)
        : FlatOp(io), a_(flat_matrix(*io.in[0], true)), b_(flat_matrix(*io.in[1], false)),
          ldc_(std::max<index_t>(b_.cols, 1)), forward_(a_.trans, b_.trans, a_.rows, b_.cols, a_.cols),
          da_(false, !b_.trans, a_.rows, a_.cols, b_.cols), db_(!a_.trans, false, a_.cols, b_.cols, a_.rows) {}

    void forward() override { forward_(io_.in[0]->ptr<T>(), a_.ld, io_.in[1]->ptr<T>(), b_.ld, T(0), io_.out->ptr<T>(), ldc_); }
    // dA = dC B^T,  dB = A^T dC
    void backward() override {
        const T* dC = io_.grad_out->ptr<T>();
        if (wants(0)) da_(dC, ldc_, io_.in[1]->ptr<T>(), b_.ld, T(io_.add[0]), io_.grad_in[0]->ptr<T>(), a_.ld);
        if (wants(1)) db_(io_.in[0]->ptr<T>(), a_.ld, dC, ldc_, T(io_.add[1]), io_.grad_in[1]->ptr<T>(), b_.ld);
    }
    bool lower_forward(TinyCode& c) const override {
        if (!TinyCode::small_gemm(forward_.M, forward_.N, forward_.K)) return false;
        c.push(forward_.tiny(TinyCode::at(*io_.in[0]), a_.ld, TinyCode::at(*io_.in[1]), b_.ld, TinyCode::at(*io_.out), ldc_, false));
        return true;
    }
    bool lower_backward(TinyCode& c) const override {
        if (!TinyCode::small_gemm(forward_.M, forward_.N, forward_.K)) return false;
        void* const* dC = TinyCode::at(*io_.grad_out);
        if (wants(0)) c.push(da_.tiny(dC, ldc_, TinyCode::at(*io_.in[1]), b_.ld, TinyCode::at(*io_.grad_in[0]), a_.ld, io_.add[0]));
        if (wants(1)) c.push(db_.tiny(TinyCode::at(*io_.in[0]), a_.ld, dC, ldc_, TinyCode::at(*io_.grad_in[1]), b_.ld, io_.add[1]));
        return true;
    }

private:
    FlatMatrix a_, b_;
    index_t ldc_;
    FlatGemm<T> forward_, da_, db_;
};

// dense over fixed buffers, keeping the pre-activation where the activation's derivative reads it.
template <class T>
class FlatDense : public FlatOp {
public:
    static constexpr bool reads_transposed = true;  // the input x; the factory checks W and b

    FlatDense(const FlatArgs& io, UnaryOp act, double param)
        : FlatOp(io), act_(act), param_(param), x_(flat_matrix(*io.in[2], false)) {
        if (kernels::saves(act) == kernels::Saves::input) z_ = empty(io.out->dtype, io.out->shape);
        if (act != UnaryOp::identity) dz_ = empty(io.out->dtype, io.out->shape);
    }

    void forward() override {
        const FlatBuf& W = *io_.in[0];
        kernels::dense_forward<T>(act_, param_, W.shape[0], W.shape[1], x_.cols, W.ptr<T>(), {io_.in[2]->ptr<T>(), x_.ld, x_.trans},
                                  io_.in[1] ? io_.in[1]->ptr<T>() : nullptr, z_ ? z_->ptr<T>() : nullptr, io_.out->ptr<T>());
    }
    void backward() override {
        const FlatBuf& W = *io_.in[0];
        auto target = [&](int k) { return wants(k) ? grad<T>(k) : nullptr; };
        kernels::dense_backward<T>(act_, param_, W.shape[0], W.shape[1], x_.cols, io_.grad_out->ptr<T>(),
                                   z_ ? z_->ptr<T>() : io_.out->ptr<T>(), W.ptr<T>(), {io_.in[2]->ptr<T>(), x_.ld, x_.trans},
                                   dz_ ? dz_->ptr<T>() : nullptr, target(0), target(1), target(2));
        for (int k = 0; k < 3; ++k)
            if (wants(k)) done<T>(k);
    }
    // z = W x (+ b), then y = f(z); the backward's dz = f'(dy) (dy itself for identity) gives
    // dW = dz x^T, db = dz's row sums, dx = W^T dz.
    bool lower_forward(TinyCode& c) const override {
        if (!tiny()) return false;
        const index_t out = rows(), in = cols(), N = x_.cols;
        void* const* y = TinyCode::at(*io_.out);
        void* const* z = z_ ? TinyCode::at(z_) : y;
        c.push(FlatGemm<T>(false, x_.trans, out, N, in).tiny(TinyCode::at(*io_.in[0]), in, TinyCode::at(*io_.in[2]), x_.ld, z, N, false));
        if (io_.in[1]) {
            TinyInstr i{TinyInstr::bias};
            i.m = out;
            i.n = N;
            i.p = {TinyCode::at(*io_.in[1]), z};
            c.push(i);
        }
        if (act_ != UnaryOp::identity) c.push(activation(TinyInstr::unary, {z, y}));
        return true;
    }
    bool lower_backward(TinyCode& c) const override {
        if (!tiny()) return false;
        const index_t out = rows(), in = cols(), N = x_.cols;
        void* const* dz = TinyCode::at(*io_.grad_out);
        if (act_ != UnaryOp::identity) {
            void* const* saved = z_ ? TinyCode::at(z_) : TinyCode::at(*io_.out);
            c.push(activation(TinyInstr::unary_grad, {dz, saved, TinyCode::at(dz_)}));
            dz = TinyCode::at(dz_);
        }
        if (wants(0))
            c.push(FlatGemm<T>(false, !x_.trans, out, in, N).tiny(dz, N, TinyCode::at(*io_.in[2]), x_.ld, TinyCode::at(*io_.grad_in[0]), in, io_.add[0]));
        if (wants(1)) {
            TinyInstr i{TinyInstr::bias_grad};
            i.m = out;
            i.n = N;
            i.add = io_.add[1];
            i.p = {dz, TinyCode::at(*io_.grad_in[1])};
            c.push(i);
        }
        if (wants(2))
            c.push(FlatGemm<T>(true, false, in, N, out).tiny(TinyCode::at(*io_.in[0]), in, dz, N, TinyCode::at(*io_.grad_in[2]), N, io_.add[2]));
        return true;
    }

private:
    index_t rows() const { return io_.in[0]->shape[0]; }
    index_t cols() const { return io_.in[0]->shape[1]; }
    bool tiny() const { return TinyCode::small_gemm(rows(), x_.cols, cols()); }
    TinyInstr activation(TinyInstr::Code code, std::array<void* const*, 5> p) const {
        TinyInstr i{code};
        i.op = static_cast<std::uint8_t>(act_);
        i.param = param_;
        i.n = rows() * x_.cols;
        i.p = p;
        return i;
    }

    UnaryOp act_;
    double param_;
    FlatMatrix x_;
    Tensor z_, dz_;
};

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
    if (a->dtype != b->dtype)
        throw std::invalid_argument(std::string(op) + ": dtypes " + dtype_name(a->dtype) + " and " +
                                    dtype_name(b->dtype) + " differ");
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
    const int na = a->shape.ndim, nb = b->shape.ndim;
    if (na < 1 || na > 2 || nb < 1 || nb > 2)
        throw std::invalid_argument("matmul: operands must be 1-D or 2-D, got shapes " + a->shape.str() + " and " +
                                    b->shape.str());
    check_same_dtype("matmul", a, b);
    GemmOperand A = left_operand(a), B = right_operand(b);
    if (A.cols != B.rows)
        throw std::invalid_argument("matmul: shapes " + a->shape.str() + " and " + b->shape.str() +
                                    " are not aligned (" + std::to_string(A.cols) + " != " + std::to_string(B.rows) + ")");
    Shape shape;
    if (na == 2) shape.dims[shape.ndim++] = A.rows;
    if (nb == 2) shape.dims[shape.ndim++] = B.cols;
    Tensor out = empty(a->dtype, shape);
    dispatch(a->dtype, [&](auto tag) {
        using T = decltype(tag);
        gemm_into<T>(A, false, B, false, A.rows, B.cols, A.cols, out->ptr<T>());
    });
    return record_if_traced(out, {&a, &b}, [&] { return std::make_unique<MatmulNode>(A, B, a->shape, b->shape); },
                            [&] { return Replay([](const OpInputs& in) { return matmul(in[0], in[1]); }); },
                            [&] { return MakeFlat([](const FlatArgs& io) { return make_flat<FlatMatmul>(io); }); });
}

Tensor dense(const Tensor& W_in, const Tensor& b, const Tensor& x, UnaryOp act, double param) {
    if (W_in->shape.ndim != 2) throw std::invalid_argument("dense: weight must be 2-D, got shape " + W_in->shape.str());
    const index_t out = W_in->shape[0], in = W_in->shape[1];
    if (x->shape.ndim < 1 || x->shape.ndim > 2 || x->shape[0] != in)
        throw std::invalid_argument("dense: weight of shape " + W_in->shape.str() + " expects input of shape (" +
                                    std::to_string(in) + ",) or (" + std::to_string(in) + ", N), got " + x->shape.str());
    check_same_dtype("dense", W_in, x);
    if (b) {
        check_same_dtype("dense", W_in, b);
        if (b->shape.ndim != 1 || b->shape[0] != out)
            throw std::invalid_argument("dense: bias must have shape (" + std::to_string(out) + ",), got " + b->shape.str());
    }
    check_unary_param("dense", act, param);
    const Tensor W = contiguous(W_in);
    const Tensor bc = b ? contiguous(b) : Tensor{};
    const GemmOperand X = right_operand(x);
    const index_t N = X.cols;
    Shape shape = x->shape.ndim == 1 ? make_shape({out}) : make_shape({out, N});
    Tensor y = empty(W->dtype, shape);
    // The pre-activation gets a buffer of its own only when a recorded backward will read it.
    const bool keep_z = kernels::saves(act) == kernels::Saves::input && (traced(W_in) || (b && traced(b)) || traced(x));
    Tensor z = keep_z ? empty(W->dtype, shape) : Tensor{};
    dispatch(W->dtype, [&](auto tag) {
        using T = decltype(tag);
        kernels::dense_forward<T>(act, param, out, in, N, W->ptr<T>(), {X.data<T>(), X.ld, X.trans},
                                  bc ? bc->ptr<T>() : nullptr, z ? z->ptr<T>() : nullptr, y->ptr<T>());
    });
    return record_if_traced(y, {&W_in, &b, &x},
                            [&] { return std::make_unique<DenseNode>(act, param, W, keep_z ? z : y, X, x->shape); },
                            [&] {
                                return Replay([act, param](const OpInputs& in) { return dense(in[0], in[1], in[2], act, param); });
                            },
                            [&] {
                                return MakeFlat([act, param](const FlatArgs& io) { return io.in[0]->transposed || (io.in[1] && io.in[1]->transposed) ? nullptr
                                                                                   : make_flat<FlatDense>(io, act, param); });
                            });
}

}  // namespace pyflux::autodiff
