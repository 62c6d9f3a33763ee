//===- GridDependency.h - programmatic dependent launch -----------*- C++ -*-===//
//
// See GridDependency.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TARGET_CUDA_GRIDDEPENDENCY_H
#define SINTER_TARGET_CUDA_GRIDDEPENDENCY_H

#include "sinter/Target/CUDA/CUDATarget.h"

#include "mlir/Pass/Pass.h"

#include <memory>

namespace sinter::cuda {

std::unique_ptr<mlir::Pass> createGridDependencyPass(ProgrammaticLaunch mode);
void registerGridDependencyPass();

} // namespace sinter::cuda

#endif // SINTER_TARGET_CUDA_GRIDDEPENDENCY_H
