// RUN: sinter-opt %s -sinter-raise-rms-norm=remarks=true -split-input-file -verify-diagnostics | FileCheck %s

// The exporter's Gemma form after canonicalization (1 + w folded):
// Pow/ReduceMean/Add/Sqrt/Div(1, .)/Mul/Mul by the weight.
// CHECK-LABEL: func.func @pow_div_weight
// CHECK-SAME: (%[[X:.+]]: tensor<1x4x64xf32>, %[[W:.+]]: tensor<64xf32>)
// CHECK-NEXT: %[[Y:.+]] = sinter.rms_norm %[[X]], %[[W]] {axis = 2 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<1x4x64xf32>, tensor<64xf32>) -> tensor<1x4x64xf32>
// CHECK-NEXT: return %[[Y]]
func.func @pow_div_weight(%x: tensor<1x4x64xf32>, %w: tensor<64xf32>) -> tensor<1x4x64xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %sq = sinter.pow %x, %two : (tensor<1x4x64xf32>, tensor<f32>) -> tensor<1x4x64xf32>
  %m = sinter.reduce_mean %sq {axes = array<i64: 2>, keepdims} : (tensor<1x4x64xf32>) -> tensor<1x4x1xf32>
  %v = sinter.add %m, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
  %s = sinter.sqrt %v : tensor<1x4x1xf32>
  %r = sinter.div %one, %s : (tensor<f32>, tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %n = sinter.mul %x, %r : (tensor<1x4x64xf32>, tensor<1x4x1xf32>) -> tensor<1x4x64xf32>
  // expected-remark @below {{sinter-raise-rms-norm: fused: rms_norm over axes [2, 3) (eps 1e-06, scale operand) from 7 ops}}
  %y = sinter.mul %n, %w : (tensor<1x4x64xf32>, tensor<64xf32>) -> tensor<1x4x64xf32>
  return %y : tensor<1x4x64xf32>
}

// -----

// x * rsqrt(mean(x * x) + eps), the weight first, per-head norm over the
// last axis of [1, 1, 4, 16] (q/k norm); the Gemma (1 + w) stays an add
// feeding the scale when w is not a constant.
// CHECK-LABEL: func.func @rsqrt_gemma_per_head
// CHECK-SAME: (%[[X:.+]]: tensor<1x1x4x16xf32>, %[[W:.+]]: tensor<16xf32>)
// CHECK: %[[G:.+]] = sinter.add %{{.+}}, %[[W]]
// CHECK-NEXT: %[[Y:.+]] = sinter.rms_norm %[[X]], %[[G]] {axis = 3 : i64, epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @rsqrt_gemma_per_head(%x: tensor<1x1x4x16xf32>, %w: tensor<16xf32>) -> tensor<1x1x4x16xf32> {
  %eps = arith.constant dense<1.0e-5> : tensor<1xf32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %g = sinter.add %one, %w : (tensor<f32>, tensor<16xf32>) -> tensor<16xf32>
  %sq = sinter.mul %x, %x : (tensor<1x1x4x16xf32>, tensor<1x1x4x16xf32>) -> tensor<1x1x4x16xf32>
  %m = sinter.reduce_mean %sq {axes = array<i64: 3>, keepdims} : (tensor<1x1x4x16xf32>) -> tensor<1x1x4x1xf32>
  %v = sinter.add %eps, %m : (tensor<1xf32>, tensor<1x1x4x1xf32>) -> tensor<1x1x4x1xf32>
  %r = sinter.rsqrt %v : tensor<1x1x4x1xf32>
  %n = sinter.mul %r, %x : (tensor<1x1x4x1xf32>, tensor<1x1x4x16xf32>) -> tensor<1x1x4x16xf32>
  // expected-remark @below {{fused: rms_norm over axes [3, 4) (eps 1e-05, scale operand) from 6 ops}}
  %y = sinter.mul %g, %n : (tensor<16xf32>, tensor<1x1x4x16xf32>) -> tensor<1x1x4x16xf32>
  return %y : tensor<1x1x4x16xf32>
}

// -----

// x / sqrt(mean + eps) without a weight: the scale is a constant 1. A bf16
// model computing in f32 between casts: the f32 core is raised, the casts
// stay (same numerics as before).
// CHECK-LABEL: func.func @div_x_bf16_casts
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xbf16>)
// CHECK: %[[XF:.+]] = sinter.cast %[[X]] : (tensor<2x8xbf16>) -> tensor<2x8xf32>
// CHECK: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[N:.+]] = sinter.rms_norm %[[XF]], %[[ONE]] {axis = 1 : i64, epsilon = 9.99999997E-7 : f32}
// CHECK: %[[Y:.+]] = sinter.cast %[[N]] : (tensor<2x8xf32>) -> tensor<2x8xbf16>
// CHECK: return %[[Y]]
func.func @div_x_bf16_casts(%x: tensor<2x8xbf16>) -> tensor<2x8xbf16> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %xf = sinter.cast %x : (tensor<2x8xbf16>) -> tensor<2x8xf32>
  %sq = sinter.pow %xf, %two : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %m = sinter.reduce_mean %sq {axes = array<i64: 1>, keepdims} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %v = sinter.add %m, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %s = sinter.sqrt %v : tensor<2x1xf32>
  // expected-remark @below {{fused: rms_norm over axes [1, 2) (eps 1e-06, no scale) from 5 ops}}
  %n = sinter.div %xf, %s : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %y = sinter.cast %n : (tensor<2x8xf32>) -> tensor<2x8xbf16>
  return %y : tensor<2x8xbf16>
}

// -----

