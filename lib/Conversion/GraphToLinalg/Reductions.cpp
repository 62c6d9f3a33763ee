//===- Reductions.cpp - reductions and normalizations to linalg -----------===//
//
// Reductions become a linalg.generic with reduction iterators over the input
// shape writing a tensor of the kept dims (keepdims is a tensor.expand_shape
// afterwards), then an elementwise generic that finishes the value (mean,
// sqrt, log) and rounds f16/bf16 accumulators (always f32) back once.
// Arg-reductions, and the selection rounds of topk, compare (value, index)
// pairs in a total order, so the result does not depend on the order in which
// the reduction is run. Cumsum and topk are in ScanAndSort.cpp.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace sinter::lowering;

namespace {

enum class ReduceKind {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  SumSquare,
  LogSum,
  LogSumExp
};

Value maxOf(OpBuilder &b, Location loc, Value x, Value y) {
  if (isFloat(x))
    return arith::MaximumFOp::create(b, loc, x, y);
  return arith::MaxSIOp::create(b, loc, x, y);
}
Value minOf(OpBuilder &b, Location loc, Value x, Value y) {
  if (isFloat(x))
    return arith::MinimumFOp::create(b, loc, x, y);
  return arith::MinSIOp::create(b, loc, x, y);
}
Value cst(OpBuilder &b, Location loc, Type type, double v) {
  return scalarConst(b, loc, type, v);
}

int64_t countOf(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes) {
  int64_t n = 1;
  for (int64_t a : axes)
    n *= shape[a];
  return n;
}

SmallVector<int64_t> trailingAxes(int64_t from, int64_t rank) {
  SmallVector<int64_t> axes;
  for (int64_t d = from; d < rank; ++d)
    axes.push_back(d);
  return axes;
}

//===----------------------------------------------------------------------===//
// reduce_*
//===----------------------------------------------------------------------===//

template <typename OpTy, ReduceKind Kind>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using Base = OpConversionPattern<OpTy>;
  using Base::Base;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto inType = cast<RankedTensorType>(x.getType());
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    Type elemType = inType.getElementType();
    Type accType = computeType(elemType);
    ArrayRef<int64_t> axes = op.getAxes();
    SmallVector<int64_t> reducedShape = dropDims(inType.getShape(), axes);
    auto accTensorType = RankedTensorType::get(reducedShape, accType);
    int64_t count = countOf(inType.getShape(), axes);

