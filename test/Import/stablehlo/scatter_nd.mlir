// Scatters with many index tuples and whole windows: x.at[ids].add(u)
// (one indexed dim) and x.at[ids, jds].set(v) (a tuple of two) are
// sinter.scatter_nd with the body's combiner; x.at[:, ids].max(v) moves the
// indexed dim to the front and back.
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<4x6xf32> {{.*}}, %[[I:.+]]: tensor<3x1xi32> {{.*}}, %[[U:.+]]: tensor<3x6xf32> {{.*}}, %[[IJ:.+]]: tensor<3x2xi32> {{.*}}, %[[V:.+]]: tensor<3xf32> {{.*}}, %[[W:.+]]: tensor<4x3xf32>
// CHECK: %[[I64:.+]] = sinter.cast %[[I]] : (tensor<3x1xi32>) -> tensor<3x1xi64>
// CHECK: sinter.scatter_nd %[[X]], %[[I64]], %[[U]] {reduction = #sinter<reduction add>} : (tensor<4x6xf32>, tensor<3x1xi64>, tensor<3x6xf32>) -> tensor<4x6xf32>
// CHECK: %[[IJ64:.+]] = sinter.cast %[[IJ]]
// CHECK: sinter.scatter_nd %[[X]], %[[IJ64]], %[[V]] {reduction = #sinter<reduction none>} : (tensor<4x6xf32>, tensor<3x2xi64>, tensor<3xf32>) -> tensor<4x6xf32>
// CHECK: %[[XT:.+]] = sinter.transpose %[[X]] {perm = array<i64: 1, 0>}
// CHECK: %[[WT:.+]] = sinter.transpose %[[W]] {perm = array<i64: 1, 0>}
// CHECK: %[[S:.+]] = sinter.scatter_nd %[[XT]], %{{.+}}, %[[WT]] {reduction = #sinter<reduction max>} : (tensor<6x4xf32>, tensor<3x1xi64>, tensor<3x4xf32>) -> tensor<6x4xf32>
// CHECK: sinter.transpose %[[S]] {perm = array<i64: 1, 0>}
module @jit_f {
  func.func public @main(%arg0: tensor<4x6xf32>, %arg1: tensor<3x1xi32>, %arg2: tensor<3x6xf32>, %arg3: tensor<3x2xi32>, %arg4: tensor<3xf32>, %arg5: tensor<4x3xf32>) -> (tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>) {
    %0 = "stablehlo.scatter"(%arg0, %arg1, %arg2) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %s = stablehlo.add %a, %b : tensor<f32>
      stablehlo.return %s : tensor<f32>
    }) : (tensor<4x6xf32>, tensor<3x1xi32>, tensor<3x6xf32>) -> tensor<4x6xf32>
    %1 = "stablehlo.scatter"(%arg0, %arg3, %arg4) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0, 1], scatter_dims_to_operand_dims = [0, 1], index_vector_dim = 1>, unique_indices = false}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      stablehlo.return %b : tensor<f32>
    }) : (tensor<4x6xf32>, tensor<3x2xi32>, tensor<3xf32>) -> tensor<4x6xf32>
    %2 = "stablehlo.scatter"(%arg0, %arg1, %arg5) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [0], inserted_window_dims = [1], scatter_dims_to_operand_dims = [1], index_vector_dim = 1>, unique_indices = false}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %m = stablehlo.maximum %a, %b : tensor<f32>
      stablehlo.return %m : tensor<f32>
    }) : (tensor<4x6xf32>, tensor<3x1xi32>, tensor<4x3xf32>) -> tensor<4x6xf32>
    return %0, %1, %2 : tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>
  }
}
