// broadcast_dimensions that name a result dim past the result's rank are
// refused before any shape is indexed with them (fuzz_stablehlo finding
// crash-0dbb06cbf19d).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}broadcast_dims.mlir:8:9: error: broadcast_dimensions do not map the operand's dims onto the result's
module @jit_f {
  func.func public @main(%arg0: tensor<4xf32>) -> (tensor<2x4xf32>) {
    %0 = stablehlo.broadcast_in_dim %arg0, dims = [5] : (tensor<4xf32>) -> tensor<2x4xf32>
    return %0 : tensor<2x4xf32>
  }
}
