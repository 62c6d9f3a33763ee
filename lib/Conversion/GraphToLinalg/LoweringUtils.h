//===- LoweringUtils.h - shared graph-to-linalg helpers ---------*- C++ -*-===//
//
// Builders used by several op families: destination tensors, numpy
// broadcasting indexing maps, elementwise linalg.generic construction, and
// the f16/bf16 -> f32 compute convention (the ONNX reference computes these
// types in float32 and rounds once per op).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_CONVERSION_GRAPHTOLINALG_LOWERINGUTILS_H
#define SINTER_LIB_CONVERSION_GRAPHTOLINALG_LOWERINGUTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace sinter::lowering {

/// Scalar arithmetic on a float or integer element, for generic bodies.
inline bool isFloat(mlir::Value v) { return mlir::isa<mlir::FloatType>(v.getType()); }
inline mlir::Value add(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                       mlir::Value y) {
  if (isFloat(x))
    return mlir::arith::AddFOp::create(b, loc, x, y);
  return mlir::arith::AddIOp::create(b, loc, x, y);
}
inline mlir::Value sub(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                       mlir::Value y) {
  if (isFloat(x))
    return mlir::arith::SubFOp::create(b, loc, x, y);
  return mlir::arith::SubIOp::create(b, loc, x, y);
}
inline mlir::Value mul(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                       mlir::Value y) {
  if (isFloat(x))
    return mlir::arith::MulFOp::create(b, loc, x, y);
  return mlir::arith::MulIOp::create(b, loc, x, y);
}
inline mlir::Value divF(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                        mlir::Value y) {
  return mlir::arith::DivFOp::create(b, loc, x, y);
}

/// `tensor.empty` of a static shape.
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        llvm::ArrayRef<int64_t> shape, mlir::Type elemType);
/// `tensor.empty` shaped like `like`, with its element type or `elemType`.
mlir::Value emptyLike(mlir::OpBuilder &b, mlir::Location loc, mlir::Value like,
                      mlir::Type elemType = {});
/// `linalg.fill` of a fresh tensor with a scalar value.
mlir::Value filledTensor(mlir::OpBuilder &b, mlir::Location loc,
                         llvm::ArrayRef<int64_t> shape, mlir::Value scalar);

/// Scalar constants of any sinter element type (float or integer/i1).
mlir::Value scalarConst(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type,
                        double value);
/// -inf for floats, the most negative integer otherwise (or +inf / max when
/// `highest`): the identity of max (min) reductions.
mlir::Value lowestConst(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type,
                        bool highest = false);

/// f16/bf16 compute in f32; every other type computes as itself.
mlir::Type computeType(mlir::Type elemType);
/// Extends an f16/bf16 scalar to f32 (identity otherwise).
mlir::Value toCompute(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);
/// Rounds a compute-type float scalar back to `elemType` (identity when equal).
mlir::Value fromCompute(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                        mlir::Type elemType);
/// ONNX Cast of one scalar: float -> int truncates toward zero, to i1 is
/// `!= 0`, from i1 gives 0/1, float narrowing rounds to nearest even. f16 and
/// bf16 go through f32 (so no conversion needs a soft-float libcall).
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                          mlir::Type to);

/// Map from the iteration space of `resultShape` to an operand of
/// `operandShape` under numpy broadcasting: dims aligned right, missing
/// leading dims dropped, size-1 dims that stretch read index 0.
mlir::AffineMap broadcastMap(mlir::MLIRContext *ctx,
                             llvm::ArrayRef<int64_t> operandShape,
                             llvm::ArrayRef<int64_t> resultShape);
/// Map from a rank-`rank` space that drops the dims in `dropped` (for reduced
/// tensors read or written inside a reduction).
mlir::AffineMap dropDimsMap(mlir::MLIRContext *ctx, unsigned rank,
                            llvm::ArrayRef<int64_t> dropped);

