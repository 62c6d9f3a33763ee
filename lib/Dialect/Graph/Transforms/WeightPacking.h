//===- WeightPacking.h - constant weights and their layout ---*- C++ -*-===//
//
// Shared by sinter-form-linears and sinter-fuse-parallel-linears: a weight
// is "constant" when it is an arith.constant, a 2-D transpose of one, or a
// single-source sinter.pack_weights; such a weight is laid out anew either
// at compile time (inline DenseElementsAttr data) or, when any source is a
// resource (external data the compiler must not read), through a
// sinter.pack_weights plan that the runtime applies at load time.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_DIALECT_GRAPH_TRANSFORMS_WEIGHTPACKING_H
#define SINTER_LIB_DIALECT_GRAPH_TRANSFORMS_WEIGHTPACKING_H

#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/IR/PatternMatch.h"

namespace sinter {

/// One source of a packed weight: a constant, transposed (2-D) or not.
struct WeightSource {
  mlir::Value constant;    // result of an arith.constant
  mlir::ElementsAttr data; // its value
  bool transposed = false;
  /// Inline data (foldable) rather than a resource.
  bool isInline() const { return mlir::isa<mlir::DenseElementsAttr>(data); }
};

/// Traces `v` back to one constant (through a 2-D transpose or a
/// single-source pack_weights); failure when the value is computed.
mlir::FailureOr<WeightSource> traceWeight(mlir::Value v);

/// The data of `sources` concatenated along `axis` (transposing the flagged
/// ones first), as the `type` tensor; every source must be inline.
mlir::DenseElementsAttr foldPack(mlir::RankedTensorType type,
                                 llvm::ArrayRef<WeightSource> sources,
                                 int64_t axis);

/// Builds the packed weight at the rewriter's insertion point: a folded
/// arith.constant when every source is inline, else a sinter.pack_weights
/// over the source constants (moved before the insertion point when they
/// come later in its block).
mlir::Value buildPack(mlir::RewriterBase &rewriter, mlir::Location loc,
                      mlir::RankedTensorType type,
                      llvm::ArrayRef<WeightSource> sources, int64_t axis);

/// Byte size of a statically shaped tensor type.
int64_t byteSize(mlir::Type type);

} // namespace sinter

#endif // SINTER_LIB_DIALECT_GRAPH_TRANSFORMS_WEIGHTPACKING_H
