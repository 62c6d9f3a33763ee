// convolution in NCH layout with feature_group_count (a depthwise causal
// conv as JAX writes it) is sinter.conv; NHC input is transposed first.
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x6xf32> {{.*}}, %[[W:.+]]: tensor<8x1x4xf32> {{.*}}, %[[Y:.+]]: tensor<1x6x8xf32>
// CHECK: sinter.conv %[[X]], %[[W]] {dilations = array<i64: 1>, group = 8 : i64, pads = array<i64: 3, 0>, strides = array<i64: 1>} : (tensor<1x8x6xf32>, tensor<8x1x4xf32>) -> tensor<1x8x6xf32>
// CHECK: %[[YT:.+]] = sinter.transpose %[[Y]] {perm = array<i64: 0, 2, 1>}
// CHECK: %[[C:.+]] = sinter.conv %[[YT]], %[[W]]
// CHECK: sinter.transpose %[[C]] {perm = array<i64: 0, 2, 1>}
module @jit_f {
  func.func public @main(%arg0: tensor<1x8x6xf32>, %arg1: tensor<8x1x4xf32>, %arg2: tensor<1x6x8xf32>) -> (tensor<1x8x6xf32>, tensor<1x6x8xf32>) {
    %0 = stablehlo.convolution(%arg0, %arg1) dim_numbers = [b, f, 0]x[o, i, 0]->[b, f, 0], window = {stride = [1], pad = [[3, 0]], lhs_dilate = [1], rhs_dilate = [1], reverse = [false]} {batch_group_count = 1 : i64, feature_group_count = 8 : i64, precision_config = [#stablehlo<precision DEFAULT>, #stablehlo<precision DEFAULT>]} : (tensor<1x8x6xf32>, tensor<8x1x4xf32>) -> tensor<1x8x6xf32>
    %1 = stablehlo.convolution(%arg2, %arg1) dim_numbers = [b, 0, f]x[o, i, 0]->[b, 0, f], window = {pad = [[3, 0]]} {batch_group_count = 1 : i64, feature_group_count = 8 : i64} : (tensor<1x6x8xf32>, tensor<8x1x4xf32>) -> tensor<1x6x8xf32>
    return %0, %1 : tensor<1x8x6xf32>, tensor<1x6x8xf32>
  }
}
