//===- Elementwise.cpp - elementwise sinter ops to linalg.generic ---------===//
//
// Every elementwise op becomes one parallel linalg.generic over the result
// shape whose operands broadcast through their indexing maps (size-1 dims
// read index 0, missing leading dims are dropped). The scalar body of each op
// is a `computeElement` overload; f16/bf16 operands reach it extended to f32
// and its result is rounded once, as the ONNX reference computes.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace sinter::lowering;

namespace {


Value cst(OpBuilder &b, Location loc, Value like, double value) {
  return scalarConst(b, loc, like.getType(), value);
}

Value cmpF(OpBuilder &b, Location loc, arith::CmpFPredicate p, Value x,
           Value y) {
  return arith::CmpFOp::create(b, loc, p, x, y);
}
Value cmpI(OpBuilder &b, Location loc, arith::CmpIPredicate p, Value x,
           Value y) {
  return arith::CmpIOp::create(b, loc, p, x, y);
}
Value select(OpBuilder &b, Location loc, Value c, Value t, Value f) {
  return arith::SelectOp::create(b, loc, c, t, f);
}
Value expF(OpBuilder &b, Location loc, Value x) {
  return math::ExpOp::create(b, loc, x);
}
Value maxF(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::MaximumFOp::create(b, loc, x, y);
}
Value minF(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::MinimumFOp::create(b, loc, x, y);
}
double attr(FloatAttr a) { return a.getValueAsDouble(); }

//===----------------------------------------------------------------------===//
// Binary ops
//===----------------------------------------------------------------------===//

Value computeElement(sinter::AddOp, OpBuilder &b, Location loc, ValueRange a) {
  return add(b, loc, a[0], a[1]);
}
Value computeElement(sinter::SubOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::SubFOp::create(b, loc, a[0], a[1]);
  return arith::SubIOp::create(b, loc, a[0], a[1]);
}
Value computeElement(sinter::MulOp, OpBuilder &b, Location loc, ValueRange a) {
  return mul(b, loc, a[0], a[1]);
}
Value computeElement(sinter::DivOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return divF(b, loc, a[0], a[1]);
  return arith::DivSIOp::create(b, loc, a[0], a[1]);
}
/// x^y for signed integers, wrapping like integer multiplication: square and
/// multiply over the exponent's bits. A negative exponent gives 1/x^|y|
/// truncated toward zero (0 unless x is 1 or -1), as std::pow then a cast.
Value integerPow(OpBuilder &b, Location loc, Value x, Value y) {
  Type type = x.getType();
  unsigned width = type.getIntOrFloatBitWidth();
  Value one = cst(b, loc, x, 1);
  auto loop = scf::ForOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, 0),
      arith::ConstantIndexOp::create(b, loc, width),
      arith::ConstantIndexOp::create(b, loc, 1), ValueRange{one, x, y},
      [&](OpBuilder &lb, Location ll, Value, ValueRange it) {
        Value r = it[0], base = it[1], e = it[2];
        Value bit = arith::AndIOp::create(lb, ll, e, cst(lb, ll, e, 1));
        Value set =
            cmpI(lb, ll, arith::CmpIPredicate::ne, bit, cst(lb, ll, e, 0));
        Value nr = select(lb, ll, set, mul(lb, ll, r, base), r);
        Value nb = mul(lb, ll, base, base);
        Value ne = arith::ShRUIOp::create(lb, ll, e, cst(lb, ll, e, 1));
        scf::YieldOp::create(lb, ll, ValueRange{nr, nb, ne});
      });
  Value zero = cst(b, loc, x, 0), minusOne = cst(b, loc, x, -1);
  Value odd = cmpI(b, loc, arith::CmpIPredicate::ne,
                   arith::AndIOp::create(b, loc, y, one), zero);
  Value ofMinusOne = select(b, loc, odd, minusOne, one);
  Value negative =
      select(b, loc, cmpI(b, loc, arith::CmpIPredicate::eq, x, one), one,
             select(b, loc, cmpI(b, loc, arith::CmpIPredicate::eq, x, minusOne),
                    ofMinusOne, zero));
  return select(b, loc, cmpI(b, loc, arith::CmpIPredicate::slt, y, zero),
                negative, loop.getResult(0));
}
Value computeElement(sinter::PowOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return math::PowFOp::create(b, loc, a[0], a[1]);
  return integerPow(b, loc, a[0], a[1]);
}
Value computeElement(sinter::MaxOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return maxF(b, loc, a[0], a[1]);
  return arith::MaxSIOp::create(b, loc, a[0], a[1]);
}
Value computeElement(sinter::MinOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return minF(b, loc, a[0], a[1]);
  return arith::MinSIOp::create(b, loc, a[0], a[1]);
}
Value computeElement(sinter::ModOp op, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0], y = a[1];
  bool f = isFloat(x);
  Value r = f ? (Value)arith::RemFOp::create(b, loc, x, y)
              : (Value)arith::RemSIOp::create(b, loc, x, y);
  if (op.getFmod())
    return r;
  // Python-style: a non-zero remainder takes the divisor's sign.
  Value zero = cst(b, loc, x, 0);
  Value nonZero, rNeg, yNeg;
  if (f) {
    nonZero = cmpF(b, loc, arith::CmpFPredicate::UNE, r, zero);
    rNeg = cmpF(b, loc, arith::CmpFPredicate::OLT, r, zero);
    yNeg = cmpF(b, loc, arith::CmpFPredicate::OLT, y, zero);
  } else {
    nonZero = cmpI(b, loc, arith::CmpIPredicate::ne, r, zero);
    rNeg = cmpI(b, loc, arith::CmpIPredicate::slt, r, zero);
    yNeg = cmpI(b, loc, arith::CmpIPredicate::slt, y, zero);
  }
  Value differ = arith::XOrIOp::create(b, loc, rNeg, yNeg);
  Value fix = arith::AndIOp::create(b, loc, nonZero, differ);
  return select(b, loc, fix, add(b, loc, r, y), r);
}
Value computeElement(sinter::AndOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::AndIOp::create(b, loc, a[0], a[1]);
}
Value computeElement(sinter::OrOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::OrIOp::create(b, loc, a[0], a[1]);
}
Value computeElement(sinter::XorOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::XOrIOp::create(b, loc, a[0], a[1]);
}

