// Gathers with batching dims: jnp.take_along_axis (no offset dims) and a
// vmapped x[i] (an offset dim) are sinter.gather_elements along the indexed
// dim, the indices broadcast over the offset dims.
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<4x6xf32> {{.*}}, %[[I:.+]]: tensor<4x2x1xi32> {{.*}}, %[[Y:.+]]: tensor<2x5x8xf32> {{.*}}, %[[J:.+]]: tensor<2x3x1xi32>
// CHECK: %[[IC:.+]] = tensor.collapse_shape %[[I]]
// CHECK: sinter.gather_elements %[[X]], %[[IC]] {axis = 1 : i64} : (tensor<4x6xf32>, tensor<4x2xi32>) -> tensor<4x2xf32>
// CHECK: %[[JE:.+]] = sinter.expand %{{.+}} : (tensor<2x3x1xi32>) -> tensor<2x3x8xi32>
// CHECK: sinter.gather_elements %[[Y]], %[[JE]] {axis = 1 : i64} : (tensor<2x5x8xf32>, tensor<2x3x8xi32>) -> tensor<2x3x8xf32>
module @jit_f {
  func.func public @main(%arg0: tensor<4x6xf32>, %arg1: tensor<4x2x1xi32>, %arg2: tensor<2x5x8xf32>, %arg3: tensor<2x3x1xi32>) -> (tensor<4x2xf32>, tensor<2x3x8xf32>) {
    %0 = "stablehlo.gather"(%arg0, %arg1) <{dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [1], operand_batching_dims = [0], start_indices_batching_dims = [0], start_index_map = [1], index_vector_dim = 2>, indices_are_sorted = false, slice_sizes = array<i64: 1, 1>}> : (tensor<4x6xf32>, tensor<4x2x1xi32>) -> tensor<4x2xf32>
    %1 = "stablehlo.gather"(%arg2, %arg3) <{dimension_numbers = #stablehlo.gather<offset_dims = [2], collapsed_slice_dims = [1], operand_batching_dims = [0], start_indices_batching_dims = [0], start_index_map = [1], index_vector_dim = 2>, indices_are_sorted = false, slice_sizes = array<i64: 1, 1, 8>}> : (tensor<2x5x8xf32>, tensor<2x3x1xi32>) -> tensor<2x3x8xf32>
    return %0, %1 : tensor<4x2xf32>, tensor<2x3x8xf32>
  }
}
