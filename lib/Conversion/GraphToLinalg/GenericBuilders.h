//===- GenericBuilders.h - small builders for the linalg lowerings -*- C++
//-*-===//
//
// Helpers shared by the linear algebra, data movement and LLM op lowerings:
// the accumulation type of an element type, scalar conversions inside
// linalg bodies, numpy broadcasting maps and a terse linalg.generic builder.
// Header-only so each lowering file stays self-contained.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_CONVERSION_GRAPHTOLINALG_GENERICBUILDERS_H
#define SINTER_LIB_CONVERSION_GRAPHTOLINALG_GENERICBUILDERS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"

#include <limits>

namespace sinter::gen {

using mlir::AffineExpr;
using mlir::AffineMap;
using mlir::Location;
using mlir::OpBuilder;
using mlir::RankedTensorType;
using mlir::Type;
using mlir::Value;
using mlir::ValueRange;
using IterKind = mlir::utils::IteratorType;

inline bool isNarrowFloat(Type t) { return t.isF16() || t.isBF16(); }

/// The type in which an op computes: f16 and bf16 widen to f32 (rounded
/// once at the end, like the ONNX reference); other types compute in place.
inline Type accType(Type elt) {
  return isNarrowFloat(elt) ? Type(mlir::Float32Type::get(elt.getContext()))
                            : elt;
}

/// Scalar conversion between float types, integer types and index (signed).
inline Value convert(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  namespace arith = mlir::arith;
  auto fFrom = mlir::dyn_cast<mlir::FloatType>(from);
  auto fTo = mlir::dyn_cast<mlir::FloatType>(to);
  if (fFrom && fTo)
    return fFrom.getWidth() < fTo.getWidth()
               ? arith::ExtFOp::create(b, loc, to, v).getResult()
               : arith::TruncFOp::create(b, loc, to, v).getResult();
  if (from.isIndex() || to.isIndex())
    return arith::IndexCastOp::create(b, loc, to, v);
  if (fFrom)
    return arith::FPToSIOp::create(b, loc, to, v);
  if (fTo)
    return from.isInteger(1)
               ? arith::UIToFPOp::create(b, loc, to, v).getResult()
               : arith::SIToFPOp::create(b, loc, to, v).getResult();
  unsigned wf = from.getIntOrFloatBitWidth(), wt = to.getIntOrFloatBitWidth();
  if (wf < wt)
    return from.isInteger(1)
               ? arith::ExtUIOp::create(b, loc, to, v).getResult()
               : arith::ExtSIOp::create(b, loc, to, v).getResult();
  return arith::TruncIOp::create(b, loc, to, v);
}

/// A float or integer constant of scalar type `t`.
inline Value constant(OpBuilder &b, Location loc, Type t, double value) {
  if (auto ft = mlir::dyn_cast<mlir::FloatType>(t))
    return mlir::arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, value));
  if (t.isIndex())
    return mlir::arith::ConstantIndexOp::create(b, loc, (int64_t)value);
  return mlir::arith::ConstantOp::create(b, loc,
                                         b.getIntegerAttr(t, (int64_t)value));
}

inline Value negInf(OpBuilder &b, Location loc, Type t) {
  return constant(b, loc, t, -std::numeric_limits<double>::infinity());
}

inline Value cstIndex(OpBuilder &b, Location loc, int64_t v) {
  return mlir::arith::ConstantIndexOp::create(b, loc, v);
}

inline Value emptyTensor(OpBuilder &b, Location loc,
                         llvm::ArrayRef<int64_t> shape, Type elt) {
  return mlir::tensor::EmptyOp::create(b, loc, shape, elt);
}

/// A tensor of `shape` filled with `value` (linalg.fill of tensor.empty).
inline Value filledTensor(OpBuilder &b, Location loc,
                          llvm::ArrayRef<int64_t> shape, Type elt,
                          double value) {
  Value init = emptyTensor(b, loc, shape, elt);
  Value c = constant(b, loc, elt, value);
  return mlir::linalg::FillOp::create(b, loc, c, init).getResult(0);
}

inline llvm::SmallVector<IterKind> iterators(unsigned parallel,
                                             unsigned reduction = 0) {
  llvm::SmallVector<IterKind> it(parallel, IterKind::parallel);
  it.append(reduction, IterKind::reduction);
  return it;
}

/// Builds a linalg.generic with one or more inits and returns its results.
inline llvm::SmallVector<Value>
generic(OpBuilder &b, Location loc, ValueRange inputs, ValueRange inits,
        llvm::ArrayRef<AffineMap> maps, llvm::ArrayRef<IterKind> iters,
        llvm::function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  auto op = mlir::linalg::GenericOp::create(b, loc, inits.getTypes(), inputs,
                                            inits, maps, iters, body);
  return llvm::SmallVector<Value>(op.getResults());
}