/// Ordered float predicates; signed integer ones, unsigned for i1 (true >
/// false).
Value compare(OpBuilder &b, Location loc, ValueRange a, arith::CmpFPredicate fp,
              arith::CmpIPredicate sp, arith::CmpIPredicate up) {
  if (isFloat(a[0]))
    return cmpF(b, loc, fp, a[0], a[1]);
  return cmpI(b, loc, a[0].getType().isInteger(1) ? up : sp, a[0], a[1]);
}
Value computeElement(sinter::EqualOp, OpBuilder &b, Location loc,
                     ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq,
                 arith::CmpIPredicate::eq);
}
Value computeElement(sinter::LessOp, OpBuilder &b, Location loc, ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OLT,
                 arith::CmpIPredicate::slt, arith::CmpIPredicate::ult);
}
Value computeElement(sinter::LessEqualOp, OpBuilder &b, Location loc,
                     ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OLE,
                 arith::CmpIPredicate::sle, arith::CmpIPredicate::ule);
}
Value computeElement(sinter::GreaterOp, OpBuilder &b, Location loc,
                     ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OGT,
                 arith::CmpIPredicate::sgt, arith::CmpIPredicate::ugt);
}
Value computeElement(sinter::GreaterEqualOp, OpBuilder &b, Location loc,
                     ValueRange a) {
  return compare(b, loc, a, arith::CmpFPredicate::OGE,
                 arith::CmpIPredicate::sge, arith::CmpIPredicate::uge);
}

//===----------------------------------------------------------------------===//
// Unary ops
//===----------------------------------------------------------------------===//

Value computeElement(sinter::NegOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::NegFOp::create(b, loc, a[0]);
  return arith::SubIOp::create(b, loc, cst(b, loc, a[0], 0), a[0]);
}
Value computeElement(sinter::AbsOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return math::AbsFOp::create(b, loc, a[0]);
  return math::AbsIOp::create(b, loc, a[0]);
}
Value computeElement(sinter::SignOp, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0], zero = cst(b, loc, x, 0);
  Value pos, neg, zeroOrX;
  if (isFloat(x)) {
    pos = cmpF(b, loc, arith::CmpFPredicate::OGT, x, zero);
    neg = cmpF(b, loc, arith::CmpFPredicate::OLT, x, zero);
    zeroOrX = x; // keeps NaN (and the sign of zero)
  } else {
    pos = cmpI(b, loc, arith::CmpIPredicate::sgt, x, zero);
    neg = cmpI(b, loc, arith::CmpIPredicate::slt, x, zero);
    zeroOrX = zero;
  }
  Value r = select(b, loc, neg, cst(b, loc, x, -1), zeroOrX);
  return select(b, loc, pos, cst(b, loc, x, 1), r);
}
Value computeElement(sinter::ReluOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return maxF(b, loc, a[0], cst(b, loc, a[0], 0));
  return arith::MaxSIOp::create(b, loc, a[0], cst(b, loc, a[0], 0));
}
Value computeElement(sinter::NotOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::XOrIOp::create(b, loc, a[0], cst(b, loc, a[0], 1));
}

