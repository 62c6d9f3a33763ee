// An attribute of the pretty form the reader does not know.
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}unsupported_attribute.mlir:6:60: error: unsupported attribute 'layout' of stablehlo.transpose
module @jit_f {
  func.func public @main(%arg0: tensor<4x8xf32>, %arg1: tensor<i32>) -> (tensor<4x8xf32>) {
    %0 = stablehlo.transpose %arg0, dims = [0, 1], layout = [1, 0] : (tensor<4x8xf32>) -> tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}
