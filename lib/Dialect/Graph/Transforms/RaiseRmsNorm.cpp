//===- RaiseRmsNorm.cpp - written-out RMSNorm -> sinter.rms_norm ----------===//
//
// Older exporters write RMSNorm as Pow/ReduceMean/Add/Sqrt/Div/Mul (see the
// pass description in Passes.td). Raised to one sinter.rms_norm, it is one
// kernel instead of a reduction plus two elementwise chains, and it is the
// op the opset-23 RMSNormalization imports to, so both exports compile to
// the same kernels.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"
#include "sinter/Dialect/Graph/IR/ShapeInference.h"
#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"

namespace sinter {
#define GEN_PASS_DEF_RAISERMSNORMPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;
using namespace sinter::raising;

static constexpr llvm::StringLiteral kPass = "sinter-raise-rms-norm";

namespace {

/// A matched RMSNorm: `result` is replaced by rms_norm(x, scale).
struct RmsMatch {
  Value x, scale;
  Operation *result = nullptr;
  int64_t axis = 0;
  double eps = 0;
  SmallVector<Operation *> chain; // ops that die with the raising
};

/// x when `sq` is x^2 spelled as pow(x, 2) or x * x; null otherwise.
Value squaredInput(Value sq) {
  if (auto pow = sq.getDefiningOp<PowOp>()) {
    std::optional<double> e = splatFloat(pow.getRhs());
    if (e && *e == 2.0 && pow.getType() == pow.getLhs().getType())
      return pow.getLhs();
    return {};
  }
  if (auto mul = sq.getDefiningOp<MulOp>())
    if (mul.getLhs() == mul.getRhs())
      return mul.getLhs();
  return {};
}

Operation *soleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

/// The other operand of a binary op `op` whose one operand is `v`.
template <typename OpTy> Value otherOperand(OpTy op, Value v) {
  if (op.getLhs() == v)
    return op.getRhs();
  if (op.getRhs() == v)
    return op.getLhs();
  return {};
}

/// Why `mean` (a reduce_mean of x^2) does not start an RMSNorm, or "" with
/// `m` filled in.
std::string match(ReduceMeanOp mean, Value x, RmsMatch &m) {
  m.x = x;
  m.chain = {mean, mean.getInput().getDefiningOp()};
  ArrayRef<int64_t> xs = shapeOf(x);
  int64_t rank = xs.size();
  if (!isa<FloatType>(tensorType(x).getElementType()))
    return "the input is not a float tensor";
  if (!mean.getKeepdims())
    return "the mean drops the reduced axes (keepdims off)";
  ArrayRef<int64_t> axes = mean.getAxes();
  int64_t first = rank - (int64_t)axes.size();
  for (auto [i, a] : llvm::enumerate(axes))
    if (a != first + (int64_t)i)
      return "the mean is over axes " + str(axes) + " of a rank-" +
             std::to_string(rank) + " input, not the trailing axes";
  m.axis = first;

  Operation *user = soleUser(mean.getResult());
  auto add = dyn_cast_or_null<AddOp>(user);
  if (!add)
    return "the mean of squares has " +
           std::to_string(std::distance(mean->use_begin(), mean->use_end())) +
           " users, not one add of epsilon";
  Value epsV = otherOperand(add, mean.getResult());
  std::optional<double> eps = splatFloat(epsV);
  if (!eps)
    return "epsilon is not a constant (it comes from " + producerName(epsV) +
           ")";
  if (*eps < 0)
    return "epsilon " + num(*eps) + " is negative";
  if (add.getType() != mean.getType())
    return "the epsilon add broadcasts the mean";
  m.eps = *eps;
  m.chain.push_back(add);

  // 1/sqrt(v) as rsqrt, reciprocal(sqrt), 1 / sqrt; or x / sqrt(v).
  Value inv;
  Operation *next = soleUser(add.getResult());
  if (auto rs = dyn_cast_or_null<RsqrtOp>(next)) {
    inv = rs.getResult();
    m.chain.push_back(rs);
  } else if (auto sq = dyn_cast_or_null<SqrtOp>(next)) {
    m.chain.push_back(sq);
    Operation *after = soleUser(sq.getResult());
    if (auto rec = dyn_cast_or_null<ReciprocalOp>(after)) {
      inv = rec.getResult();
      m.chain.push_back(rec);
    } else if (auto div = dyn_cast_or_null<DivOp>(after);
               div && div.getRhs() == sq.getResult()) {
      std::optional<double> one = splatFloat(div.getLhs());
      if (one && *one == 1.0 && div.getType() == sq.getType()) {
        inv = div.getResult();
        m.chain.push_back(div);
      } else if (div.getLhs() == x && div.getType() == x.getType()) {
        m.result = div;
      } else {
        return "sqrt(mean + eps) divides another value than the squared input";
      }
    } else {
      return "sqrt(mean + eps) feeds " +
             (after ? "'" + after->getName().getStringRef().str() + "'"
                    : std::string("several ops")) +
             ", not 1 / sqrt or x / sqrt";
    }
  } else {
    return "mean + eps feeds " +
           (next ? "'" + next->getName().getStringRef().str() + "'"
                 : std::string("several ops")) +
           ", not sqrt or rsqrt";
  }
  if (inv) {
    auto mul = dyn_cast_or_null<MulOp>(soleUser(inv));
    if (!mul || otherOperand(mul, inv) != x)
      return "the reciprocal RMS does not multiply the squared input";
    if (mul.getType() != x.getType())
      return "the normalizing multiply broadcasts the input";
    m.result = mul;
  }

  // An elementwise weight over the normalized axes folds into `scale`.
  ArrayRef<int64_t> normalized = xs.drop_front(m.axis);
  Value y = m.result->getResult(0);
  if (auto wmul = dyn_cast_or_null<MulOp>(soleUser(y));
      wmul && wmul.getType() == y.getType()) {
    Value w = otherOperand(wmul, y);
    ArrayRef<int64_t> ws = shapeOf(w);
    size_t lead =
        ws.size() > normalized.size() ? ws.size() - normalized.size() : 0;
    bool onesBefore =
        llvm::all_of(ws.take_front(lead), [](int64_t d) { return d == 1; });
    std::string why;
    FailureOr<shape::Shape> b =
        shape::broadcast({ws.drop_front(lead), normalized}, why);
    if (onesBefore && succeeded(b) && ArrayRef<int64_t>(*b) == normalized) {
      m.chain.push_back(m.result);
      m.result = wmul;
      m.scale = w;
    }
  }
  return "";
}

struct RaiseRmsNormPass : sinter::impl::RaiseRmsNormPassBase<RaiseRmsNormPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<ReduceMeanOp> means;
    getOperation()->walk([&](ReduceMeanOp op) { means.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (ReduceMeanOp mean : means) {
      Value x = squaredInput(mean.getInput());
      if (!x)
        continue; // not a mean of squares: no candidate
      RmsMatch m;
      std::string why = match(mean, x, m);
      if (!why.empty()) {
        if (remarks)
          remarkRefused(mean, kPass, why);
        continue;
      }
      Operation *result = m.result;
      rewriter.setInsertionPoint(result);
      Location loc = result->getLoc();
      Type elt = tensorType(x).getElementType();
      std::string scaleKind = "scale operand";
      Value scale = m.scale;
      if (!scale) {
        scale = arith::ConstantOp::create(
            rewriter, loc,
            DenseElementsAttr::get(RankedTensorType::get({}, elt),
                                   rewriter.getFloatAttr(elt, 1.0)));
        scaleKind = "no scale";
      } else {
        // Leading unit dims beyond the normalized rank are dropped.
        ArrayRef<int64_t> ws = shapeOf(scale);
        size_t nrank = shapeOf(x).size() - m.axis;
        if (ws.size() > nrank)
          scale = reshapeTo(rewriter, loc, scale, ws.take_back(nrank));
      }
      auto norm = RmsNormOp::create(rewriter, loc, x.getType(), x, scale,
                                    rewriter.getI64IntegerAttr(m.axis),
                                    rewriter.getF32FloatAttr(m.eps));
      if (remarks)
        remarkFused(norm, kPass,
                    "rms_norm over axes [" + std::to_string(m.axis) + ", " +
                        std::to_string(shapeOf(x).size()) + ") (eps " +
                        num(m.eps) + ", " + scaleKind + ") from " +
                        std::to_string(m.chain.size() + 1) + " ops");
      rewriter.replaceOp(result, norm.getResult());
      eraseDeadOps(rewriter, m.chain);
    }
  }
};
} // namespace
