//===- Passes.td - lower phase passes -------------------------*- tablegen -*-===//

#ifndef SINTER_CONVERSION_PASSES
#define SINTER_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def ConvertGraphToLinalgPass : Pass<"sinter-convert-graph-to-linalg"> {
  let summary = "Lowers sinter graph ops to linalg, tensor, arith, math and scf";
  let description = [{
    The portable lowering shared by the CPU target (and by the CUDA target
    for ops that do not get a hand-scheduled kernel). Every sinter op becomes
    tensor-level upstream ops: elementwise ops and reductions become
    `linalg.generic` with broadcasting indexing maps, data movement becomes
    `tensor` ops or `linalg.generic` with `tensor.extract` in the body, and
    compound ops (attention, linear attention, normalizations) are expanded
    into those. f16 and bf16 arithmetic is computed in f32 and rounded once
    per op, as the ONNX reference does. A sinter op left after the pass is an
    error that names the op.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect"
  ];
}

#endif // SINTER_CONVERSION_PASSES
