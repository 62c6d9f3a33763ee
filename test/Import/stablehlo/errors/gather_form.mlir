// A gather that is not the jnp.take form (a partial slice).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}gather_form.mlir:7:9: error: unsupported stablehlo.gather form (jnp.take, x[ids] and take_along_axis are supported): partial slices (offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = [1], slice_sizes = [1, 4])
module @jit_f {
  func.func public @main(%arg0: tensor<4x8xf32>, %arg1: tensor<i32>) -> (tensor<4x8xf32>) {
    %i = stablehlo.constant dense<[[1]]> : tensor<1x1xi32>
    %0 = "stablehlo.gather"(%arg0, %i) <{dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, slice_sizes = array<i64: 1, 4>}> : (tensor<4x8xf32>, tensor<1x1xi32>) -> tensor<1x4xf32>
    return %arg0 : tensor<4x8xf32>
  }
}
