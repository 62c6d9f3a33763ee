//===- Gemm.cpp - kernel template ---------------------------------------===//
//
// See Kernels.h. Not written yet: every op is refused.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

using namespace mlir;

namespace sinter::cuda {

LogicalResult emitTensorCoreGemm(RewriterBase &rw, linalg::LinalgOp op,
                  const KernelOptions &options, std::string &why) {
  (void)rw;
  (void)op;
  (void)options;
  why = "not implemented";
  return failure();
}

} // namespace sinter::cuda