/// Single-init variant.
inline Value
generic1(OpBuilder &b, Location loc, ValueRange inputs, Value init,
         llvm::ArrayRef<AffineMap> maps, llvm::ArrayRef<IterKind> iters,
         llvm::function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  return generic(b, loc, inputs, ValueRange{init}, maps, iters, body)[0];
}

inline void yield(OpBuilder &b, Location loc, ValueRange v) {
  mlir::linalg::YieldOp::create(b, loc, v);
}

/// The map from `numLoops` loops (the first `outRank` of which index an
/// output of rank `outRank`) to an operand that numpy-broadcasts to that
/// output: dimensions are aligned from the right, size-1 dims read index 0.
inline AffineMap broadcastMap(mlir::MLIRContext *ctx,
                              llvm::ArrayRef<int64_t> operand,
                              llvm::ArrayRef<int64_t> out, unsigned numLoops) {
  llvm::SmallVector<AffineExpr> exprs;
  size_t lead = out.size() - operand.size();
  for (size_t i = 0; i < operand.size(); ++i) {
    if (operand[i] == 1 && out[lead + i] != 1)
      exprs.push_back(mlir::getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(mlir::getAffineDimExpr(lead + i, ctx));
  }
  return AffineMap::get(numLoops, 0, exprs, ctx);
}

/// The map selecting loop dims `dims` (by position) of `numLoops` loops.
inline AffineMap dimsMap(mlir::MLIRContext *ctx, unsigned numLoops,
                         llvm::ArrayRef<unsigned> dims) {
  return AffineMap::getMultiDimMapWithTargets(numLoops, dims, ctx);
}

/// Elementwise conversion of a whole tensor to element type `to`.
inline Value convertTensor(OpBuilder &b, Location loc, Value t, Type to) {
  auto ty = mlir::cast<RankedTensorType>(t.getType());
  if (ty.getElementType() == to)
    return t;
  unsigned r = ty.getRank();
  AffineMap id = AffineMap::getMultiDimIdentityMap(r, b.getContext());
  Value init = emptyTensor(b, loc, ty.getShape(), to);
  return generic1(b, loc, t, init, {id, id}, iterators(r),
                  [&](OpBuilder &nb, Location l, ValueRange args) {
                    yield(nb, l, convert(nb, l, args[0], to));
                  });
}

/// Converts an integer index read from a tensor to `index`, counting a
/// negative one from the end of a dimension of size `dim` (ONNX gather and
/// scatter rules).
inline Value wrapIndex(OpBuilder &b, Location loc, Value idx, int64_t dim) {
  Value i = convert(b, loc, idx, b.getIndexType());
  Value zero = cstIndex(b, loc, 0);
  Value isNeg = mlir::arith::CmpIOp::create(
      b, loc, mlir::arith::CmpIPredicate::slt, i, zero);
  Value plus = mlir::arith::AddIOp::create(b, loc, i, cstIndex(b, loc, dim));
  return mlir::arith::SelectOp::create(b, loc, isNeg, plus, i);
}

/// Non-negative remainder (Python's `%`) of index values, for `n > 0`.
inline Value floorMod(OpBuilder &b, Location loc, Value i, int64_t n) {
  Value nv = cstIndex(b, loc, n);
  Value r = mlir::arith::RemSIOp::create(b, loc, i, nv);
  Value isNeg = mlir::arith::CmpIOp::create(
      b, loc, mlir::arith::CmpIPredicate::slt, r, cstIndex(b, loc, 0));
  Value plus = mlir::arith::AddIOp::create(b, loc, r, nv);
  return mlir::arith::SelectOp::create(b, loc, isNeg, plus, r);
}

/// a + b, a * b for float or integer scalars.
inline Value add(OpBuilder &b, Location loc, Value x, Value y) {
  if (mlir::isa<mlir::FloatType>(x.getType()))
    return mlir::arith::AddFOp::create(b, loc, x, y);
  return mlir::arith::AddIOp::create(b, loc, x, y);
}
inline Value mul(OpBuilder &b, Location loc, Value x, Value y) {
  if (mlir::isa<mlir::FloatType>(x.getType()))
    return mlir::arith::MulFOp::create(b, loc, x, y);
  return mlir::arith::MulIOp::create(b, loc, x, y);
}

} // namespace sinter::gen

#endif // SINTER_LIB_CONVERSION_GRAPHTOLINALG_GENERICBUILDERS_H
