//===- MoeRouterOp.cpp - the verifier of sinter.moe_router ----------------===//
//
// The router's contract, which the lowering and the CUDA template rely on:
// logits [..., E], weights and indices [..., k] with the same leading
// dims, 1 <= k <= min(E, 16), E <= 1024 (what one warp per row holds in
// registers: 32 elements a lane); logits and weights f32, f16 or bf16.
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/IR/ShapeInference.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace sinter;

LogicalResult MoeRouterOp::verify() {
  auto shapeOf = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  ArrayRef<int64_t> x = shapeOf(getLogits()), w = shapeOf(getWeights()),
                    idx = shapeOf(getIndices());
  // (C1) logits have an expert axis.
  if (x.empty())
    return emitOpError() << "logits must have at least one dimension";
  // (C1') f32, f16 or bf16: the router computes in f32.
  if (getElementTypeOrSelf(getLogits().getType()).getIntOrFloatBitWidth() > 32)
    return emitOpError() << "logits must be f32, f16 or bf16";
  // (C1'') the weights are f32, f16 or bf16 too: the lowering rounds the
  // f32 softmax to them, and f64 would be a widening it cannot express.
  if (getElementTypeOrSelf(getWeights().getType()).getIntOrFloatBitWidth() >
      32)
    return emitOpError() << "weights must be f32, f16 or bf16, got "
                         << getElementTypeOrSelf(getWeights().getType());
  int64_t e = x.back(), k = getK();
  // (C2) 1 <= k <= min(E, 16) and E <= 1024.
  if (k < 1 || k > e || k > kMaxK)
    return emitOpError() << "k = " << k << " must be in [1, min(" << e << ", "
                         << kMaxK << ")]";
  if (e > kMaxExperts)
    return emitOpError() << "rows of " << e << " experts; at most "
                         << kMaxExperts;
  // (C3) weights and indices are the logits' shape with k on the last axis.
  SmallVector<int64_t> expected(x.begin(), x.end());
  expected.back() = k;
  for (auto [s, what] : {std::pair(w, "weights"), std::pair(idx, "indices")})
    if (s != ArrayRef<int64_t>(expected))
      return emitOpError() << what << " " << shape::str(s) << " is not "
                           << shape::str(expected) << " (logits "
                           << shape::str(x) << ", k = " << k << ")";
  return success();
}
