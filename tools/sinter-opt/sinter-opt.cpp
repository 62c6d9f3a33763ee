//===- sinter-opt.cpp - mlir-opt with the sinter dialect and passes -------===//
//
// Replays any phase of a compile on a dumped .mlir file, and runs the lit
// tests of individual passes.
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"
#include "sinter/Pipelines/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  sinter::registerSinterGraphPasses();
  sinter::registerPipelines();

  mlir::DialectRegistry registry;
  registry.insert<sinter::SinterDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::tensor::TensorDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Sinter optimizer driver\n", registry));
}
