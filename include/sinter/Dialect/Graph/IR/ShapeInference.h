//===- ShapeInference.h - result shapes of sinter ops ------------*- C++ -*-===//
//
// Result-shape rules of the sinter ops, written once and used twice: the op
// verifiers recompute a result shape and compare, and the ONNX importer
// computes the types of the ops it builds (so a bad model is reported with
// the node's name instead of failing verification later). Each function
// returns failure with a human-readable reason in `why`.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_DIALECT_GRAPH_IR_SHAPEINFERENCE_H
#define SINTER_DIALECT_GRAPH_IR_SHAPEINFERENCE_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/Twine.h"
#include <optional>
#include <string>

namespace sinter::shape {

using Shape = llvm::SmallVector<int64_t, 6>;

/// Prints a shape as [2,3,4].
std::string str(llvm::ArrayRef<int64_t> shape);

/// numpy broadcasting of any number of shapes.
mlir::FailureOr<Shape> broadcast(llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes,
                                 std::string &why);

/// Normalizes `axis` (which may be negative) against `rank`.
mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank,
                                       std::string &why);

/// Checks that axes are sorted, unique and within rank.
mlir::LogicalResult checkAxes(llvm::ArrayRef<int64_t> axes, int64_t rank,
                              std::string &why);

Shape reduce(llvm::ArrayRef<int64_t> in, llvm::ArrayRef<int64_t> axes,
             bool keepdims);

mlir::FailureOr<Shape> matmul(llvm::ArrayRef<int64_t> a,
                              llvm::ArrayRef<int64_t> b, std::string &why);

mlir::FailureOr<Shape> linear(llvm::ArrayRef<int64_t> x,
                              llvm::ArrayRef<int64_t> w,
                              std::optional<llvm::ArrayRef<int64_t>> bias,
                              std::string &why);

mlir::FailureOr<Shape> conv(llvm::ArrayRef<int64_t> x, llvm::ArrayRef<int64_t> w,
                            std::optional<llvm::ArrayRef<int64_t>> bias,
                            llvm::ArrayRef<int64_t> strides,
                            llvm::ArrayRef<int64_t> pads,
                            llvm::ArrayRef<int64_t> dilations, int64_t group,
                            std::string &why);

mlir::FailureOr<Shape> transpose(llvm::ArrayRef<int64_t> in,
                                 llvm::ArrayRef<int64_t> perm, std::string &why);

mlir::FailureOr<Shape> gather(llvm::ArrayRef<int64_t> data,
                              llvm::ArrayRef<int64_t> indices, int64_t axis,
                              std::string &why);

mlir::FailureOr<Shape> gatherND(llvm::ArrayRef<int64_t> data,
                                llvm::ArrayRef<int64_t> indices,
                                int64_t batchDims, std::string &why);

mlir::LogicalResult checkScatterND(llvm::ArrayRef<int64_t> data,
                                   llvm::ArrayRef<int64_t> indices,
                                   llvm::ArrayRef<int64_t> updates,
                                   std::string &why);

mlir::FailureOr<llvm::SmallVector<Shape>> split(llvm::ArrayRef<int64_t> in,
                                                int64_t axis,
                                                llvm::ArrayRef<int64_t> sizes,
                                                std::string &why);

mlir::FailureOr<Shape> pad(llvm::ArrayRef<int64_t> in,
                           llvm::ArrayRef<int64_t> pads, std::string &why);

mlir::FailureOr<Shape> topk(llvm::ArrayRef<int64_t> in, int64_t k, int64_t axis,
                            std::string &why);

/// Attention on 4-D [B, H, S, D] operands; returns {Y, present_key,
/// present_value} shapes.
mlir::FailureOr<llvm::SmallVector<Shape>>
attention(llvm::ArrayRef<int64_t> q, llvm::ArrayRef<int64_t> k,
          llvm::ArrayRef<int64_t> v,
          std::optional<llvm::ArrayRef<int64_t>> mask,
          std::optional<llvm::ArrayRef<int64_t>> pastKey,
          std::optional<llvm::ArrayRef<int64_t>> pastValue, std::string &why);

mlir::LogicalResult rotaryEmbedding(llvm::ArrayRef<int64_t> x,
                                    llvm::ArrayRef<int64_t> cos,
                                    llvm::ArrayRef<int64_t> sin,
                                    std::optional<llvm::ArrayRef<int64_t>> pos,
                                    int64_t rotaryDim, std::string &why);

/// TensorScatter: `update` matches `cache` outside the (non-batch) sequence
/// `axis` and is not longer along it; write indices are [B].
mlir::LogicalResult
tensorScatter(llvm::ArrayRef<int64_t> cache, llvm::ArrayRef<int64_t> update,
              std::optional<llvm::ArrayRef<int64_t>> writeIndices, int64_t axis,
              std::string &why);

/// LinearAttention; returns {output, present_state} shapes.
mlir::FailureOr<llvm::SmallVector<Shape>>
linearAttention(llvm::ArrayRef<int64_t> q, llvm::ArrayRef<int64_t> k,
                llvm::ArrayRef<int64_t> v,
                std::optional<llvm::ArrayRef<int64_t>> state,
                std::optional<llvm::ArrayRef<int64_t>> decay,
                std::optional<llvm::ArrayRef<int64_t>> beta, int64_t qHeads,
                int64_t kvHeads, bool needsDecay, bool needsBeta,
                std::string &why);

/// CausalConvWithState; returns {output, present_state} shapes.
mlir::FailureOr<llvm::SmallVector<Shape>>
causalConv(llvm::ArrayRef<int64_t> x, llvm::ArrayRef<int64_t> w,
           std::optional<llvm::ArrayRef<int64_t>> bias,
           std::optional<llvm::ArrayRef<int64_t>> state, std::string &why);

} // namespace sinter::shape

#endif // SINTER_DIALECT_GRAPH_IR_SHAPEINFERENCE_H
