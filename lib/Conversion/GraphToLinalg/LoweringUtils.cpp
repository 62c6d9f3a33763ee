//===- LoweringUtils.cpp - helpers shared by the graph-to-linalg patterns -===//

#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"

using namespace mlir;

namespace sinter::lowering {

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elemType) {
  return tensor::EmptyOp::create(b, loc, shape, elemType);
}

Value emptyLike(OpBuilder &b, Location loc, Value like, Type elemType) {
  auto type = cast<RankedTensorType>(like.getType());
  return emptyTensor(b, loc, type.getShape(),
                     elemType ? elemType : type.getElementType());
}

Value filledTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Value scalar) {
  Value empty = emptyTensor(b, loc, shape, scalar.getType());
  return linalg::FillOp::create(b, loc, ValueRange{scalar}, ValueRange{empty})
      .getResult(0);
}

Value scalarConst(OpBuilder &b, Location loc, Type type, double value) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, value));
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

Value lowestConst(OpBuilder &b, Location loc, Type type, bool highest) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(ft, APFloat::getInf(ft.getFloatSemantics(), !highest)));
  unsigned width = type.getIntOrFloatBitWidth();
  APInt v = highest ? APInt::getSignedMaxValue(width)
                    : APInt::getSignedMinValue(width);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, v));
}

static bool isHalfFloat(Type t) { return t.isF16() || t.isBF16(); }

Type computeType(Type elemType) {
  if (isHalfFloat(elemType))
    return Float32Type::get(elemType.getContext());
  return elemType;
}

Value toCompute(OpBuilder &b, Location loc, Value v) {
  if (!isHalfFloat(v.getType()))
    return v;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
}

Value fromCompute(OpBuilder &b, Location loc, Value v, Type elemType) {
  if (v.getType() == elemType)
    return v;
  return convertScalar(b, loc, v, elemType);
}

Value convertScalar(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  Type f32 = b.getF32Type();
  auto fromF = dyn_cast<FloatType>(from);
  auto toF = dyn_cast<FloatType>(to);
  if (fromF && toF) {
    // 16-bit types always pass through f32: f16 <-> bf16 has no direct
    // conversion, and f64 -> 16-bit would need a soft-float libcall.
    if (isHalfFloat(to) && !from.isF32())
      v = convertScalar(b, loc, v, f32);
    if (isHalfFloat(from) && !to.isF32())
      return convertScalar(b, loc, convertScalar(b, loc, v, f32), to);
    if (v.getType() == to)
      return v;
    if (v.getType().getIntOrFloatBitWidth() < toF.getWidth())
      return arith::ExtFOp::create(b, loc, to, v);
    return arith::TruncFOp::create(b, loc, to, v);
  }
  if (fromF) {
    if (to.isInteger(1)) // NaN counts as true, like bool(nan) in numpy
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v,
                                   scalarConst(b, loc, from, 0.0));
    return arith::FPToSIOp::create(b, loc, to, toCompute(b, loc, v));
  }
  if (toF) {
    Type mid = isHalfFloat(to) ? f32 : to;
    Value r = from.isInteger(1)
                  ? (Value)arith::UIToFPOp::create(b, loc, mid, v)
                  : (Value)arith::SIToFPOp::create(b, loc, mid, v);
    return convertScalar(b, loc, r, to);
  }
  unsigned fromW = from.getIntOrFloatBitWidth(),
           toW = to.getIntOrFloatBitWidth();
  if (toW == 1)
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
                                 scalarConst(b, loc, from, 0));
  if (fromW == 1)
    return arith::ExtUIOp::create(b, loc, to, v);
  if (fromW < toW)
    return arith::ExtSIOp::create(b, loc, to, v);
  return arith::TruncIOp::create(b, loc, to, v);
}

AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> operandShape,
                       ArrayRef<int64_t> resultShape) {
  unsigned rank = resultShape.size();
  unsigned lead = rank - operandShape.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, size] : llvm::enumerate(operandShape)) {
    unsigned d = lead + i;
    if (size == 1 && resultShape[d] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(d, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

AffineMap dropDimsMap(MLIRContext *ctx, unsigned rank,
                      ArrayRef<int64_t> dropped) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d = 0; d < rank; ++d)
    if (!llvm::is_contained(dropped, d))
      exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

SmallVector<utils::IteratorType>
iteratorsWithReductions(unsigned rank, ArrayRef<int64_t> reductionDims) {
  SmallVector<utils::IteratorType> its(rank, utils::IteratorType::parallel);
  for (int64_t d : reductionDims)
    its[d] = utils::IteratorType::reduction;
  return its;
}

Value buildBroadcastGeneric(OpBuilder &b, Location loc,
                            RankedTensorType resultType, ValueRange inputs,
                            ScalarFn body) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = resultType.getShape();
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(
        ctx, cast<RankedTensorType>(in.getType()).getShape(), shape));
  maps.push_back(AffineMap::getMultiDimIdentityMap(shape.size(), ctx));
  Value init = emptyTensor(b, loc, shape, resultType.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
      iteratorsWithReductions(shape.size(), {}),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = body(nb, nl, args.drop_back());
        linalg::YieldOp::create(nb, nl, r);
      });
  return generic.getResult(0);
}

