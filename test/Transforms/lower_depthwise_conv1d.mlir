// RUN: sinter-opt %s -sinter-lower-depthwise-conv1d -split-input-file -verify-diagnostics | FileCheck %s

// Causal pads, inline f32 weight: no casts, the weight columns folded, the
// [C, 1, K] constant erased once dead.
// CHECK-LABEL: func.func @causal_f32_const_weight
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x5xf32>)
// CHECK-NOT: tensor<2x1x4xf32>
// CHECK: %[[Z:.+]] = arith.constant dense<0.000000e+00> : tensor<f32>
// CHECK: %[[P:.+]] = sinter.pad %[[X]], %[[Z]] {mode = #sinter<pad_mode constant>, pads = array<i64: 0, 0, 3, 0, 0, 0>} : (tensor<1x2x5xf32>, tensor<f32>) -> tensor<1x2x8xf32>
// CHECK: %[[S0:.+]] = tensor.extract_slice %[[P]][0, 0, 0] [1, 2, 5] [1, 1, 1]
// CHECK: %[[W0:.+]] = arith.constant dense<{{\[}}[1.000000e+00], [5.000000e+00]]> : tensor<2x1xf32>
// CHECK: %[[M0:.+]] = sinter.mul %[[S0]], %[[W0]]
// CHECK: tensor.extract_slice %[[P]][0, 0, 1] [1, 2, 5]
// CHECK: tensor.extract_slice %[[P]][0, 0, 2] [1, 2, 5]
// CHECK: %[[S3:.+]] = tensor.extract_slice %[[P]][0, 0, 3] [1, 2, 5]
// CHECK: %[[W3:.+]] = arith.constant dense<{{\[}}[4.000000e+00], [8.000000e+00]]> : tensor<2x1xf32>
// CHECK: %[[M3:.+]] = sinter.mul %[[S3]], %[[W3]]
// CHECK: %[[A:.+]] = sinter.add %{{.+}}, %[[M3]]
// CHECK-NOT: sinter.conv
// CHECK-NOT: sinter.cast
// CHECK: return %[[A]]
func.func @causal_f32_const_weight(%x: tensor<1x2x5xf32>) -> tensor<1x2x5xf32> {
  %w = arith.constant dense<[[[1.0, 2.0, 3.0, 4.0]], [[5.0, 6.0, 7.0, 8.0]]]> : tensor<2x1x4xf32>
  // expected-remark @below {{sinter-lower-depthwise-conv1d: fused: depthwise conv1d (2 channels, K 4, pads [3, 0]) as 4 shifted slice multiply-adds accumulated in f32}}
  %y = sinter.conv %x, %w {dilations = array<i64: 1>, group = 2 : i64, pads = array<i64: 3, 0>, strides = array<i64: 1>} : (tensor<1x2x5xf32>, tensor<2x1x4xf32>) -> tensor<1x2x5xf32>
  return %y : tensor<1x2x5xf32>
}

// -----

