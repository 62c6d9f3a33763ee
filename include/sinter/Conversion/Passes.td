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

def FormKernelsPass : Pass<"sinter-form-kernels", "::mlir::func::FuncOp"> {
  let summary = "Kernel formation: fuses elementwise linalg.generic producers into their consumers";
  let description = [{
    Runs on the tensor-level linalg IR that `sinter-convert-graph-to-linalg`
    leaves, before bufferization. An all-parallel `linalg.generic` is fused
    into the `linalg.generic` that consumes it (upstream elementwise op
    fusion, under Sinter's control function) when

      - it has exactly one user (fusing a value read twice would compute it
        twice), and
      - the fusion does not repeat expensive work: the consumer reads every
        element of the producer once (its indexing map of the operand is a
        permutation of all its loops), or the producer is a few scalar ops
        broadcast into an elementwise consumer (`rsqrt(mean + eps)` into
        `x * r * w`). An elementwise producer is never fused into a
        contraction that reads it once per output column (RMSNorm's
        normalized activation into the following matmul).

    Reshapes that the lowering inserts between elementwise ops
    (`tensor.expand_shape` / `collapse_shape`) are folded into the
    elementwise generics on either side so that chains fuse through them.
    A generic reading a static slice of a constant `tensor.pad` (the
    depthwise conv1d's shifted windows) reads the unpadded source in its
    body, with a bounds check, so that the pad is no kernel of its own.
    Reductions take their elementwise producers (x * x into the sum of
    squares); a reduction's result is never fused into its consumer here
    (the CUDA row-reduction template does that for rows).

    With `remarks` set, every generic-to-generic edge left unfused gets a
    remark on the consumer with the reason.
  }];
  let options = [
    Option<"maxRecomputedOps", "max-recomputed-ops", "int64_t", "8",
           "Largest producer body (scalar ops) that may be recomputed per "
           "element when it is broadcast into an elementwise consumer">,
    Option<"remarks", "remarks", "bool", "false",
           "Emit a remark with the reason for every edge left unfused">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::affine::AffineDialect"
  ];
}

#endif // SINTER_CONVERSION_PASSES