Value buildComputeGeneric(OpBuilder &b, Location loc,
                          RankedTensorType resultType, ValueRange inputs,
                          ScalarFn body) {
  Type elemType = resultType.getElementType();
  return buildBroadcastGeneric(
      b, loc, resultType, inputs,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> ext;
        for (Value a : args)
          ext.push_back(toCompute(nb, nl, a));
        return fromCompute(nb, nl, body(nb, nl, ext), elemType);
      });
}

Value buildMappedGeneric(OpBuilder &b, Location loc,
                         RankedTensorType resultType, ValueRange inputs,
                         ArrayRef<AffineMap> inputMaps, ScalarFn body) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = resultType.getShape();
  Type elemType = resultType.getElementType();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(AffineMap::getMultiDimIdentityMap(shape.size(), ctx));
  Value init = emptyTensor(b, loc, shape, elemType);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
      iteratorsWithReductions(shape.size(), {}),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> ext;
        for (Value a : args.drop_back())
          ext.push_back(toCompute(nb, nl, a));
        Value r = fromCompute(nb, nl, body(nb, nl, ext), elemType);
        linalg::YieldOp::create(nb, nl, r);
      });
  return generic.getResult(0);
}

Value buildReduction(OpBuilder &b, Location loc, ValueRange inputs,
                     ArrayRef<int64_t> axes, Value init, CombineFn combine) {
  MLIRContext *ctx = b.getContext();
  auto inType = cast<RankedTensorType>(inputs[0].getType());
  unsigned rank = inType.getRank();
  SmallVector<int64_t> reducedShape = dropDims(inType.getShape(), axes);
  AffineMap reducedMap = dropDimsMap(ctx, rank, axes);
  SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(rank, ctx)};
  for (size_t i = 1; i < inputs.size(); ++i)
    maps.push_back(reducedMap);
  maps.push_back(reducedMap);
  Value acc = filledTensor(b, loc, reducedShape, init);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{acc.getType()}, inputs, ValueRange{acc}, maps,
      iteratorsWithReductions(rank, axes),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> ext;
        for (Value a : args.drop_back())
          ext.push_back(toCompute(nb, nl, a));
        Value r = combine(nb, nl, ext, args.back());
        linalg::YieldOp::create(nb, nl, r);
      });
  return generic.getResult(0);
}

std::pair<Value, Value> buildArgSelect(OpBuilder &b, Location loc, Value x,
                                       int64_t axis, Value prevValue,
                                       Value prevIndex, PrecedesFn precedes) {
  MLIRContext *ctx = b.getContext();
  auto inType = cast<RankedTensorType>(x.getType());
  unsigned rank = inType.getRank();
  Type elemType = inType.getElementType();
  Type i64 = b.getI64Type();
  SmallVector<int64_t> rowShape = dropDims(inType.getShape(), {axis});
  AffineMap red = dropDimsMap(ctx, rank, {axis});
  SmallVector<Value> inputs{x};
  SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(rank, ctx)};
  if (prevValue) {
    inputs.append({prevValue, prevIndex});
    maps.append({red, red});
  }
  maps.append({red, red});
  // The running pick is kept in the compute type: a loop-carried bf16 value
  // makes the x86 backend call __truncsfbf2, which libgcc may not have.
  Value initVal = filledTensor(b, loc, rowShape,
                               scalarConst(b, loc, computeType(elemType), 0));
  Value initIdx = filledTensor(b, loc, rowShape, scalarConst(b, loc, i64, -1));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{initVal.getType(), initIdx.getType()}, inputs,
      ValueRange{initVal, initIdx}, maps, iteratorsWithReductions(rank, {axis}),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value bv = args[args.size() - 2], bi = args.back();
        Value xi = arith::IndexCastOp::create(
            nb, nl, i64, linalg::IndexOp::create(nb, nl, axis));
        Value none = scalarConst(nb, nl, i64, -1);
        Value xc = toCompute(nb, nl, args[0]);
        Value take = arith::OrIOp::create(
            nb, nl,
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, bi, none),
            precedes(nb, nl, xc, xi, bv, bi));
        if (prevValue) {
          Value pi = args[2];
          Value after = arith::OrIOp::create(
              nb, nl,
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, pi, none),
              precedes(nb, nl, toCompute(nb, nl, args[1]), pi, xc, xi));
          take = arith::AndIOp::create(nb, nl, take, after);
        }
        Value nv = arith::SelectOp::create(nb, nl, take, xc, bv);
        Value ni = arith::SelectOp::create(nb, nl, take, xi, bi);
        linalg::YieldOp::create(nb, nl, ValueRange{nv, ni});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