// bf16, weight and bias as arguments, symmetric pads: the input is widened
// before the pad, each weight column is sliced and widened, the bias is
// widened and reshaped to [C, 1], one cast back at the end.
// CHECK-LABEL: func.func @symmetric_bf16_bias
// CHECK-SAME: (%[[X:.+]]: tensor<2x8x6xbf16>, %[[W:.+]]: tensor<8x1x3xbf16>, %[[B:.+]]: tensor<8xbf16>)
// CHECK: %[[XF:.+]] = sinter.cast %[[X]] : (tensor<2x8x6xbf16>) -> tensor<2x8x6xf32>
// CHECK: %[[P:.+]] = sinter.pad %[[XF]], %{{.+}} {{.+}}pads = array<i64: 0, 0, 1, 0, 0, 1>{{.+}} -> tensor<2x8x8xf32>
// CHECK: %[[S0:.+]] = tensor.extract_slice %[[P]][0, 0, 0] [2, 8, 6] [1, 1, 1] : tensor<2x8x8xf32> to tensor<2x8x6xf32>
// CHECK: %[[W0:.+]] = tensor.extract_slice %[[W]][0, 0, 0] [8, 1, 1] [1, 1, 1] : tensor<8x1x3xbf16> to tensor<8x1xbf16>
// CHECK: %[[W0F:.+]] = sinter.cast %[[W0]] : (tensor<8x1xbf16>) -> tensor<8x1xf32>
// CHECK: sinter.mul %[[S0]], %[[W0F]] : (tensor<2x8x6xf32>, tensor<8x1xf32>) -> tensor<2x8x6xf32>
// CHECK: tensor.extract_slice %[[W]][0, 0, 2] [8, 1, 1]
// CHECK: %[[BF:.+]] = sinter.cast %[[B]] : (tensor<8xbf16>) -> tensor<8xf32>
// CHECK: %[[BC:.+]] = tensor.expand_shape %[[BF]] {{\[}}[0, 1]] output_shape [8, 1]
// CHECK: %[[ACC:.+]] = sinter.add %{{.+}}, %[[BC]] : (tensor<2x8x6xf32>, tensor<8x1xf32>) -> tensor<2x8x6xf32>
// CHECK: %[[Y:.+]] = sinter.cast %[[ACC]] : (tensor<2x8x6xf32>) -> tensor<2x8x6xbf16>
// CHECK: return %[[Y]]
func.func @symmetric_bf16_bias(%x: tensor<2x8x6xbf16>, %w: tensor<8x1x3xbf16>, %b: tensor<8xbf16>) -> tensor<2x8x6xbf16> {
  // expected-remark @below {{fused: depthwise conv1d (8 channels, K 3, pads [1, 1], bias) as 3 shifted slice multiply-adds accumulated in f32}}
  %y = sinter.conv %x, %w bias %b {dilations = array<i64: 1>, group = 8 : i64, pads = array<i64: 1, 1>, strides = array<i64: 1>} : (tensor<2x8x6xbf16>, tensor<8x1x3xbf16>, tensor<8xbf16>) -> tensor<2x8x6xbf16>
  return %y : tensor<2x8x6xbf16>
}

// -----

// f16 with inline weight and bias: folded straight to f32 constants (the
// f16 ones erased once dead); no pad
// without pads (the output is shorter than the input).
// CHECK-LABEL: func.func @valid_f16_const
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x4xf16>)
// CHECK-NOT: arith.constant{{.*}}xf16>
// CHECK: %[[XF:.+]] = sinter.cast %[[X]] : (tensor<1x2x4xf16>) -> tensor<1x2x4xf32>
// CHECK-NOT: sinter.pad
// CHECK: %[[S0:.+]] = tensor.extract_slice %[[XF]][0, 0, 0] [1, 2, 3] [1, 1, 1]
// CHECK: %[[W0:.+]] = arith.constant dense<{{\[}}[5.000000e-01], [2.000000e+00]]> : tensor<2x1xf32>
// CHECK: sinter.mul %[[S0]], %[[W0]]
// CHECK: tensor.extract_slice %[[XF]][0, 0, 1] [1, 2, 3]
// CHECK: %[[BC:.+]] = arith.constant dense<{{\[}}[1.000000e+00], [-1.000000e+00]]> : tensor<2x1xf32>
// CHECK: %[[ACC:.+]] = sinter.add %{{.+}}, %[[BC]]
// CHECK: %[[Y:.+]] = sinter.cast %[[ACC]] : (tensor<1x2x3xf32>) -> tensor<1x2x3xf16>
// CHECK: return %[[Y]]
func.func @valid_f16_const(%x: tensor<1x2x4xf16>) -> tensor<1x2x3xf16> {
  %w = arith.constant dense<[[[0.5, 0.25]], [[2.0, 4.0]]]> : tensor<2x1x2xf16>
  %b = arith.constant dense<[1.0, -1.0]> : tensor<2xf16>
  // expected-remark @below {{fused: depthwise conv1d (2 channels, K 2, pads [0, 0], bias)}}
  %y = sinter.conv %x, %w bias %b {dilations = array<i64: 1>, group = 2 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x2x4xf16>, tensor<2x1x2xf16>, tensor<2xf16>) -> tensor<1x2x3xf16>
  return %y : tensor<1x2x3xf16>
}

// -----

// K = 1: one slice, no add.
// CHECK-LABEL: func.func @kernel_one
// CHECK: %[[S:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0] [1, 4, 3] [1, 1, 1]
// CHECK: %[[M:.+]] = sinter.mul %[[S]]
// CHECK-NOT: sinter.add
// CHECK: return %[[M]]
func.func @kernel_one(%x: tensor<1x4x3xf32>, %w: tensor<4x1x1xf32>) -> tensor<1x4x3xf32> {
  // expected-remark @below {{fused: depthwise conv1d (4 channels, K 1, pads [0, 0]) as 1 shifted slice}}
  %y = sinter.conv %x, %w {dilations = array<i64: 1>, group = 4 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x4x3xf32>, tensor<4x1x1xf32>) -> tensor<1x4x3xf32>
  return %y : tensor<1x4x3xf32>
}

