//===- MoeRouter.h - the router's selection keys, shared ---------*- C++ -*-===//
//
// The MoE router template (MoeRouter.cpp) and the expert GEMV that folds
// the router into its blocks (ExpertGemvRouter.cpp) select the top k with
// the same 64-bit keys, so that both break ties as ONNX TopK does.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_MOEROUTER_H
#define SINTER_LIB_TARGET_CUDA_MOEROUTER_H

#include "mlir/IR/Builders.h"

#include <utility>

namespace sinter::cuda::moe_router {

/// The marker of the lowered sinter.moe_router generic (its value is k).
constexpr llvm::StringLiteral kMarker = "sinter.moe_router";

/// The selection key of `v` (f32) at column `col` (i32): unsigned order on
/// keys is TopK's order on (value, index): larger value first, NaN first,
/// lower index on ties (NaNs made one NaN, -0 made +0). Every key of an
/// element is above 0.
mlir::Value selectionKey(mlir::OpBuilder &b, mlir::Location l, mlir::Value v,
                         mlir::Value col);
/// The value (f32) and column (i32) of a key.
std::pair<mlir::Value, mlir::Value> fromKey(mlir::OpBuilder &b,
                                            mlir::Location l, mlir::Value key);

/// A lane's logit of one 32-column slot: its value (the logits' element
/// type), its column (index) and, for the last, partial slot, whether the
/// column is inside the row (null when every lane's is).
struct LaneLogit {
  mlir::Value value, col, ok;
};
/// Lane `lane`'s logits of the row at `rowIvs`: columns lane, lane + 32,
/// ... below `e` (0 loaded nowhere past the row's end).
llvm::SmallVector<LaneLogit> loadLaneLogits(mlir::OpBuilder &b,
                                            mlir::Location l,
                                            mlir::Value logits,
                                            mlir::ValueRange rowIvs,
                                            mlir::Value lane, int64_t e);
/// The largest of `keys` below `prev` (unsigned), or `zeroKey`: one lane's
/// candidate of a selection round.
mlir::Value bestKeyBelow(mlir::OpBuilder &b, mlir::Location l,
                         mlir::ArrayRef<mlir::Value> keys, mlir::Value prev,
                         mlir::Value zeroKey);

} // namespace sinter::cuda::moe_router

#endif // SINTER_LIB_TARGET_CUDA_MOEROUTER_H
