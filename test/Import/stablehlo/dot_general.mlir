// dot_general: x @ W without batch dims stays a matmul of the original
// operands (sinter-form-linears makes it a linear); batched contractions
// transpose the contracting dim of rhs to the front and flatten free dims.
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<1x4x8xf32> {{.*}}, %[[Q:.+]]: tensor<2x3x5x8xf32> {{.*}}, %[[K:.+]]: tensor<2x3x7x8xf32>
// CHECK: %[[W:.+]] = arith.constant {{.*}} : tensor<8x16xf32>
// CHECK: sinter.matmul %[[X]], %[[W]] : (tensor<1x4x8xf32>, tensor<8x16xf32>) -> tensor<1x4x16xf32>
// CHECK: %[[KT:.+]] = sinter.transpose %[[K]] {perm = array<i64: 0, 1, 3, 2>}
// CHECK: sinter.matmul %[[Q]], %[[KT]] : (tensor<2x3x5x8xf32>, tensor<2x3x8x7xf32>) -> tensor<2x3x5x7xf32>
module @jit_f {
  func.func public @main(%arg0: tensor<1x4x8xf32>, %arg1: tensor<2x3x5x8xf32>, %arg2: tensor<2x3x7x8xf32>) -> (tensor<1x4x16xf32>, tensor<2x3x5x7xf32>) {
    %cst = stablehlo.constant dense<5.000000e-01> : tensor<8x16xf32>
    %0 = stablehlo.dot_general %arg0, %cst, contracting_dims = [2] x [0], precision = [DEFAULT, DEFAULT] : (tensor<1x4x8xf32>, tensor<8x16xf32>) -> tensor<1x4x16xf32>
    %1 = stablehlo.dot_general %arg1, %arg2, batching_dims = [0, 1] x [0, 1], contracting_dims = [3] x [3], precision = [DEFAULT, DEFAULT] : (tensor<2x3x5x8xf32>, tensor<2x3x7x8xf32>) -> tensor<2x3x5x7xf32>
    return %0, %1 : tensor<1x4x16xf32>, tensor<2x3x5x7xf32>
  }
}