/// A body computing one result element from the input elements.
using ScalarFn = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// One parallel linalg.generic producing `resultType` from `inputs`, each
/// broadcast numpy-style to the result shape. `body` gets the raw input
/// elements and returns a value of the result element type.
mlir::Value buildBroadcastGeneric(mlir::OpBuilder &b, mlir::Location loc,
                                  mlir::RankedTensorType resultType,
                                  mlir::ValueRange inputs, ScalarFn body);

/// As buildBroadcastGeneric, but `body` sees f16/bf16 inputs extended to f32
/// and may return f32 for an f16/bf16 result, which is then rounded once.
mlir::Value buildComputeGeneric(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::RankedTensorType resultType,
                                mlir::ValueRange inputs, ScalarFn body);

/// A parallel linalg.generic producing `resultType` from `inputs` read
/// through `inputMaps`; `body` gets compute-type elements (as
/// buildComputeGeneric).
mlir::Value buildMappedGeneric(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::RankedTensorType resultType,
                               mlir::ValueRange inputs,
                               llvm::ArrayRef<mlir::AffineMap> inputMaps,
                               ScalarFn body);

/// Next accumulator from compute-type input elements and the accumulator.
using CombineFn = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange, mlir::Value)>;

/// A linalg.generic over the shape of `inputs[0]` that reduces `axes` into a
/// tensor of the remaining dims, initialised with the scalar `init` (whose
/// type is the accumulator type). Further inputs have the reduced shape and
/// are read once per reduced position. `combine` gets every input element
/// extended to its compute type.
mlir::Value buildReduction(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::ValueRange inputs,
                           llvm::ArrayRef<int64_t> axes, mlir::Value init,
                           CombineFn combine);

/// Whether the (value, i64 index) pair `a` comes before `b` in a strict
/// total order; values arrive in their compute type.
using PrecedesFn = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::Value av, mlir::Value ai,
    mlir::Value bv, mlir::Value bi)>;

/// For every position of the dims other than `axis`, selects the element of
/// `x` along `axis` that comes first under `precedes`; with `prevValue` and
/// `prevIndex` (tensors of the reduced shape, index -1 meaning none), only
/// elements that come after that previous pick are candidates, which makes
/// repeated calls walk the order (topk). Returns the picked values (in the
/// compute type of x's element type) and i64 indices (-1 where there was no
/// candidate).
std::pair<mlir::Value, mlir::Value>
buildArgSelect(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
               int64_t axis, mlir::Value prevValue, mlir::Value prevIndex,
               PrecedesFn precedes);

/// `x` strictly before `y` in ascending (or `descending`) order with NaNs
/// placed first (`nanFirst`) or last, or else equal and `tie` holds. NaNs
/// count as equal to each other.
mlir::Value precedesOrTies(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value x, mlir::Value y, bool descending,
                           bool nanFirst, mlir::Value tie);

/// Reshapes `reduced` (the input shape without `axes`) to `keptType` (the
/// input shape with `axes` set to 1) with tensor.expand_shape.
mlir::Value expandReducedDims(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Value reduced,
                              mlir::RankedTensorType keptType,
                              llvm::ArrayRef<int64_t> axes);

/// The inverse of expandReducedDims: drops the unit dims `axes` of `kept`
/// with tensor.collapse_shape.
mlir::Value collapseKeptDims(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value kept, llvm::ArrayRef<int64_t> axes);

/// The shape left after removing `axes` (sorted) from `shape`.
llvm::SmallVector<int64_t> dropDims(llvm::ArrayRef<int64_t> shape,
                                    llvm::ArrayRef<int64_t> axes);

llvm::SmallVector<mlir::utils::IteratorType>
iteratorsWithReductions(unsigned rank, llvm::ArrayRef<int64_t> reductionDims);

} // namespace sinter::lowering

namespace sinter {
/// cumsum and topk (ScanAndSort.cpp); part of
/// populateReductionToLinalgPatterns.
void populateScanAndSortPatterns(mlir::RewritePatternSet &patterns);
} // namespace sinter

#endif // SINTER_LIB_CONVERSION_GRAPHTOLINALG_LOWERINGUTILS_H
