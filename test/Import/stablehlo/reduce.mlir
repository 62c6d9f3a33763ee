// reduce with an add / maximum body (compact `applies` and region forms)
// is the sinter reduction; an init value other than the identity is
// combined afterwards.
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>
// CHECK: sinter.reduce_max %[[X]] {axes = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4xf32>
// CHECK: %[[S:.+]] = sinter.reduce_sum %[[X]] {axes = array<i64: 0, 1>} : (tensor<4x8xf32>) -> tensor<f32>
// CHECK: %[[T:.+]] = sinter.reduce_sum %[[X]] {axes = array<i64: 0>}
// CHECK: sinter.add %[[T]], %{{.+}} : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
module @jit_f {
  func.func public @main(%arg0: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<f32>, tensor<8xf32>) {
    %cst = stablehlo.constant dense<0xFF800000> : tensor<f32>
    %0 = stablehlo.reduce(%arg0 init: %cst) applies stablehlo.maximum across dimensions = [1] : (tensor<4x8xf32>, tensor<f32>) -> tensor<4xf32>
    %cst_0 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %1 = stablehlo.reduce(%arg0 init: %cst_0) across dimensions = [1, 0] : (tensor<4x8xf32>, tensor<f32>) -> tensor<f32>
     reducer(%arg1: tensor<f32>, %arg2: tensor<f32>)  {
      %3 = stablehlo.add %arg1, %arg2 : tensor<f32>
      stablehlo.return %3 : tensor<f32>
    }
    %cst_1 = stablehlo.constant dense<1.000000e+00> : tensor<f32>
    %2 = stablehlo.reduce(%arg0 init: %cst_1) applies stablehlo.add across dimensions = [0] : (tensor<4x8xf32>, tensor<f32>) -> tensor<8xf32>
    return %0, %1, %2 : tensor<4xf32>, tensor<f32>, tensor<8xf32>
  }
}
