//===- sinter-opt.cpp - mlir-opt with the sinter dialect and passes -------===//
//
// Replays any phase of a compile on a dumped .mlir file, and runs the lit
// tests of individual passes. All upstream dialects and passes are
// registered so that the lowering pipelines can be replayed step by step.
//
//===----------------------------------------------------------------------===//

#include "sinter/Conversion/Passes.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"
#include "sinter/Pipelines/Pipelines.h"
#include "sinter/Target/CUDA/CUDATarget.h"
#include "sinter/Target/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  sinter::registerSinterGraphPasses();
  sinter::registerSinterConversionPasses();
  sinter::registerSinterTargetPasses();
  sinter::registerPipelines();
  sinter::cuda::registerCudaPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<sinter::SinterDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Sinter optimizer driver\n", registry));
}
