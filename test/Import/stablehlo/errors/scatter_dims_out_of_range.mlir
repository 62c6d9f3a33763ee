// Dimension numbers that name dims a tensor does not have are refused, not
// used to index shapes (fuzz_stablehlo finding crash-e380516416e6:
// update_window_dims = [5] on a rank-1 update).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}scatter_dims_out_of_range.mlir:8:9: error: unsupported stablehlo.scatter form {{.*}}: an update_window_dims entry out of range or repeated (update_window_dims = [5], inserted_window_dims = [1], scatter_dims_to_operand_dims = [1])
module @jit_f {
  func.func public @main(%arg0: tensor<4x6xf32>, %arg1: tensor<1xi32>, %arg2: tensor<4xf32>) -> (tensor<4x6xf32>) {
    %0 = "stablehlo.scatter"(%arg0, %arg1, %arg2) <{indices_are_sorted = true, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [5], inserted_window_dims = [1], scatter_dims_to_operand_dims = [1]>, unique_indices = true}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      stablehlo.return %b : tensor<f32>
    }) : (tensor<4x6xf32>, tensor<1xi32>, tensor<4xf32>) -> tensor<4x6xf32>
    return %0 : tensor<4x6xf32>
  }
}
