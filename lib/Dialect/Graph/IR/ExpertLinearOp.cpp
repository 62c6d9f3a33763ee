//===- ExpertLinearOp.cpp - the verifier of sinter.expert_linear ----------===//
//
// Kept apart from GraphOps.cpp: the mixture-of-experts op has its own shape
// contract (x [T, K] or [T, J, K], weight [E, N, K] or with weight_kn
// [E, K, N], indices [T, J], bias
// [E, N], result [T, J, N]) that the fuse pass, the lowering and the CUDA
// template rely on; each numbered check below is one of those.
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/IR/ShapeInference.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace sinter;

LogicalResult ExpertLinearOp::verify() {
  auto shapeOf = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  ArrayRef<int64_t> x = shapeOf(getInput()), w = shapeOf(getWeight()),
                    idx = shapeOf(getIndices()), y = shapeOf(getResult());
  // (C1) weight is [E, N, K] ([E, K, N] with weight_kn) and indices [T, J].
  if (w.size() != 3)
    return emitOpError() << "weight must be "
                         << (getWeightKn() ? "[experts, in, out]"
                                           : "[experts, out, in]")
                         << ", got " << shape::str(w);
  if (idx.size() != 2)
    return emitOpError() << "indices must be [tokens, slots], got "
                         << shape::str(idx);
  int64_t t = idx[0], j = idx[1];
  int64_t n = getWeightKn() ? w[2] : w[1], k = getWeightKn() ? w[1] : w[2];
  // (C2) the input is [T, K] or [T, J, K].
  bool perToken = x.size() == 2 && x[0] == t && x[1] == k;
  bool perSlot = x.size() == 3 && x[0] == t && x[1] == j && x[2] == k;
  if (!perToken && !perSlot)
    return emitOpError() << "input " << shape::str(x) << " is neither [" << t
                         << ", " << k << "] nor [" << t << ", " << j << ", "
                         << k << "] (indices " << shape::str(idx)
                         << ", weight " << shape::str(w) << ")";
  // (C3) the bias is [E, N].
  if (Value b = getBias()) {
    ArrayRef<int64_t> bs = shapeOf(b);
    if (bs.size() != 2 || bs[0] != w[0] || bs[1] != n)
      return emitOpError() << "bias " << shape::str(bs) << " is not ["
                           << w[0] << ", " << n << "]";
  }
  // (C4) one float element type throughout.
  Type elt = getElementTypeOrSelf(getInput().getType());
  for (auto [v, what] : {std::pair(getWeight(), "weight"),
                         std::pair(getBias(), "bias"),
                         std::pair(getResult(), "result")})
    if (v && getElementTypeOrSelf(v.getType()) != elt)
      return emitOpError() << what << " element type "
                           << getElementTypeOrSelf(v.getType())
                           << " differs from the input's " << elt;
  // (C5) the result is [T, J, N].
  SmallVector<int64_t> want{t, j, n};
  if (y != ArrayRef<int64_t>(want))
    return emitOpError() << "result shape " << shape::str(y)
                         << " does not match the expected "
                         << shape::str(want);
  return success();
}
