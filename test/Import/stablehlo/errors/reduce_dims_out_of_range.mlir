// A reduce over a dim the operand does not have is refused before the
// importer indexes shapes with it (fuzz_stablehlo finding crash-d09f5c78a585:
// dimensions = [8] on a rank-5 operand).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}reduce_dims_out_of_range.mlir:9:9: error: reduce dimensions do not match the operand and result shapes
module @jit_f {
  func.func public @main(%arg0: tensor<1x2x8xf32>) -> (tensor<1x2xf32>) {
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %0 = stablehlo.reduce(%arg0 init: %cst) applies stablehlo.add across dimensions = [8] : (tensor<1x2x8xf32>, tensor<f32>) -> tensor<1x2xf32>
    return %0 : tensor<1x2xf32>
  }
}