#define SINTER_MATH_UNARY(SinterOp, MathOp)                                    \
  Value computeElement(sinter::SinterOp, OpBuilder &b, Location loc,           \
                       ValueRange a) {                                         \
    return math::MathOp::create(b, loc, a[0]);                                 \
  }
SINTER_MATH_UNARY(ExpOp, ExpOp)
SINTER_MATH_UNARY(LogOp, LogOp)
SINTER_MATH_UNARY(SqrtOp, SqrtOp)
SINTER_MATH_UNARY(RsqrtOp, RsqrtOp)
SINTER_MATH_UNARY(TanhOp, TanhOp)
SINTER_MATH_UNARY(ErfOp, ErfOp)
SINTER_MATH_UNARY(SinOp, SinOp)
SINTER_MATH_UNARY(CosOp, CosOp)
SINTER_MATH_UNARY(TanOp, TanOp)
SINTER_MATH_UNARY(AsinOp, AsinOp)
SINTER_MATH_UNARY(AcosOp, AcosOp)
SINTER_MATH_UNARY(AtanOp, AtanOp)
SINTER_MATH_UNARY(SinhOp, SinhOp)
SINTER_MATH_UNARY(CoshOp, CoshOp)
SINTER_MATH_UNARY(AsinhOp, AsinhOp)
SINTER_MATH_UNARY(AcoshOp, AcoshOp)
SINTER_MATH_UNARY(AtanhOp, AtanhOp)
SINTER_MATH_UNARY(FloorOp, FloorOp)
SINTER_MATH_UNARY(CeilOp, CeilOp)
// math.round rounds half away from zero; ONNX Round is half to even.
SINTER_MATH_UNARY(RoundOp, RoundEvenOp)
#undef SINTER_MATH_UNARY