    // log_sum_exp subtracts the max first; an infinite max (all -inf, or a
    // +inf element) would make x - max NaN, so it shifts by 0 instead.
    Value shift;
    if (Kind == ReduceKind::LogSumExp) {
      Value m = buildReduction(
          rewriter, loc, x, axes, lowestConst(rewriter, loc, accType),
          [](OpBuilder &b, Location l, ValueRange e, Value acc) {
            return maxOf(b, l, acc, e[0]);
          });
      shift = buildComputeGeneric(
          rewriter, loc, accTensorType, m,
          [](OpBuilder &b, Location l, ValueRange a) {
            Type t = a[0].getType();
            Value absM = math::AbsFOp::create(b, l, a[0]);
            Value inf = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                              absM, lowestConst(b, l, t, true));
            return arith::SelectOp::create(b, l, inf, cst(b, l, t, 0), a[0]);
          });
    }

    Value init;
    if (Kind == ReduceKind::Max)
      init = lowestConst(rewriter, loc, accType);
    else if (Kind == ReduceKind::Min)
      init = lowestConst(rewriter, loc, accType, /*highest=*/true);
    else
      init = cst(rewriter, loc, accType, Kind == ReduceKind::Prod ? 1 : 0);

    SmallVector<Value> inputs{x};
    if (shift)
      inputs.push_back(shift);
    Value acc = buildReduction(
        rewriter, loc, inputs, axes, init,
        [](OpBuilder &b, Location l, ValueRange e, Value acc) -> Value {
          Value v = e[0];
          switch (Kind) {
          case ReduceKind::Max:
            return maxOf(b, l, acc, v);
          case ReduceKind::Min:
            return minOf(b, l, acc, v);
          case ReduceKind::Prod:
            return mul(b, l, acc, v);
          case ReduceKind::L1:
            v = isFloat(v) ? (Value)math::AbsFOp::create(b, l, v)
                           : (Value)math::AbsIOp::create(b, l, v);
            break;
          case ReduceKind::L2:
          case ReduceKind::SumSquare:
            v = mul(b, l, v, v);
            break;
          case ReduceKind::LogSumExp:
            v = math::ExpOp::create(b, l, sub(b, l, v, e[1]));
            break;
          default:
            break;
          }
          return add(b, l, acc, v);
        });

    bool needsFinish = accType != elemType || Kind == ReduceKind::Mean ||
                       Kind == ReduceKind::L2 || Kind == ReduceKind::LogSum ||
                       Kind == ReduceKind::LogSumExp;
    Value result = acc;
    if (needsFinish) {
      SmallVector<Value> finishInputs{acc};
      if (shift)
        finishInputs.push_back(shift);
      result = buildComputeGeneric(
          rewriter, loc, RankedTensorType::get(reducedShape, elemType),
          finishInputs, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Value v = a[0];
            Type t = v.getType();
            switch (Kind) {
            case ReduceKind::Mean:
              if (isFloat(v))
                return divF(b, l, v, cst(b, l, t, count));
              // An empty integer mean is 0 rather than a division by zero.
              return arith::DivSIOp::create(
                  b, l, v, cst(b, l, t, std::max<int64_t>(count, 1)));
            case ReduceKind::L2:
              return math::SqrtOp::create(b, l, v);
            case ReduceKind::LogSum:
              return math::LogOp::create(b, l, v);
            case ReduceKind::LogSumExp:
              return add(b, l, a[1], math::LogOp::create(b, l, v));
            default:
              return v;
            }
          });
    }
    if (op.getKeepdims())
      result = expandReducedDims(rewriter, loc, result, resultType, axes);
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// argmax / argmin
//===----------------------------------------------------------------------===//

template <typename OpTy, bool IsMax>
struct ArgReduceLowering : OpConversionPattern<OpTy> {
  using Base = OpConversionPattern<OpTy>;
  using Base::Base;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto inType = cast<RankedTensorType>(x.getType());
    int64_t axis = op.getAxis();
    if (inType.getDimSize(axis) == 0)
      return rewriter.notifyMatchFailure(op,
                                         "arg-reduction over an empty axis");
    bool last = op.getSelectLastIndex();
    // NaN wins both argmax and argmin, as numpy (the ONNX reference) does.
    auto [val, idx] = buildArgSelect(
        rewriter, loc, x, axis, /*prevValue=*/{}, /*prevIndex=*/{},
        [&](OpBuilder &b, Location l, Value xv, Value xi, Value bv, Value bi) {
          Value tie = arith::CmpIOp::create(b, l,
                                            last ? arith::CmpIPredicate::sgt
                                                 : arith::CmpIPredicate::slt,
                                            xi, bi);
          return precedesOrTies(b, l, xv, bv, /*descending=*/IsMax,
                                /*nanFirst=*/true, tie);
        });
    (void)val;
    Value result = idx;
    if (op.getKeepdims())
      result = expandReducedDims(
          rewriter, loc, result,
          cast<RankedTensorType>(op.getResult().getType()), {axis});
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// softmax / log_softmax
//===----------------------------------------------------------------------===//

template <typename OpTy, bool IsLog>
struct SoftmaxLowering : OpConversionPattern<OpTy> {
  using Base = OpConversionPattern<OpTy>;
  using Base::Base;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getInput();
    auto inType = cast<RankedTensorType>(x.getType());
    unsigned rank = inType.getRank();
    Type accType = computeType(inType.getElementType());
    // A rank-0 softmax normalizes over nothing (the result is 1, or 0).
    SmallVector<int64_t> axes;
    if (rank > 0)
      axes.push_back(op.getAxis());

