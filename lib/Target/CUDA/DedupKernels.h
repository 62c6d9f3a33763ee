//===- DedupKernels.h - merge identical kernels -------------------*- C++ -*-===//
//
// See DedupKernels.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TARGET_CUDA_DEDUPKERNELS_H
#define SINTER_TARGET_CUDA_DEDUPKERNELS_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace sinter::cuda {

std::unique_ptr<mlir::Pass> createDedupKernelsPass();
void registerDedupKernelsPass();

} // namespace sinter::cuda

#endif // SINTER_TARGET_CUDA_DEDUPKERNELS_H
