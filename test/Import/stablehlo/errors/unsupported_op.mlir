// An op the importer has no handler for: its name and location.
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}unsupported_op.mlir:6:9: error: unsupported op 'stablehlo.cbrt'
module @jit_f {
  func.func public @main(%arg0: tensor<4x8xf32>, %arg1: tensor<i32>) -> (tensor<4x8xf32>) {
    %0 = stablehlo.cbrt %arg0 : tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}
