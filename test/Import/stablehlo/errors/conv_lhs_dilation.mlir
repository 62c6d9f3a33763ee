// A transposed convolution (lhs_dilation) is refused with the reason.
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}conv_lhs_dilation.mlir:7:9: error: convolution with lhs_dilation (transposed convolution) is not supported
module @jit_f {
  func.func public @main(%arg0: tensor<4x8xf32>, %arg1: tensor<i32>) -> (tensor<4x8xf32>) {
    %w = stablehlo.constant dense<1.0> : tensor<4x1x2xf32>
    %0 = stablehlo.convolution(%arg0, %w) dim_numbers = [b, f, 0]x[o, i, 0]->[b, f, 0], window = {lhs_dilate = [2]} {batch_group_count = 1 : i64, feature_group_count = 4 : i64} : (tensor<4x8xf32>, tensor<4x1x2xf32>) -> tensor<4x8xf32>
    return %arg0 : tensor<4x8xf32>
  }
}