Value computeElement(sinter::ReciprocalOp, OpBuilder &b, Location loc,
                     ValueRange a) {
  return divF(b, loc, cst(b, loc, a[0], 1), a[0]);
}
/// 1 + exp(-x): exp overflows to inf for very negative x, giving 0 for
/// sigmoid and -0 for silu, both correct limits.
Value onePlusExpNeg(OpBuilder &b, Location loc, Value x) {
  Value e = expF(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::AddFOp::create(b, loc, cst(b, loc, x, 1), e);
}
Value computeElement(sinter::SigmoidOp, OpBuilder &b, Location loc,
                     ValueRange a) {
  return divF(b, loc, cst(b, loc, a[0], 1), onePlusExpNeg(b, loc, a[0]));
}
Value computeElement(sinter::SiluOp, OpBuilder &b, Location loc, ValueRange a) {
  return divF(b, loc, a[0], onePlusExpNeg(b, loc, a[0]));
}
Value computeElement(sinter::SoftplusOp, OpBuilder &b, Location loc,
                     ValueRange a) {
  // log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), which does not overflow.
  Value x = a[0];
  Value absX = math::AbsFOp::create(b, loc, x);
  Value e = expF(b, loc, arith::NegFOp::create(b, loc, absX));
  // log1p(e) as log(u) * e / (u - 1) with u = 1 + e (exact to a few ulp):
  // math.log1p itself lowers to log(1 + e) in convert-math-to-llvm, which
  // loses every digit for small e.
  Value u = arith::AddFOp::create(b, loc, cst(b, loc, x, 1), e);
  Value d = arith::SubFOp::create(b, loc, u, cst(b, loc, x, 1));
  Value ratio = divF(b, loc, math::LogOp::create(b, loc, u), d);
  Value l = select(
      b, loc, cmpF(b, loc, arith::CmpFPredicate::OEQ, d, cst(b, loc, x, 0)), e,
      mul(b, loc, e, ratio));
  return arith::AddFOp::create(b, loc, maxF(b, loc, x, cst(b, loc, x, 0)), l);
}
Value computeElement(sinter::SoftsignOp, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0];
  Value d = arith::AddFOp::create(b, loc, cst(b, loc, x, 1),
                                  math::AbsFOp::create(b, loc, x));
  return divF(b, loc, x, d);
}
Value computeElement(sinter::GeluOp op, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0];
  Value inner;
  if (op.getTanhApproximation()) {
    // tanh(sqrt(2 / pi) * (x + 0.044715 x^3))
    Value x3 = mul(b, loc, mul(b, loc, x, x), x);
    Value s = add(b, loc, x, mul(b, loc, cst(b, loc, x, 0.044715), x3));
    inner = math::TanhOp::create(
        b, loc, mul(b, loc, cst(b, loc, x, std::sqrt(2.0 / M_PI)), s));
  } else {
    inner =
        math::ErfOp::create(b, loc, mul(b, loc, x, cst(b, loc, x, M_SQRT1_2)));
  }
  Value half = mul(b, loc, cst(b, loc, x, 0.5), x);
  return mul(b, loc, half, add(b, loc, cst(b, loc, x, 1), inner));
}
Value computeElement(sinter::LeakyReluOp op, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0];
  Value ge = cmpF(b, loc, arith::CmpFPredicate::OGE, x, cst(b, loc, x, 0));
  Value ax = mul(b, loc, cst(b, loc, x, attr(op.getAlphaAttr())), x);
  return select(b, loc, ge, x, ax);
}
/// alpha * (exp(x) - 1)
Value expMinusOne(OpBuilder &b, Location loc, Value x, double alpha) {
  Value em1 = arith::SubFOp::create(b, loc, expF(b, loc, x), cst(b, loc, x, 1));
  return mul(b, loc, cst(b, loc, x, alpha), em1);
}
Value computeElement(sinter::EluOp op, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0];
  Value ge = cmpF(b, loc, arith::CmpFPredicate::OGE, x, cst(b, loc, x, 0));
  return select(b, loc, ge, x, expMinusOne(b, loc, x, attr(op.getAlphaAttr())));
}
Value computeElement(sinter::CeluOp op, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0];
  double alpha = attr(op.getAlphaAttr());
  Value scaled = divF(b, loc, x, cst(b, loc, x, alpha));
  Value neg =
      minF(b, loc, cst(b, loc, x, 0), expMinusOne(b, loc, scaled, alpha));
  return add(b, loc, maxF(b, loc, cst(b, loc, x, 0), x), neg);
}
Value computeElement(sinter::ThresholdedReluOp op, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0];
  Value gt = cmpF(b, loc, arith::CmpFPredicate::OGT, x,
                  cst(b, loc, x, attr(op.getAlphaAttr())));
  return select(b, loc, gt, x, cst(b, loc, x, 0));
}
Value computeElement(sinter::SeluOp op, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0];
  Value gt = cmpF(b, loc, arith::CmpFPredicate::OGT, x, cst(b, loc, x, 0));
  Value v =
      select(b, loc, gt, x, expMinusOne(b, loc, x, attr(op.getAlphaAttr())));
  return mul(b, loc, cst(b, loc, x, attr(op.getGammaAttr())), v);
}
Value computeElement(sinter::HardSigmoidOp op, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0];
  Value lin =
      add(b, loc, mul(b, loc, cst(b, loc, x, attr(op.getAlphaAttr())), x),
          cst(b, loc, x, attr(op.getBetaAttr())));
  return maxF(b, loc, cst(b, loc, x, 0), minF(b, loc, cst(b, loc, x, 1), lin));
}
Value computeElement(sinter::IsNanOp, OpBuilder &b, Location loc,
                     ValueRange a) {
  return cmpF(b, loc, arith::CmpFPredicate::UNO, a[0], a[0]);
}
Value computeElement(sinter::IsInfOp op, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0];
  Value r = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
  auto test = [&](bool negative) {
    Value inf = lowestConst(b, loc, x.getType(), /*highest=*/!negative);
    Value eq = cmpF(b, loc, arith::CmpFPredicate::OEQ, x, inf);
    r = arith::OrIOp::create(b, loc, r, eq);
  };
  if (op.getDetectPositive())
    test(false);
  if (op.getDetectNegative())
    test(true);
  return r;
}
Value computeElement(sinter::ClipOp op, OpBuilder &b, Location loc,
                     ValueRange a) {
  Value x = a[0];
  unsigned next = 1;
  bool f = isFloat(x);
  if (op.getMin()) {
    Value lo = a[next++];
    x = f ? maxF(b, loc, x, lo) : (Value)arith::MaxSIOp::create(b, loc, x, lo);
  }
  if (op.getMax()) {
    Value hi = a[next++];
    x = f ? minF(b, loc, x, hi) : (Value)arith::MinSIOp::create(b, loc, x, hi);
  }
  return x;
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Any op with a computeElement overload: one broadcasting linalg.generic,
/// f16/bf16 computed in f32.
template <typename OpTy>
struct ElementwiseLowering : OpConversionPattern<OpTy> {
  using Base = OpConversionPattern<OpTy>;
  using Base::Base;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!resultType || !resultType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "result is not a static tensor");
    Value r = buildComputeGeneric(
        rewriter, op.getLoc(), resultType, adaptor.getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return computeElement(op, b, loc, args);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// select needs no compute type: it moves values without arithmetic.
struct WhereLowering : OpConversionPattern<sinter::WhereOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::WhereOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value r = buildBroadcastGeneric(
        rewriter, op.getLoc(), op.getResult().getType(), adaptor.getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange a) {
          return select(b, loc, a[0], a[1], a[2]);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct CastLowering : OpConversionPattern<sinter::CastOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::CastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = op.getResult().getType();
    if (adaptor.getInput().getType() == resultType) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    Type to = resultType.getElementType();
    Value r = buildBroadcastGeneric(
        rewriter, op.getLoc(), resultType, adaptor.getInput(),
        [&](OpBuilder &b, Location loc, ValueRange a) {
          return convertScalar(b, loc, a[0], to);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void sinter::populateElementwiseToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<WhereLowering, CastLowering>(ctx);
  patterns.add<
      // binary
      ElementwiseLowering<AddOp>, ElementwiseLowering<SubOp>,
      ElementwiseLowering<MulOp>, ElementwiseLowering<DivOp>,
      ElementwiseLowering<PowOp>, ElementwiseLowering<MaxOp>,
      ElementwiseLowering<MinOp>, ElementwiseLowering<ModOp>,
      ElementwiseLowering<AndOp>, ElementwiseLowering<OrOp>,
      ElementwiseLowering<XorOp>,
      // comparisons
      ElementwiseLowering<EqualOp>, ElementwiseLowering<LessOp>,
      ElementwiseLowering<LessEqualOp>, ElementwiseLowering<GreaterOp>,
      ElementwiseLowering<GreaterEqualOp>,
      // unary
      ElementwiseLowering<NegOp>, ElementwiseLowering<AbsOp>,
      ElementwiseLowering<SignOp>, ElementwiseLowering<ReluOp>,
      ElementwiseLowering<NotOp>, ElementwiseLowering<ExpOp>,
      ElementwiseLowering<LogOp>, ElementwiseLowering<SqrtOp>,
      ElementwiseLowering<RsqrtOp>, ElementwiseLowering<ReciprocalOp>,
      ElementwiseLowering<SigmoidOp>, ElementwiseLowering<SiluOp>,
      ElementwiseLowering<TanhOp>, ElementwiseLowering<ErfOp>,
      ElementwiseLowering<SoftplusOp>, ElementwiseLowering<SoftsignOp>,
      ElementwiseLowering<SinOp>, ElementwiseLowering<CosOp>,
      ElementwiseLowering<TanOp>, ElementwiseLowering<AsinOp>,
      ElementwiseLowering<AcosOp>, ElementwiseLowering<AtanOp>,
      ElementwiseLowering<SinhOp>, ElementwiseLowering<CoshOp>,
      ElementwiseLowering<AsinhOp>, ElementwiseLowering<AcoshOp>,
      ElementwiseLowering<AtanhOp>, ElementwiseLowering<FloorOp>,
      ElementwiseLowering<CeilOp>, ElementwiseLowering<RoundOp>,
      ElementwiseLowering<GeluOp>, ElementwiseLowering<LeakyReluOp>,
      ElementwiseLowering<EluOp>, ElementwiseLowering<CeluOp>,
      ElementwiseLowering<ThresholdedReluOp>, ElementwiseLowering<SeluOp>,
      ElementwiseLowering<HardSigmoidOp>, ElementwiseLowering<IsNanOp>,
      ElementwiseLowering<IsInfOp>, ElementwiseLowering<ClipOp>>(ctx);
}
