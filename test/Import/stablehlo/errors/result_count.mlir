// An elementwise op declared with two results is refused, not converted
// from its first (see operand_count.mlir).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}result_count.mlir:7:13: error: 'stablehlo.negate' with 2 results
module @jit_f {
  func.func public @main(%arg0: tensor<4xf32>) -> (tensor<4xf32>) {
    %0, %1 = "stablehlo.negate"(%arg0) : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
    return %0 : tensor<4xf32>
  }
}
