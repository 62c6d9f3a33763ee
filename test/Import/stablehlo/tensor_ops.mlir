// Data movement: broadcast_in_dim (reshape + expand), reshape, transpose,
// slice, concatenate, iota (a constant), dynamic_slice (a static slice for
// constant offsets, then a sinter.gather of clamp(offset) + iota along each
// dim with a data-dependent offset, so that the offset is read in the
// kernel) and dynamic_update_slice with constant offsets (clamped).
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32> {{.*}}, %[[P:.+]]: tensor<i32>
// CHECK: %[[E:.+]] = tensor.expand_shape %[[X]] {{.*}} into tensor<1x4x8xf32>
// CHECK: sinter.expand %[[E]] : (tensor<1x4x8xf32>) -> tensor<2x4x8xf32>
// CHECK: sinter.transpose %[[X]] {perm = array<i64: 1, 0>}
// CHECK: tensor.extract_slice %[[X]][1, 0] [2, 4] [1, 2]
// CHECK: tensor.concat dim(0) %[[X]], %[[X]]
// CHECK: arith.constant dense<{{\[}}[0, 0, 0], [1, 1, 1]]> : tensor<2x3xi32>
// CHECK: %[[ST:.+]] = tensor.extract_slice %[[X]][0, 2] [4, 4] [1, 1]
// CHECK: %[[P64:.+]] = sinter.cast %[[P]] : (tensor<i32>) -> tensor<i64>
// CHECK: %[[OFF:.+]] = sinter.clip %[[P64]] min %{{.+}} max %{{.+}}
// CHECK: %[[IDS:.+]] = sinter.add %[[OFF]], %{{.+}} : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
// CHECK: %[[DS:.+]] = sinter.gather %[[ST]], %[[IDS]] {axis = 0 : i64} : (tensor<4x4xf32>, tensor<1xi64>) -> tensor<1x4xf32>
// CHECK: tensor.insert_slice %[[DS]] into %[[X]][3, 4] [1, 4] [1, 1]
module @jit_f {
  func.func public @main(%arg0: tensor<4x8xf32>, %arg1: tensor<i32>) -> (tensor<2x4x8xf32>, tensor<8x4xf32>, tensor<2x4xf32>, tensor<8x8xf32>, tensor<2x3xi32>, tensor<4x8xf32>) {
    %0 = stablehlo.broadcast_in_dim %arg0, dims = [1, 2] : (tensor<4x8xf32>) -> tensor<2x4x8xf32>
    %1 = stablehlo.transpose %arg0, dims = [1, 0] : (tensor<4x8xf32>) -> tensor<8x4xf32>
    %2 = stablehlo.slice %arg0 [1:3, 0:8:2] : (tensor<4x8xf32>) -> tensor<2x4xf32>
    %3 = stablehlo.concatenate %arg0, %arg0, dim = 0 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
    %4 = stablehlo.iota dim = 0 : tensor<2x3xi32>
    %c = stablehlo.constant dense<2> : tensor<i32>
    %5 = stablehlo.dynamic_slice %arg0, %arg1, %c, sizes = [1, 4] : (tensor<4x8xf32>, tensor<i32>, tensor<i32>) -> tensor<1x4xf32>
    %c_0 = stablehlo.constant dense<9> : tensor<i32>
    %6 = stablehlo.dynamic_update_slice %arg0, %5, %c_0, %c_0 : (tensor<4x8xf32>, tensor<1x4xf32>, tensor<i32>, tensor<i32>) -> tensor<4x8xf32>
    %7 = stablehlo.reshape %1 : (tensor<8x4xf32>) -> tensor<32xf32>
    return %0, %1, %2, %3, %4, %6 : tensor<2x4x8xf32>, tensor<8x4xf32>, tensor<2x4xf32>, tensor<8x8xf32>, tensor<2x3xi32>, tensor<4x8xf32>
  }
}