    Value m = buildReduction(rewriter, loc, x, axes,
                             lowestConst(rewriter, loc, accType),
                             [](OpBuilder &b, Location l, ValueRange e,
                                Value acc) { return maxOf(b, l, acc, e[0]); });
    Value s = buildReduction(
        rewriter, loc, {x, m}, axes, cst(rewriter, loc, accType, 0),
        [](OpBuilder &b, Location l, ValueRange e, Value acc) {
          return add(b, l, acc,
                     math::ExpOp::create(b, l, sub(b, l, e[0], e[1])));
        });
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap red = dropDimsMap(ctx, rank, axes);
    Value y = buildMappedGeneric(
        rewriter, loc, inType, {x, m, s}, {id, red, red},
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value d = sub(b, l, a[0], a[1]);
          if (IsLog)
            return sub(b, l, d, math::LogOp::create(b, l, a[2]));
          return divF(b, l, math::ExpOp::create(b, l, d), a[2]);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// rms_norm / layer_norm
//===----------------------------------------------------------------------===//

/// `sum(x)` or `sum(x^2)` over the normalized dims, in the compute type.
Value sumOver(OpBuilder &b, Location loc, ValueRange inputs,
              ArrayRef<int64_t> axes, Type accType, CombineFn combine) {
  return buildReduction(b, loc, inputs, axes, cst(b, loc, accType, 0), combine);
}

struct RmsNormLowering : OpConversionPattern<sinter::RmsNormOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::RmsNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getInput(), scale = adaptor.getScale();
    auto inType = cast<RankedTensorType>(x.getType());
    unsigned rank = inType.getRank();
    Type accType = computeType(inType.getElementType());
    SmallVector<int64_t> axes = trailingAxes(op.getAxis(), rank);
    int64_t count = countOf(inType.getShape(), axes);
    double eps = op.getEpsilonAttr().getValueAsDouble();

    Value ss = sumOver(rewriter, loc, x, axes, accType,
                       [](OpBuilder &b, Location l, ValueRange e, Value acc) {
                         return add(b, l, acc, mul(b, l, e[0], e[0]));
                       });
    auto statType =
        RankedTensorType::get(dropDims(inType.getShape(), axes), accType);
    Value rms = buildComputeGeneric(
        rewriter, loc, statType, ss,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value mean = divF(b, l, a[0], cst(b, l, accType, count));
          return math::SqrtOp::create(b, l,
                                      add(b, l, mean, cst(b, l, accType, eps)));
        });
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    Value y = buildMappedGeneric(
        rewriter, loc, inType, {x, rms, scale},
        {id, dropDimsMap(ctx, rank, axes),
         broadcastMap(ctx, cast<RankedTensorType>(scale.getType()).getShape(),
                      inType.getShape())},
        [](OpBuilder &b, Location l, ValueRange a) {
          return mul(b, l, divF(b, l, a[0], a[1]), a[2]);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct LayerNormLowering : OpConversionPattern<sinter::LayerNormOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getInput(), scale = adaptor.getScale(),
          bias = adaptor.getBias();
    auto inType = cast<RankedTensorType>(x.getType());
    unsigned rank = inType.getRank();
    Type accType = computeType(inType.getElementType());
    SmallVector<int64_t> axes = trailingAxes(op.getAxis(), rank);
    int64_t count = countOf(inType.getShape(), axes);
    double eps = op.getEpsilonAttr().getValueAsDouble();
    SmallVector<int64_t> statShape = dropDims(inType.getShape(), axes);
    auto statType = RankedTensorType::get(statShape, accType);

    // Two passes (mean, then the mean of squared deviations) as the ONNX
    // reference does; E[x^2] - E[x]^2 cancels badly.
    Value sum = sumOver(rewriter, loc, x, axes, accType,
                        [](OpBuilder &b, Location l, ValueRange e, Value acc) {
                          return add(b, l, acc, e[0]);
                        });
    Value mean = buildComputeGeneric(
        rewriter, loc, statType, sum,
        [&](OpBuilder &b, Location l, ValueRange a) {
          return divF(b, l, a[0], cst(b, l, accType, count));
        });
    Value sq = sumOver(rewriter, loc, {x, mean}, axes, accType,
                       [](OpBuilder &b, Location l, ValueRange e, Value acc) {
                         Value d = sub(b, l, e[0], e[1]);
                         return add(b, l, acc, mul(b, l, d, d));
                       });
    Value inv = buildComputeGeneric(
        rewriter, loc, statType, sq,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value var = divF(b, l, a[0], cst(b, l, accType, count));
          Value sd = math::SqrtOp::create(
              b, l, add(b, l, var, cst(b, l, accType, eps)));
          return divF(b, l, cst(b, l, accType, 1), sd);
        });

    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap red = dropDimsMap(ctx, rank, axes);
    auto bcast = [&](Value v) {
      return broadcastMap(ctx, cast<RankedTensorType>(v.getType()).getShape(),
                          inType.getShape());
    };
    SmallVector<Value> inputs{x, mean, inv, scale};
    SmallVector<AffineMap> maps{id, red, red, bcast(scale)};
    if (bias) {
      inputs.push_back(bias);
      maps.push_back(bcast(bias));
    }
    Value y = buildMappedGeneric(
        rewriter, loc, inType, inputs, maps,
        [](OpBuilder &b, Location l, ValueRange a) {
          Value v = mul(b, l, mul(b, l, sub(b, l, a[0], a[1]), a[2]), a[3]);
          return a.size() > 4 ? add(b, l, v, a[4]) : v;
        });

    // The statistics keep the normalized dims as size 1.
    auto finishStat = [&](Value stat, Value result) {
      auto type = cast<RankedTensorType>(result.getType());
      Type elem = type.getElementType();
      if (elem != accType)
        stat = buildComputeGeneric(
            rewriter, loc, RankedTensorType::get(statShape, elem), stat,
            [](OpBuilder &, Location, ValueRange a) { return a[0]; });
      return expandReducedDims(rewriter, loc, stat, type, axes);
    };
    Value meanOut = finishStat(mean, op.getMean());
    Value invOut = finishStat(inv, op.getInvStdDev());
    rewriter.replaceOp(op, {y, meanOut, invOut});
    return success();
  }
};

} // namespace

void sinter::populateReductionToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<
      ReduceLowering<ReduceSumOp, ReduceKind::Sum>,
      ReduceLowering<ReduceMeanOp, ReduceKind::Mean>,
      ReduceLowering<ReduceMaxOp, ReduceKind::Max>,
      ReduceLowering<ReduceMinOp, ReduceKind::Min>,
      ReduceLowering<ReduceProdOp, ReduceKind::Prod>,
      ReduceLowering<ReduceL1Op, ReduceKind::L1>,
      ReduceLowering<ReduceL2Op, ReduceKind::L2>,
      ReduceLowering<ReduceSumSquareOp, ReduceKind::SumSquare>,
      ReduceLowering<ReduceLogSumOp, ReduceKind::LogSum>,
      ReduceLowering<ReduceLogSumExpOp, ReduceKind::LogSumExp>,
      ArgReduceLowering<ArgMaxOp, true>, ArgReduceLowering<ArgMinOp, false>,
      SoftmaxLowering<SoftmaxOp, false>, SoftmaxLowering<LogSoftmaxOp, true>,
      RmsNormLowering, LayerNormLowering>(ctx);
  populateScanAndSortPatterns(patterns);
}