// -----

// The stateful decode form: the conv over concat(state, x) is rewritten;
// the concat and the new-state slice of its last K-1 columns stay.
// CHECK-LABEL: func.func @stateful_decode
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x1xbf16>, %[[S:.+]]: tensor<1x8x3xbf16>, %[[W:.+]]: tensor<8x1x4xbf16>)
// CHECK: %[[C:.+]] = tensor.concat dim(2) %[[S]], %[[X]]
// CHECK: %[[CF:.+]] = sinter.cast %[[C]] : (tensor<1x8x4xbf16>) -> tensor<1x8x4xf32>
// CHECK-NOT: sinter.pad
// CHECK: tensor.extract_slice %[[CF]][0, 0, 3] [1, 8, 1] [1, 1, 1]
// CHECK: %[[Y:.+]] = sinter.cast %{{.+}} : (tensor<1x8x1xf32>) -> tensor<1x8x1xbf16>
// CHECK: %[[NS:.+]] = tensor.extract_slice %[[C]][0, 0, 1] [1, 8, 3] [1, 1, 1]
// CHECK: return %[[Y]], %[[NS]]
func.func @stateful_decode(%x: tensor<1x8x1xbf16>, %s: tensor<1x8x3xbf16>, %w: tensor<8x1x4xbf16>) -> (tensor<1x8x1xbf16>, tensor<1x8x3xbf16>) {
  %c = tensor.concat dim(2) %s, %x : (tensor<1x8x3xbf16>, tensor<1x8x1xbf16>) -> tensor<1x8x4xbf16>
  // expected-remark @below {{fused: depthwise conv1d (8 channels, K 4, pads [0, 0], stateful decode form) as 4 shifted slice multiply-adds accumulated in f32}}
  %y = sinter.conv %c, %w {dilations = array<i64: 1>, group = 8 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x8x4xbf16>, tensor<8x1x4xbf16>) -> tensor<1x8x1xbf16>
  %ns = tensor.extract_slice %c[0, 0, 1] [1, 8, 3] [1, 1, 1] : tensor<1x8x4xbf16> to tensor<1x8x3xbf16>
  return %y, %ns : tensor<1x8x1xbf16>, tensor<1x8x3xbf16>
}

// -----

// sinter.causal_conv_with_state: the state concat, K slices, the SiLU after
// the cast back, present_state the concat's tail.
// CHECK-LABEL: func.func @causal_conv_with_state_silu
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x2xbf16>, %[[W:.+]]: tensor<8x1x4xbf16>, %[[S:.+]]: tensor<1x8x3xbf16>)
// CHECK: %[[C:.+]] = tensor.concat dim(2) %[[S]], %[[X]]
// CHECK: %[[CF:.+]] = sinter.cast %[[C]] : (tensor<1x8x5xbf16>) -> tensor<1x8x5xf32>
// CHECK: tensor.extract_slice %[[CF]][0, 0, 3] [1, 8, 2] [1, 1, 1]
// CHECK: %[[YB:.+]] = sinter.cast %{{.+}} : (tensor<1x8x2xf32>) -> tensor<1x8x2xbf16>
// CHECK: %[[Y:.+]] = sinter.silu %[[YB]] : tensor<1x8x2xbf16>
// CHECK: %[[P:.+]] = tensor.extract_slice %[[C]][0, 0, 2] [1, 8, 3] [1, 1, 1]
// CHECK-NOT: sinter.causal_conv_with_state
// CHECK: return %[[Y]], %[[P]]
func.func @causal_conv_with_state_silu(%x: tensor<1x8x2xbf16>, %w: tensor<8x1x4xbf16>, %s: tensor<1x8x3xbf16>) -> (tensor<1x8x2xbf16>, tensor<1x8x3xbf16>) {
  // expected-remark @below {{sinter-lower-depthwise-conv1d: fused: causal_conv_with_state (8 channels, K 4) as state concat and 4 shifted slice multiply-adds accumulated in f32}}
  %y, %p = sinter.causal_conv_with_state %x, %w state %s {silu} : (tensor<1x8x2xbf16>, tensor<8x1x4xbf16>, tensor<1x8x3xbf16>) -> (tensor<1x8x2xbf16>, tensor<1x8x3xbf16>)
  return %y, %p : tensor<1x8x2xbf16>, tensor<1x8x3xbf16>
}

