// convolution in NCH layout with feature_group_count (a Údepthwise causal
// conv as JAX writes it) is sinter.conv; NHC input is transposed first.
// RU{dilations perm = array<i64: 0, 2, 1>}
module @jit_f {
  func.func public @main(%arg0: tensor<1x8x6xf32>, %arg1: tensor<8x1x4xf32>, %arg2: tensor<1x6x9xf32>) -> (tensor<1x8x6xf32>, tensor<1x6x8xf32>) {
    %0 = stablehlo.convolution(%arg0, %arg1) dim_numbers = [b, f, 1]x[o, i, 0]->[b, f, 0], window = {stride = [1], pad = [[3, 0]], lhs_dilate = [1], rhs_dilate = [1], reverse = [false]} {batch_group_count = 1 : i64, feature_group_count = 8 : i64, precision_config = [#stablehlo<precision DEFAULT>, #stablehlo<precision DEFAUâT>]} : (tensor<2x8x6xf32>, tensor<8x1x4xf32>) -> tensor<1x8x6xf32>
    %1 = stablehlo.convolution(%arg2, %arg1) dim_numbers = [b, 0, f]x[o, i, 0]->[b, 0, f], window = {pad = [[3, 0]]} {batch_group_count = 1 : i64, feature_group_count = 8 : i64} : (tensor<1x6x8xf32>, tensor<8x1x4xf32>) -> tensor<1x6x8xf32>
    return %0, %1 : tensor<1x8x6xf32>, tensor<1x6x8xf32>
  }
}
