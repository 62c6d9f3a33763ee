// Data-dependent offsets and indices compile for the CUDA target: a cache
// write (tensor_scatter), a dynamic_slice (gather), a masked
// dynamic_update_slice and a scatter with many indices (scatter_nd) all read
// their indices inside kernels; the CUDA target refuses any memory access
// left on the host ("left this op on the host").
// RUN: sinterc %s --target=cuda --emit=ptx -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a %t.ptx -o %t.cubin %}
// CHECK: .target sm_90a
// CHECK: .visible .entry
module @jit_f {
  func.func public @main(%arg0: tensor<1x2x16x8xf32>, %arg1: tensor<1x2x1x8xf32>, %arg2: tensor<i32>, %arg3: tensor<4x6xf32>, %arg4: tensor<3x1xi32>, %arg5: tensor<3x6xf32>) -> (tensor<1x2x16x8xf32>, tensor<2x3xf32>, tensor<4x6xf32>, tensor<4x6xf32>) {
    %c = stablehlo.constant dense<0> : tensor<i32>
    %0 = stablehlo.dynamic_update_slice %arg0, %arg1, %c, %c, %arg2, %c : (tensor<1x2x16x8xf32>, tensor<1x2x1x8xf32>, tensor<i32>, tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<1x2x16x8xf32>
    %1 = stablehlo.dynamic_slice %arg3, %arg2, %arg2, sizes = [2, 3] : (tensor<4x6xf32>, tensor<i32>, tensor<i32>) -> tensor<2x3xf32>
    %2 = stablehlo.dynamic_update_slice %arg3, %1, %arg2, %arg2 : (tensor<4x6xf32>, tensor<2x3xf32>, tensor<i32>, tensor<i32>) -> tensor<4x6xf32>
    %3 = "stablehlo.scatter"(%arg3, %arg4, %arg5) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %s = stablehlo.add %a, %b : tensor<f32>
      stablehlo.return %s : tensor<f32>
    }) : (tensor<4x6xf32>, tensor<3x1xi32>, tensor<3x6xf32>) -> tensor<4x6xf32>
    return %0, %1, %2, %3 : tensor<1x2x16x8xf32>, tensor<2x3xf32>, tensor<4x6xf32>, tensor<4x6xf32>
  }
}
