//===- MergeLaunches.h - independent launches as one ---------------*- C++ -*-===//
//
// See MergeLaunches.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TARGET_CUDA_MERGELAUNCHES_H
#define SINTER_TARGET_CUDA_MERGELAUNCHES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace sinter::cuda {

std::unique_ptr<mlir::Pass> createMergeLaunchesPass();
void registerMergeLaunchesPass();

} // namespace sinter::cuda

#endif // SINTER_TARGET_CUDA_MERGELAUNCHES_H
