//===- TensorShapes.h - operands of ONNX data-movement ops ------*- C++ -*-===//
//
// Both the handlers (TensorOps.cpp) and the constant folder need the result
// shape of Reshape, Squeeze, Slice, ... and the operands that decide it
// (attributes before some opset, constant inputs after). These readers never
// emit a diagnostic: they set `why` and fail, so that the folder can try a
// node quietly and leave the error to the handler. `since` is the
// since-version of the handler that applies to the node.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_IMPORT_ONNX_TENSORSHAPES_H
#define SINTER_LIB_IMPORT_ONNX_TENSORSHAPES_H

#include "ImporterInternals.h"

namespace sinter::onnx_import {

/// The integer elements of constant input `i`, named `what` in `why`.
FailureOr<llvm::SmallVector<int64_t>> readConstInts(const NodeContext &ctx,
                                                    unsigned i,
                                                    llvm::StringRef what,
                                                    std::string &why);

/// Reshape's target: 0 copies the input dimension (unless `allowZero`), one
/// -1 is inferred.
FailureOr<shape::Shape> reshapeShape(llvm::ArrayRef<int64_t> in,
                                     llvm::ArrayRef<int64_t> spec,
                                     bool allowZero, std::string &why);

/// Result shapes of the nodes that only reshape input 0.
FailureOr<shape::Shape> reshapeResult(const NodeContext &ctx, int since,
                                      std::string &why);
FailureOr<shape::Shape> squeezeResult(const NodeContext &ctx, int since,
                                      std::string &why);
FailureOr<shape::Shape> unsqueezeResult(const NodeContext &ctx, int since,
                                        std::string &why);
FailureOr<shape::Shape> flattenResult(const NodeContext &ctx, std::string &why);

/// A Slice resolved per input dimension: result element i of dim d reads
/// input element start[d] + i * step[d]; step may be negative.
struct SliceDims {
  llvm::SmallVector<int64_t> start, size, step;
};
FailureOr<SliceDims> sliceDims(const NodeContext &ctx, int since,
                               std::string &why);

/// Transpose's perm (default: reversed dimensions), checked.
FailureOr<llvm::SmallVector<int64_t>> transposePerm(const NodeContext &ctx,
                                                    std::string &why);

/// Concat's normalized axis and result shape; checks every input.
FailureOr<shape::Shape> concatResult(const NodeContext &ctx, int64_t &axis,
                                     std::string &why);

/// Gather's normalized axis and result shape.
FailureOr<shape::Shape> gatherResult(const NodeContext &ctx, int64_t &axis,
                                     std::string &why);

/// Expand's result: the broadcast of the input with the constant shape.
FailureOr<shape::Shape> expandResult(const NodeContext &ctx, std::string &why);

} // namespace sinter::onnx_import

#endif // SINTER_LIB_IMPORT_ONNX_TENSORSHAPES_H
