//===- GridDependency.h - programmatic dependent launch -----------*- C++ -*-===//
//
// See GridDependency.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TARGET_CUDA_GRIDDEPENDENCY_H
#define SINTER_TARGET_CUDA_GRIDDEPENDENCY_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace sinter::cuda {

/// The module attribute the pass leaves: every kernel of the module starts
/// with griddepcontrol.wait (the executable's SinterModel launch_flags).
inline constexpr llvm::StringLiteral kProgrammaticLaunchAttr =
    "sinter.programmatic_launch";

std::unique_ptr<mlir::Pass> createGridDependencyPass(bool earlyTrigger);
void registerGridDependencyPass();

} // namespace sinter::cuda

#endif // SINTER_TARGET_CUDA_GRIDDEPENDENCY_H
