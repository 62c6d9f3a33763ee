// A use of a value that was never defined.
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}undefined_value.mlir:6:31: error: use of undefined value '%nope'
module @jit_f {
  func.func public @main(%arg0: tensor<4x8xf32>, %arg1: tensor<i32>) -> (tensor<4x8xf32>) {
    %0 = stablehlo.add %arg0, %nope : tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}
