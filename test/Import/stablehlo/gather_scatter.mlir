// gather as jnp.take writes it is sinter.gather; scatter as .at[:, i].set
// writes it (one index tuple, an overwriting body) is a window update, here
// a cache-like write along dim 1: sinter.tensor_scatter (the index is read
// inside the kernel).
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[T:.+]]: tensor<10x8xf32> {{.*}}, %[[I:.+]]: tensor<3x1xi32> {{.*}}, %[[S:.+]]: tensor<4x6xf32> {{.*}}, %[[P:.+]]: tensor<1xi32> {{.*}}, %[[U:.+]]: tensor<4xf32>
// CHECK: %[[IC:.+]] = tensor.collapse_shape %[[I]]
// CHECK: sinter.gather %[[T]], %[[IC]] {axis = 0 : i64} : (tensor<10x8xf32>, tensor<3xi32>) -> tensor<3x8xf32>
// CHECK: %[[UE:.+]] = tensor.expand_shape %[[U]]
// CHECK: %[[E:.+]] = tensor.extract_slice %[[P]][0] [1] [1]
// CHECK: %[[E0:.+]] = tensor.collapse_shape %[[E]]
// CHECK: %[[E64:.+]] = sinter.cast %[[E0]]
// CHECK: sinter.clip %[[E64]]
// CHECK: sinter.tensor_scatter %[[S]], %[[UE]], %{{.+}} {axis = 1 : i64, mode = #sinter<cache_mode linear>}
module @jit_f {
  func.func public @main(%arg0: tensor<10x8xf32>, %arg1: tensor<3x1xi32>, %arg2: tensor<4x6xf32>, %arg3: tensor<1xi32>, %arg4: tensor<4xf32>) -> (tensor<3x8xf32>, tensor<4x6xf32>) {
    %0 = "stablehlo.gather"(%arg0, %arg1) <{dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 1, 8>}> : (tensor<10x8xf32>, tensor<3x1xi32>) -> tensor<3x8xf32>
    %1 = "stablehlo.scatter"(%arg2, %arg3, %arg4) <{indices_are_sorted = true, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [0], inserted_window_dims = [1], scatter_dims_to_operand_dims = [1]>, unique_indices = true}> ({
    ^bb0(%arg5: tensor<f32>, %arg6: tensor<f32>):
      stablehlo.return %arg6 : tensor<f32>
    }) : (tensor<4x6xf32>, tensor<1xi32>, tensor<4xf32>) -> tensor<4x6xf32>
    return %0, %1 : tensor<3x8xf32>, tensor<4x6xf32>
  }
}