// Reciprocal(Sqrt) and a weight [1, 1, 8] with leading unit dims, reshaped
// to the normalized rank.
// CHECK-LABEL: func.func @reciprocal_weight_3d
// CHECK: %[[C:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2]] : tensor<1x1x8xf32> into tensor<8xf32>
// CHECK: sinter.rms_norm %{{.+}}, %[[C]] {axis = 2 : i64
func.func @reciprocal_weight_3d(%x: tensor<1x2x8xf32>, %w: tensor<1x1x8xf32>) -> tensor<1x2x8xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %sq = sinter.pow %x, %two : (tensor<1x2x8xf32>, tensor<f32>) -> tensor<1x2x8xf32>
  %m = sinter.reduce_mean %sq {axes = array<i64: 2>, keepdims} : (tensor<1x2x8xf32>) -> tensor<1x2x1xf32>
  %v = sinter.add %m, %eps : (tensor<1x2x1xf32>, tensor<f32>) -> tensor<1x2x1xf32>
  %s = sinter.sqrt %v : tensor<1x2x1xf32>
  %r = sinter.reciprocal %s : tensor<1x2x1xf32>
  %n = sinter.mul %x, %r : (tensor<1x2x8xf32>, tensor<1x2x1xf32>) -> tensor<1x2x8xf32>
  // expected-remark @below {{fused: rms_norm over axes [2, 3) (eps 1e-06, scale operand) from 7 ops}}
  %y = sinter.mul %n, %w : (tensor<1x2x8xf32>, tensor<1x1x8xf32>) -> tensor<1x2x8xf32>
  return %y : tensor<1x2x8xf32>
}

// -----

// Refused: the mean is over a leading axis.
// CHECK-LABEL: func.func @wrong_axis
// CHECK-NOT: sinter.rms_norm
func.func @wrong_axis(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %sq = sinter.pow %x, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  // expected-remark @below {{sinter-raise-rms-norm: refused: the mean is over axes [0] of a rank-2 input, not the trailing axes}}
  %m = sinter.reduce_mean %sq {axes = array<i64: 0>, keepdims} : (tensor<4x8xf32>) -> tensor<1x8xf32>
  %v = sinter.add %m, %eps : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %r = sinter.rsqrt %v : tensor<1x8xf32>
  %n = sinter.mul %x, %r : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// -----

// Refused: epsilon is computed (a function argument), not a constant.
// CHECK-LABEL: func.func @eps_not_constant
// CHECK-NOT: sinter.rms_norm
func.func @eps_not_constant(%x: tensor<4x8xf32>, %eps: tensor<f32>) -> tensor<4x8xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %sq = sinter.pow %x, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  // expected-remark @below {{refused: epsilon is not a constant (it comes from a block argument)}}
  %m = sinter.reduce_mean %sq {axes = array<i64: 1>, keepdims} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %v = sinter.add %m, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = sinter.rsqrt %v : tensor<4x1xf32>
  %n = sinter.mul %x, %r : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// -----

// Refused: the reciprocal RMS of x multiplies another tensor y.
// CHECK-LABEL: func.func @other_input
// CHECK-NOT: sinter.rms_norm
func.func @other_input(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %sq = sinter.pow %x, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  // expected-remark @below {{refused: the reciprocal RMS does not multiply the squared input}}
  %m = sinter.reduce_mean %sq {axes = array<i64: 1>, keepdims} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %v = sinter.add %m, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = sinter.rsqrt %v : tensor<4x1xf32>
  %n = sinter.mul %y, %r : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// -----

// Refused: keepdims off; and the mean has a second user (the variance is
// an output), so raising would compute it twice.
// CHECK-LABEL: func.func @no_keepdims_and_shared_mean
// CHECK-NOT: sinter.rms_norm
func.func @no_keepdims_and_shared_mean(%x: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4x8xf32>, tensor<4x1xf32>) {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %sq = sinter.pow %x, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  // expected-remark @below {{refused: the mean drops the reduced axes (keepdims off)}}
  %m0 = sinter.reduce_mean %sq {axes = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4xf32>
  // expected-remark @below {{refused: the mean of squares has 2 users, not one add of epsilon}}
  %m = sinter.reduce_mean %sq {axes = array<i64: 1>, keepdims} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %v = sinter.add %m, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = sinter.rsqrt %v : tensor<4x1xf32>
  %n = sinter.mul %x, %r : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %m0, %n, %m : tensor<4xf32>, tensor<4x8xf32>, tensor<4x1xf32>
}

// -----

// Not a candidate (no remark): the mean of x^3.
// CHECK-LABEL: func.func @cube_mean
// CHECK-NOT: sinter.rms_norm
func.func @cube_mean(%x: tensor<4x8xf32>) -> tensor<4x1xf32> {
  %three = arith.constant dense<3.0> : tensor<f32>
  %sq = sinter.pow %x, %three : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %m = sinter.reduce_mean %sq {axes = array<i64: 1>, keepdims} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  return %m : tensor<4x1xf32>
}

// -----

// The weight varies along a non-normalized axis ([4, 1]): the core is
// raised, the multiply stays.
// CHECK-LABEL: func.func @row_weight_not_folded
// CHECK: %[[N:.+]] = sinter.rms_norm
// CHECK: sinter.mul %[[N]], %{{.+}} : (tensor<4x8xf32>, tensor<4x1xf32>)
func.func @row_weight_not_folded(%x: tensor<4x8xf32>, %w: tensor<4x1xf32>) -> tensor<4x8xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %sq = sinter.pow %x, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %m = sinter.reduce_mean %sq {axes = array<i64: 1>, keepdims} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %v = sinter.add %m, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = sinter.rsqrt %v : tensor<4x1xf32>
  // expected-remark @below {{fused: rms_norm over axes [1, 2) (eps 1e-06, no scale) from 5 ops}}
  %n = sinter.mul %x, %r : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %y = sinter.mul %n, %w : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
