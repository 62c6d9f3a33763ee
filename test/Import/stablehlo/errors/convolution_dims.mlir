// Convolution dimension numbers that do not permute the operands' dims are
// refused before any transpose is built from them (fuzz_stablehlo finding
// crash-fc97afeffdf4: an input spatial dim past the operand's rank).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}convolution_dims.mlir:8:9: error: convolution dimension numbers do not match the ranks of its operands
module @jit_f {
  func.func public @main(%arg0: tensor<1x8x16xf32>, %arg1: tensor<8x1x4xf32>) -> (tensor<1x8x13xf32>) {
    %0 = stablehlo.convolution(%arg0, %arg1) dim_numbers = [b, f, 0]x[o, i, 0]->[b, f, 0], window = {stride = [1], pad = [[0, 0]], rhs_dilate = [1]} {batch_group_count = 1 : i64, feature_group_count = 8 : i64, input_spatial_dimensions = [7]} : (tensor<1x8x16xf32>, tensor<8x1x4xf32>) -> tensor<1x8x13xf32>
    return %0 : tensor<1x8x13xf32>
  }
}
