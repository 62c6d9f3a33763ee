// A scatter with many index tuples and partial windows is refused with its
// dimension numbers.
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}scatter_form.mlir:7:9: error: unsupported stablehlo.scatter form (.at[].set, .add, .mul, .max, .min are supported): partial update windows with more than one index tuple (update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = [1])
module @jit_f {
  func.func public @main(%arg0: tensor<4x6xf32>, %arg1: tensor<3x1xi32>, %arg2: tensor<3x2xf32>) -> (tensor<4x6xf32>) {
    %0 = "stablehlo.scatter"(%arg0, %arg1, %arg2) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      stablehlo.return %b : tensor<f32>
    }) : (tensor<4x6xf32>, tensor<3x1xi32>, tensor<3x2xf32>) -> tensor<4x6xf32>
    return %0 : tensor<4x6xf32>
  }
}
