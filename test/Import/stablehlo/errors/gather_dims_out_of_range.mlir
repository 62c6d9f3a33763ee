// A gather whose indexed dim is not a dim of the operand is refused (the
// same class of bug as scatter_dims_out_of_range.mlir).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}gather_dims_out_of_range.mlir:7:10: error: unsupported stablehlo.gather form {{.*}}: an operand dim out of range
module @jit_f {
  func.func public @main(%arg3: tensor<10x8xf32>, %arg4: tensor<3x1xi32>) -> (tensor<3x8xf32>) {
     %1 = "stablehlo.gather"(%arg3, %arg4) <{dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [7], start_index_map = [7], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 1, 8>}> : (tensor<10x8xf32>, tensor<3x1xi32>) -> tensor<3x8xf32>
    return %1 : tensor<3x8xf32>
  }
}