Value precedesOrTies(OpBuilder &b, Location loc, Value x, Value y,
                     bool descending, bool nanFirst, Value tie) {
  Value before, same;
  if (isa<FloatType>(x.getType())) {
    using P = arith::CmpFPredicate;
    auto cmp = [&](P p, Value l, Value r) -> Value {
      return arith::CmpFOp::create(b, loc, p, l, r);
    };
    Value xNan = cmp(P::UNO, x, x), yNan = cmp(P::UNO, y, y);
    Value ordered = cmp(descending ? P::OGT : P::OLT, x, y);
    Value t = scalarConst(b, loc, b.getI1Type(), 1);
    // (x is NaN and y is not) when NaNs go first, the reverse otherwise
    Value nanOrder =
        nanFirst ? arith::AndIOp::create(b, loc, xNan,
                                         arith::XOrIOp::create(b, loc, yNan, t))
                 : arith::AndIOp::create(
                       b, loc, yNan, arith::XOrIOp::create(b, loc, xNan, t));
    before = arith::OrIOp::create(b, loc, ordered, nanOrder);
    same = arith::OrIOp::create(b, loc, cmp(P::OEQ, x, y),
                                arith::AndIOp::create(b, loc, xNan, yNan));
  } else {
    using P = arith::CmpIPredicate;
    before = arith::CmpIOp::create(b, loc, descending ? P::sgt : P::slt, x, y);
    same = arith::CmpIOp::create(b, loc, P::eq, x, y);
  }
  return arith::OrIOp::create(b, loc, before,
                              arith::AndIOp::create(b, loc, same, tie));
}

/// The reassociation between a shape with `axes` kept as unit dims and the
/// shape without them: every other dim opens a group; an axis joins the group
/// before it, or the first group when it leads. It names the dropped dims
/// exactly, where a rank-reducing slice leaves them to be inferred (and
/// guessed wrong when other unit dims are around).
static SmallVector<ReassociationIndices>
reducedDimsReassociation(int64_t keptRank, ArrayRef<int64_t> axes) {
  SmallVector<ReassociationIndices> groups;
  SmallVector<int64_t> leading;
  for (int64_t d = 0; d < keptRank; ++d) {
    if (llvm::is_contained(axes, d)) {
      if (groups.empty())
        leading.push_back(d);
      else
        groups.back().push_back(d);
      continue;
    }
    groups.push_back(ReassociationIndices(leading.begin(), leading.end()));
    leading.clear();
    groups.back().push_back(d);
  }
  return groups;
}

Value expandReducedDims(OpBuilder &b, Location loc, Value reduced,
                        RankedTensorType keptType, ArrayRef<int64_t> axes) {
  if (reduced.getType() == keptType)
    return reduced;
  return tensor::ExpandShapeOp::create(
      b, loc, keptType, reduced,
      reducedDimsReassociation(keptType.getRank(), axes));
}

Value collapseKeptDims(OpBuilder &b, Location loc, Value kept,
                       ArrayRef<int64_t> axes) {
  auto keptType = cast<RankedTensorType>(kept.getType());
  auto reducedType = RankedTensorType::get(dropDims(keptType.getShape(), axes),
                                           keptType.getElementType());
  if (reducedType == keptType)
    return kept;
  return tensor::CollapseShapeOp::create(
      b, loc, reducedType, kept,
      reducedDimsReassociation(keptType.getRank(), axes));
}

SmallVector<int64_t> dropDims(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> out;
  for (auto [d, size] : llvm::enumerate(shape))
    if (!llvm::is_contained(axes, (int64_t)d))
      out.push_back(size);
  return out;
}

} // namespace sinter::lowering
