//===- ClusterDims.h - thread-block cluster sizes on kernels ---*- C++ -*-===//
//
// See ClusterDims.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TARGET_CUDA_CLUSTERDIMS_H
#define SINTER_TARGET_CUDA_CLUSTERDIMS_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace sinter::cuda {

std::unique_ptr<mlir::Pass> createClusterDimsPass();
void registerClusterDimsPass();

} // namespace sinter::cuda

#endif // SINTER_TARGET_CUDA_CLUSTERDIMS_H
