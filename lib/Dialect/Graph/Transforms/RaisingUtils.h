//===- RaisingUtils.h - helpers of the graph-phase raising passes -*- C++
//-*-===//
//
// The sinter-raise-* passes rebuild compound ops (rms_norm, attention,
// rotary_embedding, linear_attention) from the decompositions older ONNX
// exporters write. They share the small matchers here: splat constants (the
// epsilon, the scale, the mask fill), order-preserving reshapes, and the
// clean-up of the chain a raising leaves dead.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_DIALECT_GRAPH_TRANSFORMS_RAISINGUTILS_H
#define SINTER_LIB_DIALECT_GRAPH_TRANSFORMS_RAISINGUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace sinter::raising {

inline mlir::RankedTensorType tensorType(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}

inline llvm::ArrayRef<int64_t> shapeOf(mlir::Value v) {
  return tensorType(v).getShape();
}

/// The value of `v` when it is a float constant whose elements are all
/// equal (any shape, rank 0 included); nullopt otherwise.
std::optional<double> splatFloat(mlir::Value v);

/// The value of `v` when it is an integer constant whose elements are all
/// equal (any shape, rank 0 included); nullopt otherwise.
std::optional<int64_t> splatInt(mlir::Value v);

/// `v` reshaped to `shape` (same element count, row-major order kept), as a
/// collapse to 1-D and an expand: views, never a copy. Returns `v` when the
/// shape is already `shape`.
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                      llvm::ArrayRef<int64_t> shape);

/// The input of a row-major reshape (expand_shape, collapse_shape,
/// reshape), or null.
mlir::Value reshapeSource(mlir::Value v);

/// Erases the ops of `ops` that have no users, repeatedly, so a chain the
/// raising replaced disappears whole, with the constants only it read;
/// ops still used elsewhere stay.
void eraseDeadOps(mlir::RewriterBase &rewriter,
                  llvm::ArrayRef<mlir::Operation *> ops);

/// "[a, b, c]" for remarks.
std::string str(llvm::ArrayRef<int64_t> dims);

/// A number for remarks, shortest form ("1e-06", "0.25").
std::string num(double v);

/// The name of the op defining `v`, or "a block argument", for remarks.
std::string producerName(mlir::Value v);

} // namespace sinter::raising

#endif // SINTER_LIB_DIALECT_GRAPH_TRANSFORMS_RAISINGUTILS_H
