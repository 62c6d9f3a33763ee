//===- GraphToLinalg.h - sinter ops to linalg/tensor patterns ----*- C++ -*-===//
//
// The lowering patterns by op family; ConvertGraphToLinalgPass applies all of
// them. Each family lives in its own file under lib/Conversion/GraphToLinalg.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_CONVERSION_GRAPHTOLINALG_GRAPHTOLINALG_H
#define SINTER_CONVERSION_GRAPHTOLINALG_GRAPHTOLINALG_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace sinter {

/// Elementwise unary/binary/compare/select ops, cast, clip, activations.
void populateElementwiseToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// Reductions, arg-reductions, softmax, normalizations, cumsum, topk.
void populateReductionToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// matmul, linear, conv.
void populateLinearAlgebraToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// gated_linear: one contraction with the gated product formed on load.
void populateGatedLinearToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// expert_linear: one contraction reading the weight at the expert index.
void populateExpertLinearToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// transpose, expand, reverse, split, pad, trilu, gather*, scatter*,
/// tensor_scatter.
void populateDataMovementToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// pack_weights: the weight-pack plan, computed by the forward (CPU).
void populatePackWeightsToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// attention, rotary_embedding, linear_attention, causal_conv_with_state.
void populateLLMOpsToLinalgPatterns(mlir::RewritePatternSet &patterns);

} // namespace sinter

#endif // SINTER_CONVERSION_GRAPHTOLINALG_GRAPHTOLINALG_H
