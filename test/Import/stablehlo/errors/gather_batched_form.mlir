// A gather with two indexed dims (x[i, j] with index pairs) is refused
// with its dimension numbers.
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}gather_batched_form.mlir:7:9: error: unsupported stablehlo.gather form (jnp.take, x[ids] and take_along_axis are supported): not exactly one indexed dim that is also collapsed (collapsed_slice_dims = [0, 1], start_index_map = [0, 1], index_vector_dim = [1], slice_sizes = [1, 1])
module @jit_f {
  func.func public @main(%arg0: tensor<4x6xf32>, %arg1: tensor<3x2xi32>) -> (tensor<3xf32>) {
    %0 = "stablehlo.gather"(%arg0, %arg1) <{dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [0, 1], start_index_map = [0, 1], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 1, 1>}> : (tensor<4x6xf32>, tensor<3x2xi32>) -> tensor<3xf32>
    return %0 : tensor<3xf32>
  }
}