// -----

// Without a past state the prefix is zeros.
// CHECK-LABEL: func.func @causal_conv_with_state_no_state
// CHECK: %[[Z:.+]] = arith.constant dense<0.000000e+00> : tensor<1x4x2xf32>
// CHECK: %[[C:.+]] = tensor.concat dim(2) %[[Z]], %{{.+}}
// CHECK-NOT: sinter.silu
// CHECK: tensor.extract_slice %[[C]][0, 0, 3] [1, 4, 2]
func.func @causal_conv_with_state_no_state(%x: tensor<1x4x3xf32>, %w: tensor<4x1x3xf32>, %b: tensor<4xf32>) -> (tensor<1x4x3xf32>, tensor<1x4x2xf32>) {
  // expected-remark @below {{fused: causal_conv_with_state (4 channels, K 3)}}
  %y, %p = sinter.causal_conv_with_state %x, %w bias %b : (tensor<1x4x3xf32>, tensor<4x1x3xf32>, tensor<4xf32>) -> (tensor<1x4x3xf32>, tensor<1x4x2xf32>)
  return %y, %p : tensor<1x4x3xf32>, tensor<1x4x2xf32>
}

// -----

// CHECK-LABEL: func.func @refuse_dense_conv
// CHECK: sinter.conv
func.func @refuse_dense_conv(%x: tensor<1x4x8xf32>, %w: tensor<4x4x3xf32>) -> tensor<1x4x6xf32> {
  // expected-remark @below {{sinter-lower-depthwise-conv1d: refused: group 1 is not the input channel count 4 (not depthwise)}}
  %y = sinter.conv %x, %w {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x4x8xf32>, tensor<4x4x3xf32>) -> tensor<1x4x6xf32>
  return %y : tensor<1x4x6xf32>
}

// -----

// CHECK-LABEL: func.func @refuse_channel_multiplier
// CHECK: sinter.conv
func.func @refuse_channel_multiplier(%x: tensor<1x4x8xf32>, %w: tensor<8x1x3xf32>) -> tensor<1x8x6xf32> {
  // expected-remark @below {{refused: channel multiplier: 8 output channels for 4 input channels (depthwise needs M == C)}}
  %y = sinter.conv %x, %w {dilations = array<i64: 1>, group = 4 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x4x8xf32>, tensor<8x1x3xf32>) -> tensor<1x8x6xf32>
  return %y : tensor<1x8x6xf32>
}

// -----

// CHECK-LABEL: func.func @refuse_stride
// CHECK: sinter.conv
func.func @refuse_stride(%x: tensor<1x4x8xf32>, %w: tensor<4x1x2xf32>) -> tensor<1x4x4xf32> {
  // expected-remark @below {{refused: stride 2 (needs 1)}}
  %y = sinter.conv %x, %w {dilations = array<i64: 1>, group = 4 : i64, pads = array<i64: 0, 0>, strides = array<i64: 2>} : (tensor<1x4x8xf32>, tensor<4x1x2xf32>) -> tensor<1x4x4xf32>
  return %y : tensor<1x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @refuse_dilation
// CHECK: sinter.conv
func.func @refuse_dilation(%x: tensor<1x4x8xf32>, %w: tensor<4x1x2xf32>) -> tensor<1x4x6xf32> {
  // expected-remark @below {{refused: dilation 2 (needs 1)}}
  %y = sinter.conv %x, %w {dilations = array<i64: 2>, group = 4 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x4x8xf32>, tensor<4x1x2xf32>) -> tensor<1x4x6xf32>
  return %y : tensor<1x4x6xf32>
}

// -----

// CHECK-LABEL: func.func @refuse_2d
// CHECK: sinter.conv
func.func @refuse_2d(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-remark @below {{refused: not a 1-D convolution (2-D)}}
  %y = sinter.conv %x, %w {dilations = array<i64: 1, 1>, group = 4 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

// CHECK-LABEL: func.func @refuse_large_kernel
// CHECK: sinter.conv
func.func @refuse_large_kernel(%x: tensor<1x2x32xf32>, %w: tensor<2x1x17xf32>) -> tensor<1x2x16xf32> {
  // expected-remark @below {{refused: kernel size 17 above max-kernel-size 16}}
  %y = sinter.conv %x, %w {dilations = array<i64: 1>, group = 2 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x2x32xf32>, tensor<2x1x17xf32>) -> tensor<1x2x16xf32>
  return %y : tensor<1x2x16xf32>
}
