// dynamic_update_slice that writes new positions of a cache along one
// non-batch axis at a dynamic offset (lax.dynamic_update_slice(cache, k,
// (0, 0, pos, 0))) is sinter.tensor_scatter with the offset clamped as
// StableHLO specifies.
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[C:.+]]: tensor<1x2x16x8xf32> {{.*}}, %[[K:.+]]: tensor<1x2x1x8xf32> {{.*}}, %[[P:.+]]: tensor<i32>
// CHECK: %[[P64:.+]] = sinter.cast %[[P]] : (tensor<i32>) -> tensor<i64>
// CHECK: %[[CL:.+]] = sinter.clip %[[P64]] min %{{.+}} max %{{.+}}
// CHECK: %[[W:.+]] = tensor.expand_shape %[[CL]]
// CHECK: sinter.tensor_scatter %[[C]], %[[K]], %[[W]] {axis = 2 : i64, mode = #sinter<cache_mode linear>}
module @jit_f {
  func.func public @main(%arg0: tensor<1x2x16x8xf32>, %arg1: tensor<1x2x1x8xf32>, %arg2: tensor<i32>) -> (tensor<1x2x16x8xf32>) {
    %c = stablehlo.constant dense<0> : tensor<i32>
    %0 = stablehlo.dynamic_update_slice %arg0, %arg1, %c, %c, %arg2, %c : (tensor<1x2x16x8xf32>, tensor<1x2x1x8xf32>, tensor<i32>, tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<1x2x16x8xf32>
    return %0 : tensor<1x2x16x8xf32>
  }
}
