// An integer op folded at import whose result has no element (a
// broadcast_in_dim to tensor<0x1xi32>) is not folded: the folder read
// element 0 of an empty result (fuzz_stablehlo finding crash-20835cad8699).
// Its user, a broadcast of the empty tensor to 3x1, is refused with the
// op's error instead.
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}fold_empty.mlir:12:9: error: broadcast_dimensions do not map the operand's dims onto the result's
module @jit_f {
  func.func public @main(%arg0: tensor<3x1xi32>) -> (tensor<3x1xi32>) {
    %c = stablehlo.constant dense<3> : tensor<1xi32>
    %0 = stablehlo.broadcast_in_dim %c, dims = [1] : (tensor<1xi32>) -> tensor<0x1xi32>
    %1 = stablehlo.broadcast_in_dim %0, dims = [0, 1] : (tensor<0x1xi32>) -> tensor<3x1xi32>
    %2 = stablehlo.add %1, %arg0 : tensor<3x1xi32>
    return %2 : tensor<3x1xi32>
  }
}
