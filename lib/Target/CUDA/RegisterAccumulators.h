//===- RegisterAccumulators.h - accumulators in registers ---------*- C++ -*-===//
//
// See RegisterAccumulators.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TARGET_CUDA_REGISTERACCUMULATORS_H
#define SINTER_TARGET_CUDA_REGISTERACCUMULATORS_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace sinter::cuda {

std::unique_ptr<mlir::Pass> createRegisterAccumulatorsPass();
void registerRegisterAccumulatorsPass();

} // namespace sinter::cuda

#endif // SINTER_TARGET_CUDA_REGISTERACCUMULATORS_H
