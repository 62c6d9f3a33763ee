// A reduce over two operands that is not argmax/argmin (here: two sums).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}reduce_multi_operand.mlir:9:11: error: reduce over 2 operands is supported only as argmax/argmin (values and an iota, a compare/select body): the second operand is not an iota along the reduced dimension
module @jit_f {
  func.func public @main(%arg0: tensor<4x6xf32>, %arg1: tensor<4x6xf32>) -> (tensor<4xf32>) {
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    // The body adds pairwise.
    // (the error is at the reduce)
    %0:2 = stablehlo.reduce(%arg0 init: %cst), (%arg1 init: %cst) across dimensions = [1] : (tensor<4x6xf32>, tensor<4x6xf32>, tensor<f32>, tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>)
     reducer(%a: tensor<f32>, %c: tensor<f32>) (%b: tensor<f32>, %d: tensor<f32>)  {
      %1 = stablehlo.add %a, %c : tensor<f32>
      %2 = stablehlo.add %b, %d : tensor<f32>
      stablehlo.return %1, %2 : tensor<f32>, tensor<f32>
    }
    return %0#0 : tensor<4xf32>
  }
}
