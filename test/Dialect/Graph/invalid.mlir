// RUN: sinter-opt %s -split-input-file -verify-diagnostics

// One case per verifier check of GraphOps.cpp (and of the shape rules in
// ShapeInference.cpp that the verifiers call), in the order of that file.

//===----------------------------------------------------------------------===//
// Broadcasting and comparisons
//===----------------------------------------------------------------------===//

func.func @broadcast_incompatible(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.add' op operand shapes [2,3] and [4] are not broadcastable}}
  %0 = sinter.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @broadcast_wrong_result_shape(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'sinter.mul' op result shape [3,2] does not match the expected [2,3]}}
  %0 = sinter.mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @broadcast_element_type(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{'sinter.sub' op operand #1 element type 'f16' differs from result element type 'f32'}}
  %0 = sinter.sub %a, %b : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

func.func @where_value_element_type(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xi64>) {
  // expected-error @+1 {{'sinter.where' op operand #2 element type 'i64' differs from result element type 'f32'}}
  %0 = sinter.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xi64>) -> tensor<4xf32>
  return
}

// -----

func.func @compare_element_types(%a: tensor<4xf32>, %b: tensor<4xi32>) {
  // expected-error @+1 {{'sinter.less' op lhs element type 'f32' differs from rhs element type 'i32'}}
  %0 = sinter.less %a, %b : (tensor<4xf32>, tensor<4xi32>) -> tensor<4xi1>
  return
}

// -----

func.func @compare_result_not_bool(%a: tensor<4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{result #0 must be statically shaped tensor of 1-bit signless integer values}}
  %0 = sinter.equal %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// Graph tensors have static shapes.
func.func @dynamic_shape(%a: tensor<?xf32>) {
  // expected-error @+1 {{must be statically shaped tensor}}
  %0 = sinter.exp %a : tensor<?xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Clip
//===----------------------------------------------------------------------===//

func.func @clip_bound_not_scalar(%x: tensor<4xf32>, %lo: tensor<1xf32>) {
  // expected-error @+1 {{'sinter.clip' op bounds must be rank-0 tensors}}
  %0 = sinter.clip %x min %lo : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @clip_bound_element_type(%x: tensor<4xf32>, %hi: tensor<f16>) {
  // expected-error @+1 {{'sinter.clip' op input element type 'f32' differs from bound element type 'f16'}}
  %0 = sinter.clip %x max %hi : (tensor<4xf32>, tensor<f16>) -> tensor<4xf32>
  return
}

// -----

func.func @clip_result_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.clip' op result type must equal the input type}}
  %0 = sinter.clip %x : (tensor<4xf32>) -> tensor<2x2xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

func.func @reduce_axes_empty(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.reduce_sum' op axes must not be empty (spell out every axis)}}
  %0 = sinter.reduce_sum %x {axes = array<i64>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_axis_out_of_range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.reduce_max' op axis 2 is out of range for rank 2}}
  %0 = sinter.reduce_max %x {axes = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @reduce_axis_negative(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.reduce_mean' op axis -1 is out of range for rank 2}}
  %0 = sinter.reduce_mean %x {axes = array<i64: -1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @reduce_axes_unsorted(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'sinter.reduce_prod' op axes [2,0] are not sorted and unique}}
  %0 = sinter.reduce_prod %x {axes = array<i64: 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @reduce_axes_duplicate(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'sinter.reduce_l1' op axes [1,1] are not sorted and unique}}
  %0 = sinter.reduce_l1 %x {axes = array<i64: 1, 1>} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @reduce_element_type(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.reduce_min' op input element type 'f32' differs from result element type 'f16'}}
  %0 = sinter.reduce_min %x {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf16>
  return
}

// -----

func.func @reduce_keepdims_shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.reduce_sum_square' op result shape [2] does not match the expected [2,1]}}
  %0 = sinter.reduce_sum_square %x {axes = array<i64: 1>, keepdims} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @reduce_float_only(%x: tensor<2x3xi32>) {
  // expected-error @+1 {{'sinter.reduce_l2' op operand #0 must be statically shaped tensor of}}
  %0 = sinter.reduce_l2 %x {axes = array<i64: 1>} : (tensor<2x3xi32>) -> tensor<2xi32>
  return
}

// -----

func.func @argmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.argmax' op axis 2 is out of range for rank 2}}
  %0 = sinter.argmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xi64>
  return
}

// -----

func.func @argmin_shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.argmin' op result shape [2] does not match the expected [2,1]}}
  %0 = sinter.argmin %x {axis = 1 : i64, keepdims} : (tensor<2x3xf32>) -> tensor<2xi64>
  return
}

// -----

func.func @softmax_negative_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.softmax' op axis -1 is out of range for rank 2}}
  %0 = sinter.softmax %x {axis = -1 : i64} : tensor<2x3xf32>
  return
}

// -----

func.func @cumsum_axis(%x: tensor<5xi64>) {
  // expected-error @+1 {{'sinter.cumsum' op axis 1 is out of range for rank 1}}
  %0 = sinter.cumsum %x {axis = 1 : i64} : tensor<5xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

func.func @rms_norm_axis(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.rms_norm' op axis 2 is out of range for rank 2}}
  %0 = sinter.rms_norm %x, %w {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rms_norm_negative_epsilon(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.rms_norm' op epsilon must not be negative}}
  %0 = sinter.rms_norm %x, %w {axis = 1 : i64, epsilon = -1.0e-06 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rms_norm_result_type(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.rms_norm' op result type must equal the input type}}
  %0 = sinter.rms_norm %x, %w {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xbf16>
  return
}

// -----

func.func @rms_norm_scale_shape(%x: tensor<2x8xf32>, %w: tensor<2x8xf32>) {
  // expected-error @+1 {{'sinter.rms_norm' op scale shape [2,8] does not broadcast to the normalized shape [8]}}
  %0 = sinter.rms_norm %x, %w {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rms_norm_scale_element_type(%x: tensor<2x8xf32>, %w: tensor<8xbf16>) {
  // expected-error @+1 {{'sinter.rms_norm' op input element type 'f32' differs from scale element type 'bf16'}}
  %0 = sinter.rms_norm %x, %w {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<8xbf16>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.layer_norm' op axis -1 is out of range for rank 2}}
  %0:3 = sinter.layer_norm %x, %w {axis = -1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return
}

// -----

func.func @layer_norm_negative_epsilon(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.layer_norm' op epsilon must not be negative}}
  %0:3 = sinter.layer_norm %x, %w {axis = 1 : i64, epsilon = -1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return
}

// -----

func.func @layer_norm_result_type(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.layer_norm' op result type must equal the input type}}
  %0:3 = sinter.layer_norm %x, %w {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<1x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return
}

// -----

func.func @layer_norm_scale_shape(%x: tensor<2x8xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.layer_norm' op scale shape [4] does not broadcast to the normalized shape [8]}}
  %0:3 = sinter.layer_norm %x, %w {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<4xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return
}

// -----

func.func @layer_norm_bias_shape(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{'sinter.layer_norm' op bias shape [2] does not broadcast to the normalized shape [8]}}
  %0:3 = sinter.layer_norm %x, %w bias %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return
}

// -----

func.func @layer_norm_mean_shape(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.layer_norm' op mean shape [2] does not match the expected [2,1]}}
  %0:3 = sinter.layer_norm %x, %w {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2xf32>, tensor<2x1xf32>)
  return
}

// -----

func.func @layer_norm_inv_std_dev_shape(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.layer_norm' op inv_std_dev shape [2,8] does not match the expected [2,1]}}
  %0:3 = sinter.layer_norm %x, %w {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @topk_axis(%x: tensor<1x8xf32>) {
  // expected-error @+1 {{'sinter.topk' op axis 2 is out of range for [1,8]}}
  %0:2 = sinter.topk %x {axis = 2 : i64, k = 2 : i64, largest} : (tensor<1x8xf32>) -> (tensor<1x2xf32>, tensor<1x2xi64>)
  return
}

// -----

func.func @topk_k_too_large(%x: tensor<1x8xf32>) {
  // expected-error @+1 {{'sinter.topk' op k = 9 is not within [0, 8]}}
  %0:2 = sinter.topk %x {axis = 1 : i64, k = 9 : i64, largest} : (tensor<1x8xf32>) -> (tensor<1x9xf32>, tensor<1x9xi64>)
  return
}

// -----

func.func @topk_values_element_type(%x: tensor<1x8xf32>) {
  // expected-error @+1 {{'sinter.topk' op input element type 'f32' differs from values element type 'f16'}}
  %0:2 = sinter.topk %x {axis = 1 : i64, k = 2 : i64} : (tensor<1x8xf32>) -> (tensor<1x2xf16>, tensor<1x2xi64>)
  return
}

// -----

func.func @topk_values_shape(%x: tensor<1x8xf32>) {
  // expected-error @+1 {{'sinter.topk' op values shape [1,8] does not match the expected [1,2]}}
  %0:2 = sinter.topk %x {axis = 1 : i64, k = 2 : i64} : (tensor<1x8xf32>) -> (tensor<1x8xf32>, tensor<1x2xi64>)
  return
}

// -----

func.func @topk_indices_shape(%x: tensor<1x8xf32>) {
  // expected-error @+1 {{'sinter.topk' op indices shape [2] does not match the expected [1,2]}}
  %0:2 = sinter.topk %x {axis = 1 : i64, k = 2 : i64} : (tensor<1x8xf32>) -> (tensor<1x2xf32>, tensor<2xi64>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

func.func @matmul_scalar(%a: tensor<f32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.matmul' op matmul operands must have rank >= 1}}
  %0 = sinter.matmul %a, %b : (tensor<f32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @matmul_contracting_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{'sinter.matmul' op contracting dimensions differ: [2,3] x [4,5]}}
  %0 = sinter.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_batch_mismatch(%a: tensor<2x4x3xf32>, %b: tensor<5x3x6xf32>) {
  // expected-error @+1 {{'sinter.matmul' op batch dimensions of [2,4,3] x [5,3,6] do not broadcast}}
  %0 = sinter.matmul %a, %b : (tensor<2x4x3xf32>, tensor<5x3x6xf32>) -> tensor<2x4x6xf32>
  return
}

// -----

func.func @matmul_element_types(%a: tensor<2x3xf32>, %b: tensor<3x4xf16>) {
  // expected-error @+1 {{'sinter.matmul' op lhs element type 'f32' differs from rhs element type 'f16'}}
  %0 = sinter.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf16>) -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_result_element_type(%a: tensor<2x3xi8>, %b: tensor<3x4xi8>) {
  // expected-error @+1 {{'sinter.matmul' op lhs element type 'i8' differs from result element type 'i32'}}
  %0 = sinter.matmul %a, %b : (tensor<2x3xi8>, tensor<3x4xi8>) -> tensor<2x4xi32>
  return
}

// -----

func.func @matmul_vector_shape(%a: tensor<3xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+1 {{'sinter.matmul' op result shape [1,4] does not match the expected [4]}}
  %0 = sinter.matmul %a, %b : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<1x4xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<2x4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.linear' op linear needs an input of rank >= 1 and a 2-D weight, got [2,4] and [4]}}
  %0 = sinter.linear %x, %w : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

// The weight is [out_features, in_features]: a [in, out] weight is refused.
func.func @linear_weight_mismatch(%x: tensor<2x64xf32>, %w: tensor<64x128xf32>) {
  // expected-error @+1 {{'sinter.linear' op input features 64 do not match weight [64,128] ([out_features, in_features])}}
  %0 = sinter.linear %x, %w : (tensor<2x64xf32>, tensor<64x128xf32>) -> tensor<2x128xf32>
  return
}

// -----

func.func @linear_bias_shape(%x: tensor<2x64xf32>, %w: tensor<128x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'sinter.linear' op bias [64] must be [128]}}
  %0 = sinter.linear %x, %w bias %b : (tensor<2x64xf32>, tensor<128x64xf32>, tensor<64xf32>) -> tensor<2x128xf32>
  return
}

// -----

func.func @linear_weight_element_type(%x: tensor<2x64xf32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'sinter.linear' op input element type 'f32' differs from weight element type 'bf16'}}
  %0 = sinter.linear %x, %w : (tensor<2x64xf32>, tensor<128x64xbf16>) -> tensor<2x128xf32>
  return
}

// -----

func.func @linear_bias_element_type(%x: tensor<2x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf16>) {
  // expected-error @+1 {{'sinter.linear' op input element type 'f32' differs from bias element type 'f16'}}
  %0 = sinter.linear %x, %w bias %b : (tensor<2x64xf32>, tensor<128x64xf32>, tensor<128xf16>) -> tensor<2x128xf32>
  return
}

// -----

func.func @linear_result_element_type(%x: tensor<2x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'sinter.linear' op input element type 'f32' differs from result element type 'f16'}}
  %0 = sinter.linear %x, %w : (tensor<2x64xf32>, tensor<128x64xf32>) -> tensor<2x128xf16>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<2x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'sinter.linear' op result shape [2,64] does not match the expected [2,128]}}
  %0 = sinter.linear %x, %w : (tensor<2x64xf32>, tensor<128x64xf32>) -> tensor<2x64xf32>
  return
}

// -----

func.func @conv_rank(%x: tensor<8x16xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{'sinter.conv' op conv needs input and weight of equal rank 3 to 5, got [8,16] and [8,16]}}
  %0 = sinter.conv %x, %w {dilations = array<i64>, group = 1 : i64, pads = array<i64>, strides = array<i64>} : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @conv_attribute_sizes(%x: tensor<1x8x16xf32>, %w: tensor<8x8x3xf32>) {
  // expected-error @+1 {{'sinter.conv' op conv with 1 spatial dims needs that many strides and dilations and twice as many pads}}
  %0 = sinter.conv %x, %w {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 1>, strides = array<i64: 1>} : (tensor<1x8x16xf32>, tensor<8x8x3xf32>) -> tensor<1x8x15xf32>
  return
}

// -----

func.func @conv_group_mismatch(%x: tensor<1x8x16xf32>, %w: tensor<8x2x4xf32>) {
  // expected-error @+1 {{'sinter.conv' op group 8 does not fit input [1,8,16] and weight [8,2,4]}}
  %0 = sinter.conv %x, %w {dilations = array<i64: 1>, group = 8 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x8x16xf32>, tensor<8x2x4xf32>) -> tensor<1x8x13xf32>
  return
}

// -----

func.func @conv_bias_shape(%x: tensor<1x8x16xf32>, %w: tensor<4x8x3xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.conv' op bias [8] must be [4]}}
  %0 = sinter.conv %x, %w bias %b {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 1, 1>, strides = array<i64: 1>} : (tensor<1x8x16xf32>, tensor<4x8x3xf32>, tensor<8xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @conv_zero_stride(%x: tensor<1x8x16xf32>, %w: tensor<4x8x3xf32>) {
  // expected-error @+1 {{'sinter.conv' op strides and dilations must be positive}}
  %0 = sinter.conv %x, %w {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 1, 1>, strides = array<i64: 0>} : (tensor<1x8x16xf32>, tensor<4x8x3xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @conv_negative_pads(%x: tensor<1x8x16xf32>, %w: tensor<4x8x3xf32>) {
  // expected-error @+1 {{'sinter.conv' op conv pads [-1,0] must not be negative}}
  %0 = sinter.conv %x, %w {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: -1, 0>, strides = array<i64: 1>} : (tensor<1x8x16xf32>, tensor<4x8x3xf32>) -> tensor<1x4x13xf32>
  return
}

// -----

func.func @conv_kernel_too_large(%x: tensor<1x8x2xf32>, %w: tensor<4x8x5xf32>) {
  // expected-error @+1 {{'sinter.conv' op kernel [4,8,5] is larger than padded input [1,8,2]}}
  %0 = sinter.conv %x, %w {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 1, 1>, strides = array<i64: 1>} : (tensor<1x8x2xf32>, tensor<4x8x5xf32>) -> tensor<1x4x1xf32>
  return
}

// -----

func.func @conv_weight_element_type(%x: tensor<1x8x16xf32>, %w: tensor<4x8x3xf16>) {
  // expected-error @+1 {{'sinter.conv' op input element type 'f32' differs from weight element type 'f16'}}
  %0 = sinter.conv %x, %w {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 1, 1>, strides = array<i64: 1>} : (tensor<1x8x16xf32>, tensor<4x8x3xf16>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @conv_bias_element_type(%x: tensor<1x8x16xf32>, %w: tensor<4x8x3xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{'sinter.conv' op input element type 'f32' differs from bias element type 'f16'}}
  %0 = sinter.conv %x, %w bias %b {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 1, 1>, strides = array<i64: 1>} : (tensor<1x8x16xf32>, tensor<4x8x3xf32>, tensor<4xf16>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @conv_result_element_type(%x: tensor<1x8x16xf32>, %w: tensor<4x8x3xf32>) {
  // expected-error @+1 {{'sinter.conv' op input element type 'f32' differs from result element type 'bf16'}}
  %0 = sinter.conv %x, %w {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 1, 1>, strides = array<i64: 1>} : (tensor<1x8x16xf32>, tensor<4x8x3xf32>) -> tensor<1x4x16xbf16>
  return
}

// -----

func.func @conv_result_shape(%x: tensor<1x8x16xf32>, %w: tensor<4x8x3xf32>) {
  // expected-error @+1 {{'sinter.conv' op result shape [1,4,16] does not match the expected [1,4,8]}}
  %0 = sinter.conv %x, %w {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 1, 1>, strides = array<i64: 2>} : (tensor<1x8x16xf32>, tensor<4x8x3xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

func.func @transpose_perm_rank(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.transpose' op perm [0] does not match rank 2}}
  %0 = sinter.transpose %x {perm = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @transpose_bad_perm(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.transpose' op perm [1,1] is not a permutation}}
  %0 = sinter.transpose %x {perm = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @transpose_element_type(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.transpose' op input element type 'f32' differs from result element type 'f16'}}
  %0 = sinter.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf16>
  return
}

// -----

func.func @transpose_result_shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.transpose' op result shape [2,3] does not match the expected [3,2]}}
  %0 = sinter.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @expand_not_broadcast(%x: tensor<3x2xf32>) {
  // expected-error @+1 {{'sinter.expand' op input shape [3,2] does not broadcast to [3,4]}}
  %0 = sinter.expand %x : (tensor<3x2xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @expand_shrinks(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.expand' op input shape [2,3] does not broadcast to [3]}}
  %0 = sinter.expand %x : (tensor<2x3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @expand_element_type(%x: tensor<3x1xf32>) {
  // expected-error @+1 {{'sinter.expand' op input element type 'f32' differs from result element type 'i32'}}
  %0 = sinter.expand %x : (tensor<3x1xf32>) -> tensor<3x4xi32>
  return
}

// -----

func.func @reverse_axes_unsorted(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.reverse' op axes [1,0] are not sorted and unique}}
  %0 = sinter.reverse %x {axes = array<i64: 1, 0>} : tensor<2x3xf32>
  return
}

// -----

func.func @split_axis(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'sinter.split' op axis 2 is out of range for [4,8]}}
  %0:2 = sinter.split %x {axis = 2 : i64, sizes = array<i64: 2, 6>} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x6xf32>)
  return
}

// -----

func.func @split_negative_size(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'sinter.split' op split sizes [10,-2] must not be negative}}
  %0:2 = sinter.split %x {axis = 1 : i64, sizes = array<i64: 10, -2>} : (tensor<4x8xf32>) -> (tensor<4x10xf32>, tensor<4x2xf32>)
  return
}

// -----

func.func @split_sizes_sum(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'sinter.split' op split sizes [2,5] add up to 7, not to dimension 8 of [4,8]}}
  %0:2 = sinter.split %x {axis = 1 : i64, sizes = array<i64: 2, 5>} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x5xf32>)
  return
}

// -----

func.func @split_result_count(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'sinter.split' op has 2 results but 3 sizes}}
  %0:2 = sinter.split %x {axis = 1 : i64, sizes = array<i64: 2, 2, 4>} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>)
  return
}

// -----

func.func @split_result_element_type(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'sinter.split' op input element type 'f32' differs from result element type 'f16'}}
  %0:2 = sinter.split %x {axis = 1 : i64, sizes = array<i64: 2, 6>} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x6xf16>)
  return
}

// -----

func.func @split_result_shape(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'sinter.split' op result #1 shape [4,2] does not match the expected [4,6]}}
  %0:2 = sinter.split %x {axis = 1 : i64, sizes = array<i64: 2, 6>} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>)
  return
}

// -----

func.func @pad_count(%x: tensor<2x2xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{'sinter.pad' op pads [1,1] must have 2 * rank = 4 entries}}
  %0 = sinter.pad %x, %v {mode = #sinter<pad_mode constant>, pads = array<i64: 1, 1>} : (tensor<2x2xf32>, tensor<f32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @pad_crop_below_zero(%x: tensor<2x2xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{'sinter.pad' op pads [-2,0,-1,0] crop [2,2] below zero size}}
  %0 = sinter.pad %x, %v {mode = #sinter<pad_mode constant>, pads = array<i64: -2, 0, -1, 0>} : (tensor<2x2xf32>, tensor<f32>) -> tensor<0x2xf32>
  return
}

// -----

func.func @pad_value_rank(%x: tensor<2x2xf32>, %v: tensor<1xf32>) {
  // expected-error @+1 {{'sinter.pad' op pad value must be a rank-0 tensor}}
  %0 = sinter.pad %x, %v {mode = #sinter<pad_mode constant>, pads = array<i64: 1, 0, 1, 0>} : (tensor<2x2xf32>, tensor<1xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @pad_value_element_type(%x: tensor<2x2xf32>, %v: tensor<i64>) {
  // expected-error @+1 {{'sinter.pad' op input element type 'f32' differs from value element type 'i64'}}
  %0 = sinter.pad %x, %v {mode = #sinter<pad_mode constant>, pads = array<i64: 1, 0, 1, 0>} : (tensor<2x2xf32>, tensor<i64>) -> tensor<4x2xf32>
  return
}

// -----

func.func @pad_result_element_type(%x: tensor<2x2xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{'sinter.pad' op input element type 'f32' differs from result element type 'f16'}}
  %0 = sinter.pad %x, %v {mode = #sinter<pad_mode constant>, pads = array<i64: 1, 0, 1, 0>} : (tensor<2x2xf32>, tensor<f32>) -> tensor<4x2xf16>
  return
}

// -----

func.func @pad_edge_of_empty(%x: tensor<0x2xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{'sinter.pad' op non-constant pad of an empty dimension}}
  %0 = sinter.pad %x, %v {mode = #sinter<pad_mode edge>, pads = array<i64: 1, 0, 0, 0>} : (tensor<0x2xf32>, tensor<f32>) -> tensor<1x2xf32>
  return
}

// -----

func.func @pad_reflect_too_wide(%x: tensor<2x3xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{'sinter.pad' op reflect pads [0,0,0,3] must be smaller than the dimensions of [2,3]}}
  %0 = sinter.pad %x, %v {mode = #sinter<pad_mode reflect>, pads = array<i64: 0, 0, 0, 3>} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @pad_result_shape(%x: tensor<2x2xf32>, %v: tensor<f32>) {
  // expected-error @+1 {{'sinter.pad' op result shape [3,2] does not match the expected [4,2]}}
  %0 = sinter.pad %x, %v {mode = #sinter<pad_mode constant>, pads = array<i64: 1, 0, 1, 0>} : (tensor<2x2xf32>, tensor<f32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @trilu_rank(%x: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.trilu' op input must have rank >= 2}}
  %0 = sinter.trilu %x {k = 0 : i64} : tensor<4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Gather and scatter
//===----------------------------------------------------------------------===//

func.func @gather_axis(%d: tensor<8x4xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{'sinter.gather' op axis 2 is out of range for data [8,4]}}
  %0 = sinter.gather %d, %i {axis = 2 : i64} : (tensor<8x4xf32>, tensor<2xi64>) -> tensor<8x4x2xf32>
  return
}

// -----

func.func @gather_element_type(%d: tensor<8x4xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{'sinter.gather' op data element type 'f32' differs from result element type 'i64'}}
  %0 = sinter.gather %d, %i {axis = 0 : i64} : (tensor<8x4xf32>, tensor<2xi64>) -> tensor<2x4xi64>
  return
}

// -----

func.func @gather_result_shape(%d: tensor<8x4xf32>, %i: tensor<2x3xi32>) {
  // expected-error @+1 {{'sinter.gather' op result shape [8,6] does not match the expected [8,2,3]}}
  %0 = sinter.gather %d, %i {axis = 1 : i64} : (tensor<8x4xf32>, tensor<2x3xi32>) -> tensor<8x6xf32>
  return
}

// -----

func.func @gather_float_indices(%d: tensor<8x4xf32>, %i: tensor<2xf32>) {
  // expected-error @+1 {{'sinter.gather' op operand #1 must be statically shaped tensor of 64-bit signless integer or 32-bit signless integer values}}
  %0 = sinter.gather %d, %i {axis = 0 : i64} : (tensor<8x4xf32>, tensor<2xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @gather_elements_axis(%d: tensor<2x3xf32>, %i: tensor<2x2xi64>) {
  // expected-error @+1 {{'sinter.gather_elements' op axis 2 is out of range for rank 2}}
  %0 = sinter.gather_elements %d, %i {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
  return
}

// -----

func.func @gather_elements_rank(%d: tensor<2x3xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{'sinter.gather_elements' op indices must have the rank of data}}
  %0 = sinter.gather_elements %d, %i {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2xf32>
  return
}

// -----

func.func @gather_elements_element_type(%d: tensor<2x3xf32>, %i: tensor<2x2xi64>) {
  // expected-error @+1 {{'sinter.gather_elements' op data element type 'f32' differs from result element type 'f16'}}
  %0 = sinter.gather_elements %d, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x2xf16>
  return
}

// -----

func.func @gather_elements_result_shape(%d: tensor<2x3xf32>, %i: tensor<2x2xi64>) {
  // expected-error @+1 {{'sinter.gather_elements' op result shape [2,3] does not match the expected [2,2]}}
  %0 = sinter.gather_elements %d, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x3xf32>
  return
}

// -----

func.func @gather_nd_batch_dims(%d: tensor<2x2xf32>, %i: tensor<2x1xi64>) {
  // expected-error @+1 {{'sinter.gather_nd' op batch_dims 2 does not fit data [2,2] and indices [2,1]}}
  %0 = sinter.gather_nd %d, %i {batch_dims = 2 : i64} : (tensor<2x2xf32>, tensor<2x1xi64>) -> tensor<2xf32>
  return
}

// -----

func.func @gather_nd_batch_mismatch(%d: tensor<2x4xf32>, %i: tensor<3x1xi64>) {
  // expected-error @+1 {{'sinter.gather_nd' op batch dims of data [2,4] and indices [3,1] differ}}
  %0 = sinter.gather_nd %d, %i {batch_dims = 1 : i64} : (tensor<2x4xf32>, tensor<3x1xi64>) -> tensor<3xf32>
  return
}

// -----

func.func @gather_nd_tuple_too_long(%d: tensor<2x2xf32>, %i: tensor<1x3xi64>) {
  // expected-error @+1 {{'sinter.gather_nd' op index tuples of length 3 do not fit data [2,2]}}
  %0 = sinter.gather_nd %d, %i {batch_dims = 0 : i64} : (tensor<2x2xf32>, tensor<1x3xi64>) -> tensor<1xf32>
  return
}

// -----

func.func @gather_nd_element_type(%d: tensor<2x2xf32>, %i: tensor<2x2xi64>) {
  // expected-error @+1 {{'sinter.gather_nd' op data element type 'f32' differs from result element type 'f16'}}
  %0 = sinter.gather_nd %d, %i {batch_dims = 0 : i64} : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2xf16>
  return
}

// -----

func.func @gather_nd_result_shape(%d: tensor<2x2xf32>, %i: tensor<2x1xi64>) {
  // expected-error @+1 {{'sinter.gather_nd' op result shape [2] does not match the expected [2,2]}}
  %0 = sinter.gather_nd %d, %i {batch_dims = 0 : i64} : (tensor<2x2xf32>, tensor<2x1xi64>) -> tensor<2xf32>
  return
}

// -----

func.func @scatter_elements_axis(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.scatter_elements' op axis -1 is out of range for rank 2}}
  %0 = sinter.scatter_elements %d, %i, %u {axis = -1 : i64, reduction = #sinter<reduction none>} : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @scatter_elements_updates_shape(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<3x2xf32>) {
  // expected-error @+1 {{'sinter.scatter_elements' op indices and updates must share a shape of data's rank}}
  %0 = sinter.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = #sinter<reduction none>} : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<3x2xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @scatter_elements_element_type(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf16>) {
  // expected-error @+1 {{'sinter.scatter_elements' op data element type 'f32' differs from updates element type 'f16'}}
  %0 = sinter.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = #sinter<reduction add>} : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf16>) -> tensor<3x3xf32>
  return
}

// -----

func.func @scatter_elements_result_type(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>) {
  // expected-error @+1 {{'sinter.scatter_elements' op result type must equal the data type}}
  %0 = sinter.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = #sinter<reduction none>} : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @scatter_nd_indices(%d: tensor<4x4xf32>, %i: tensor<1x3xi64>, %u: tensor<1xf32>) {
  // expected-error @+1 {{'sinter.scatter_nd' op indices [1,3] do not fit data [4,4]}}
  %0 = sinter.scatter_nd %d, %i, %u {reduction = #sinter<reduction none>} : (tensor<4x4xf32>, tensor<1x3xi64>, tensor<1xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @scatter_nd_updates_shape(%d: tensor<4x4xf32>, %i: tensor<1x1xi64>, %u: tensor<4x1xf32>) {
  // expected-error @+1 {{'sinter.scatter_nd' op updates [4,1] must have shape [1,4]}}
  %0 = sinter.scatter_nd %d, %i, %u {reduction = #sinter<reduction none>} : (tensor<4x4xf32>, tensor<1x1xi64>, tensor<4x1xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @scatter_nd_element_type(%d: tensor<4x4xf32>, %i: tensor<1x1xi64>, %u: tensor<1x4xbf16>) {
  // expected-error @+1 {{'sinter.scatter_nd' op data element type 'f32' differs from updates element type 'bf16'}}
  %0 = sinter.scatter_nd %d, %i, %u {reduction = #sinter<reduction none>} : (tensor<4x4xf32>, tensor<1x1xi64>, tensor<1x4xbf16>) -> tensor<4x4xf32>
  return
}

// -----

func.func @scatter_nd_result_type(%d: tensor<4x4xf32>, %i: tensor<1x1xi64>, %u: tensor<1x4xf32>) {
  // expected-error @+1 {{'sinter.scatter_nd' op result type must equal the data type}}
  %0 = sinter.scatter_nd %d, %i, %u {reduction = #sinter<reduction none>} : (tensor<4x4xf32>, tensor<1x1xi64>, tensor<1x4xf32>) -> tensor<4x4xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

func.func @attention_rank(%q: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'sinter.attention' op query, key and value must be 4-D [B, heads, S, D], got [1,4,16], [1,4,16], [1,4,16]}}
  %0:3 = sinter.attention %q, %q, %q {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) -> (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @attention_head_size_mismatch(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x8xf32>) {
  // expected-error @+1 {{'sinter.attention' op query [1,4,1,16], key [1,2,1,8] and value [1,2,1,8] disagree}}
  %0:3 = sinter.attention %q, %k, %k {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>) -> (tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>)
  return
}

// -----

func.func @attention_heads_not_multiple(%q: tensor<1x4x1x16xf32>, %k: tensor<1x3x1x16xf32>) {
  // expected-error @+1 {{'sinter.attention' op query heads 4 are not a multiple of key/value heads 3}}
  %0:3 = sinter.attention %q, %k, %k {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x4x1x16xf32>, tensor<1x3x1x16xf32>, tensor<1x3x1x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x3x1x16xf32>, tensor<1x3x1x16xf32>)
  return
}

// -----

// The custom syntax cannot spell half a cache; the generic form can.
func.func @attention_past_key_alone(%q: tensor<1x2x1x16xf32>, %pk: tensor<1x2x3x16xf32>) {
  // expected-error @+1 {{'sinter.attention' op past_key and past_value must be given together}}
  %0:3 = "sinter.attention"(%q, %q, %q, %pk) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0>, scale = 2.5e-01 : f32, softcap = 0.0 : f32}> : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x3x16xf32>) -> (tensor<1x2x1x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>)
  return
}

// -----

func.func @attention_past_shape(%q: tensor<1x2x1x16xf32>, %pk: tensor<1x2x3x16xf32>, %pv: tensor<1x2x4x16xf32>) {
  // expected-error @+1 {{'sinter.attention' op past_key [1,2,3,16] / past_value [1,2,4,16] do not match key [1,2,1,16] / value [1,2,1,16]}}
  %0:3 = sinter.attention %q, %q, %q past %pk, %pv {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x3x16xf32>, tensor<1x2x4x16xf32>) -> (tensor<1x2x1x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>)
  return
}

// -----

func.func @attention_mask_shape(%q: tensor<1x2x3x16xf32>, %m: tensor<3x4xi1>) {
  // expected-error @+1 {{'sinter.attention' op mask [3,4] does not broadcast to [1,2,3,3]}}
  %0:3 = sinter.attention %q, %q, %q mask %m {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>, tensor<3x4xi1>) -> (tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>)
  return
}

// -----

func.func @attention_key_element_type(%q: tensor<1x2x1x16xf32>, %k: tensor<1x2x1x16xf16>) {
  // expected-error @+1 {{'sinter.attention' op query element type 'f32' differs from key element type 'f16'}}
  %0:3 = sinter.attention %q, %k, %k {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf16>, tensor<1x2x1x16xf16>) -> (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf16>, tensor<1x2x1x16xf16>)
  return
}

// -----

func.func @attention_value_element_type(%q: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xbf16>) {
  // expected-error @+1 {{'sinter.attention' op query element type 'f32' differs from value element type 'bf16'}}
  %0:3 = sinter.attention %q, %q, %v {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xbf16>) -> (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xbf16>)
  return
}

// -----

// An additive mask has the query's type; an integer mask has no meaning.
func.func @attention_integer_mask(%q: tensor<1x2x3x16xf32>, %m: tensor<3x3xi64>) {
  // expected-error @+1 {{'sinter.attention' op query element type 'f32' differs from mask element type 'i64'}}
  %0:3 = sinter.attention %q, %q, %q mask %m {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>, tensor<3x3xi64>) -> (tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>)
  return
}

// -----

func.func @attention_past_element_type(%q: tensor<1x2x1x16xf32>, %pk: tensor<1x2x3x16xf16>) {
  // expected-error @+1 {{'sinter.attention' op query element type 'f32' differs from past_key element type 'f16'}}
  %0:3 = sinter.attention %q, %q, %q past %pk, %pk {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x3x16xf16>, tensor<1x2x3x16xf16>) -> (tensor<1x2x1x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>)
  return
}

// -----

func.func @attention_present_element_type(%q: tensor<1x2x1x16xf32>) {
  // expected-error @+1 {{'sinter.attention' op query element type 'f32' differs from present_value element type 'f16'}}
  %0:3 = sinter.attention %q, %q, %q {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf16>)
  return
}

// -----

func.func @attention_negative_softcap(%q: tensor<1x2x1x16xf32>) {
  // expected-error @+1 {{'sinter.attention' op softcap must not be negative}}
  %0:3 = sinter.attention %q, %q, %q {scale = 2.5e-01 : f32, softcap = -1.0 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>)
  return
}

// -----

func.func @attention_result_shape(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>) {
  // expected-error @+1 {{'sinter.attention' op result shape [1,2,1,16] does not match the expected [1,4,1,16]}}
  %0:3 = sinter.attention %q, %k, %k {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>)
  return
}

// -----

func.func @attention_present_key_shape(%q: tensor<1x2x1x16xf32>, %pk: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'sinter.attention' op present_key shape [1,2,7,16] does not match the expected [1,2,8,16]}}
  %0:3 = sinter.attention %q, %q, %q past %pk, %pk {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x2x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x8x16xf32>)
  return
}

// -----

func.func @attention_present_value_shape(%q: tensor<1x2x1x16xf32>, %pk: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'sinter.attention' op present_value shape [1,2,1,16] does not match the expected [1,2,8,16]}}
  %0:3 = sinter.attention %q, %q, %q past %pk, %pk {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x2x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x1x16xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Rotary embedding
//===----------------------------------------------------------------------===//

func.func @rotary_rank(%x: tensor<1x4x16xf32>, %c: tensor<64x4xf32>) {
  // expected-error @+1 {{'sinter.rotary_embedding' op input must be 4-D [B, heads, S, D], got [1,4,16]}}
  %0 = sinter.rotary_embedding %x, %c, %c {rotary_dim = 8 : i64} : (tensor<1x4x16xf32>, tensor<64x4xf32>, tensor<64x4xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @rotary_dim_odd(%x: tensor<1x2x4x16xf32>, %c: tensor<1x4x3xf32>) {
  // expected-error @+1 {{'sinter.rotary_embedding' op rotary_dim 7 must be even and within head size 16}}
  %0 = sinter.rotary_embedding %x, %c, %c {rotary_dim = 7 : i64} : (tensor<1x2x4x16xf32>, tensor<1x4x3xf32>, tensor<1x4x3xf32>) -> tensor<1x2x4x16xf32>
  return
}

// -----

func.func @rotary_dim_too_large(%x: tensor<1x2x4x16xf32>, %c: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'sinter.rotary_embedding' op rotary_dim 32 must be even and within head size 16}}
  %0 = sinter.rotary_embedding %x, %c, %c {rotary_dim = 32 : i64} : (tensor<1x2x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) -> tensor<1x2x4x16xf32>
  return
}

// -----

func.func @rotary_caches_differ(%x: tensor<1x2x4x16xf32>, %c: tensor<64x4xf32>, %s: tensor<32x4xf32>, %p: tensor<1x4xi64>) {
  // expected-error @+1 {{'sinter.rotary_embedding' op cos_cache [64,4] and sin_cache [32,4] differ}}
  %0 = sinter.rotary_embedding %x, %c, %s positions %p {rotary_dim = 8 : i64} : (tensor<1x2x4x16xf32>, tensor<64x4xf32>, tensor<32x4xf32>, tensor<1x4xi64>) -> tensor<1x2x4x16xf32>
  return
}

// -----

func.func @rotary_positions_shape(%x: tensor<1x2x4x16xf32>, %c: tensor<64x4xf32>, %p: tensor<4xi64>) {
  // expected-error @+1 {{'sinter.rotary_embedding' op position_ids [4] must be [1,4]}}
  %0 = sinter.rotary_embedding %x, %c, %c positions %p {rotary_dim = 8 : i64} : (tensor<1x2x4x16xf32>, tensor<64x4xf32>, tensor<64x4xf32>, tensor<4xi64>) -> tensor<1x2x4x16xf32>
  return
}

// -----

func.func @rotary_cache_with_positions(%x: tensor<1x2x4x16xf32>, %c: tensor<64x8xf32>, %p: tensor<1x4xi64>) {
  // expected-error @+1 {{'sinter.rotary_embedding' op caches [64,8] must be [max_position, 4] with position_ids}}
  %0 = sinter.rotary_embedding %x, %c, %c positions %p {rotary_dim = 8 : i64} : (tensor<1x2x4x16xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<1x4xi64>) -> tensor<1x2x4x16xf32>
  return
}

// -----

func.func @rotary_cache_without_positions(%x: tensor<1x2x4x16xf32>, %c: tensor<64x4xf32>) {
  // expected-error @+1 {{'sinter.rotary_embedding' op caches [64,4] must be [1,4,4] without position_ids}}
  %0 = sinter.rotary_embedding %x, %c, %c {rotary_dim = 8 : i64} : (tensor<1x2x4x16xf32>, tensor<64x4xf32>, tensor<64x4xf32>) -> tensor<1x2x4x16xf32>
  return
}

// -----

func.func @rotary_cache_element_type(%x: tensor<1x2x4x16xf16>, %c: tensor<1x4x4xf32>) {
  // expected-error @+1 {{'sinter.rotary_embedding' op input element type 'f16' differs from cos_cache element type 'f32'}}
  %0 = sinter.rotary_embedding %x, %c, %c {rotary_dim = 8 : i64} : (tensor<1x2x4x16xf16>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x2x4x16xf16>
  return
}

// -----

func.func @rotary_result_type(%x: tensor<1x2x4x16xf32>, %c: tensor<1x4x4xf32>) {
  // expected-error @+1 {{'sinter.rotary_embedding' op result type must equal the input type}}
  %0 = sinter.rotary_embedding %x, %c, %c {rotary_dim = 8 : i64} : (tensor<1x2x4x16xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Tensor scatter (KV cache writes)
//===----------------------------------------------------------------------===//

func.func @tensor_scatter_rank(%c: tensor<16xf32>, %u: tensor<1xf32>) {
  // expected-error @+1 {{'sinter.tensor_scatter' op cache [16] and update [1] must have the same rank >= 2}}
  %0 = sinter.tensor_scatter %c, %u {axis = 0 : i64, mode = #sinter<cache_mode linear>} : (tensor<16xf32>, tensor<1xf32>) -> tensor<16xf32>
  return
}

// -----

func.func @tensor_scatter_axis_zero(%c: tensor<1x2x16x8xf32>, %u: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{'sinter.tensor_scatter' op axis 0 must be a non-batch dimension of the cache}}
  %0 = sinter.tensor_scatter %c, %u {axis = 0 : i64, mode = #sinter<cache_mode linear>} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return
}

// -----

func.func @tensor_scatter_other_dims(%c: tensor<1x2x16x8xf32>, %u: tensor<1x2x1x4xf32>) {
  // expected-error @+1 {{'sinter.tensor_scatter' op update [1,2,1,4] differs from cache [1,2,16,8] outside the sequence axis}}
  %0 = sinter.tensor_scatter %c, %u {axis = 2 : i64, mode = #sinter<cache_mode linear>} : (tensor<1x2x16x8xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x16x8xf32>
  return
}

// -----

func.func @tensor_scatter_update_too_long(%c: tensor<1x2x4x8xf32>, %u: tensor<1x2x5x8xf32>) {
  // expected-error @+1 {{'sinter.tensor_scatter' op update [1,2,5,8] is longer than cache [1,2,4,8] along the sequence axis 2}}
  %0 = sinter.tensor_scatter %c, %u {axis = 2 : i64, mode = #sinter<cache_mode circular>} : (tensor<1x2x4x8xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @tensor_scatter_write_indices(%c: tensor<2x2x16x8xf32>, %u: tensor<2x2x1x8xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{'sinter.tensor_scatter' op write_indices [1] must be [2]}}
  %0 = sinter.tensor_scatter %c, %u, %p {axis = 2 : i64, mode = #sinter<cache_mode linear>} : (tensor<2x2x16x8xf32>, tensor<2x2x1x8xf32>, tensor<1xi64>) -> tensor<2x2x16x8xf32>
  return
}

// -----

func.func @tensor_scatter_result_type(%c: tensor<1x2x16x8xf32>, %u: tensor<1x2x1x8xf32>) {
  // expected-error @+1 {{'sinter.tensor_scatter' op result type must equal the cache type}}
  %0 = sinter.tensor_scatter %c, %u {axis = 2 : i64, mode = #sinter<cache_mode linear>} : (tensor<1x2x16x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x17x8xf32>
  return
}

// -----

func.func @tensor_scatter_element_type(%c: tensor<1x2x16x8xf32>, %u: tensor<1x2x1x8xf16>) {
  // expected-error @+1 {{'sinter.tensor_scatter' op cache element type 'f32' differs from update element type 'f16'}}
  %0 = sinter.tensor_scatter %c, %u {axis = 2 : i64, mode = #sinter<cache_mode linear>} : (tensor<1x2x16x8xf32>, tensor<1x2x1x8xf16>) -> tensor<1x2x16x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Linear attention
//===----------------------------------------------------------------------===//

func.func @linear_attention_rank(%q: tensor<1x2x3x16xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op query, key and value must be 3-D [B, T, H*D]}}
  %0:2 = sinter.linear_attention %q, %q, %q {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>) -> (tensor<1x2x3x16xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_heads(%q: tensor<1x3x32xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op head counts q=3 kv=2 do not divide the packed widths}}
  %0:2 = sinter.linear_attention %q, %q, %q {kv_num_heads = 2 : i64, q_num_heads = 3 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_disagree(%q: tensor<1x3x32xf32>, %k: tensor<1x4x32xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op query [1,3,32], key [1,4,32] and value [1,3,32] disagree}}
  %0:2 = sinter.linear_attention %q, %k, %q {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x3x32xf32>, tensor<1x4x32xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_state_shape(%q: tensor<1x3x32xf32>, %s: tensor<1x2x16x8xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op past_state [1,2,16,8] must be [1,2,16,16]}}
  %0:2 = sinter.linear_attention %q, %q, %q state %s {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x2x16x8xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_gated_delta_needs_decay(%q: tensor<1x3x32xf32>, %b: tensor<1x3x2xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op this update_rule needs a decay input}}
  %0:2 = sinter.linear_attention %q, %q, %q beta %b {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule gated_delta>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x2xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_gated_needs_decay(%q: tensor<1x3x32xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op this update_rule needs a decay input}}
  %0:2 = sinter.linear_attention %q, %q, %q {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule gated>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_delta_needs_beta(%q: tensor<1x3x32xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op this update_rule needs a beta input}}
  %0:2 = sinter.linear_attention %q, %q, %q {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule delta>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_decay_shape(%q: tensor<1x3x32xf32>, %g: tensor<1x3x4xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op decay [1,3,4] must be [B, T, H_kv] or [B, T, H_kv*d_k]}}
  %0:2 = sinter.linear_attention %q, %q, %q decay %g {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule gated>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x4xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_beta_shape(%q: tensor<1x3x32xf32>, %b: tensor<1x3x32xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op beta [1,3,32] must be [B, T, H_kv] or [B, T, 1]}}
  %0:2 = sinter.linear_attention %q, %q, %q beta %b {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule delta>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_element_type(%q: tensor<1x3x32xf32>, %k: tensor<1x3x32xbf16>) {
  // expected-error @+1 {{'sinter.linear_attention' op query element type 'f32' differs from key element type 'bf16'}}
  %0:2 = sinter.linear_attention %q, %k, %q {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x3x32xf32>, tensor<1x3x32xbf16>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_state_element_type(%q: tensor<1x3x32xbf16>, %s: tensor<1x2x16x16xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op past_state element type 'f32' differs from present_state element type 'bf16'}}
  %0:2 = sinter.linear_attention %q, %q, %q state %s {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x3x32xbf16>, tensor<1x3x32xbf16>, tensor<1x3x32xbf16>, tensor<1x2x16x16xf32>) -> (tensor<1x3x32xbf16>, tensor<1x2x16x16xbf16>)
  return
}

// -----

func.func @linear_attention_result_shape(%q: tensor<1x3x32xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op result shape [1,3,16] does not match the expected [1,3,32]}}
  %0:2 = sinter.linear_attention %q, %q, %q {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x16xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @linear_attention_present_state_shape(%q: tensor<1x3x32xf32>) {
  // expected-error @+1 {{'sinter.linear_attention' op present_state shape [1,2,16,8] does not match the expected [1,2,16,16]}}
  %0:2 = sinter.linear_attention %q, %q, %q {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x8xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Causal convolution with state
//===----------------------------------------------------------------------===//

func.func @causal_conv_weight_shape(%x: tensor<1x8x1xf32>, %w: tensor<8x2x4xf32>) {
  // expected-error @+1 {{'sinter.causal_conv_with_state' op input [1,8,1] and weight [8,2,4] must be [B, C, L] and [C, 1, K]}}
  %0:2 = sinter.causal_conv_with_state %x, %w : (tensor<1x8x1xf32>, tensor<8x2x4xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  return
}

// -----

func.func @causal_conv_bias_shape(%x: tensor<1x8x1xf32>, %w: tensor<8x1x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.causal_conv_with_state' op bias [4] must be [8]}}
  %0:2 = sinter.causal_conv_with_state %x, %w bias %b : (tensor<1x8x1xf32>, tensor<8x1x4xf32>, tensor<4xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  return
}

// -----

func.func @causal_conv_bad_state_shape(%x: tensor<1x8x1xf32>, %w: tensor<8x1x4xf32>, %s: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'sinter.causal_conv_with_state' op past_state [1,8,4] must be [1,8,3]}}
  %0:2 = sinter.causal_conv_with_state %x, %w state %s : (tensor<1x8x1xf32>, tensor<8x1x4xf32>, tensor<1x8x4xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  return
}

// -----

func.func @causal_conv_weight_element_type(%x: tensor<1x8x1xf32>, %w: tensor<8x1x4xf16>) {
  // expected-error @+1 {{'sinter.causal_conv_with_state' op input element type 'f32' differs from weight element type 'f16'}}
  %0:2 = sinter.causal_conv_with_state %x, %w : (tensor<1x8x1xf32>, tensor<8x1x4xf16>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  return
}

// -----

func.func @causal_conv_state_element_type(%x: tensor<1x8x1xf16>, %w: tensor<8x1x4xf16>, %s: tensor<1x8x3xf32>) {
  // expected-error @+1 {{'sinter.causal_conv_with_state' op input element type 'f16' differs from past_state element type 'f32'}}
  %0:2 = sinter.causal_conv_with_state %x, %w state %s : (tensor<1x8x1xf16>, tensor<8x1x4xf16>, tensor<1x8x3xf32>) -> (tensor<1x8x1xf16>, tensor<1x8x3xf16>)
  return
}

// -----

func.func @causal_conv_result_shape(%x: tensor<1x8x2xf32>, %w: tensor<8x1x4xf32>) {
  // expected-error @+1 {{'sinter.causal_conv_with_state' op result shape [1,8,1] does not match the expected [1,8,2]}}
  %0:2 = sinter.causal_conv_with_state %x, %w : (tensor<1x8x2xf32>, tensor<8x1x4xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  return
}

// -----

func.func @causal_conv_present_state_shape(%x: tensor<1x8x1xf32>, %w: tensor<8x1x4xf32>) {
  // expected-error @+1 {{'sinter.causal_conv_with_state' op present_state shape [1,8,4] does not match the expected [1,8,3]}}
  %0:2 = sinter.causal_conv_with_state %x, %w : (tensor<1x8x1xf32>, tensor<8x1x4xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x4xf32>)
  return
}

// -----

func.func @gated_linear_broadcast(%g: tensor<2x16xf32>, %u: tensor<1x16xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{'sinter.gated_linear' op gate type 'tensor<2x16xf32>' differs from up type 'tensor<1x16xf32>'}}
  %0 = sinter.gated_linear %g, %u, %w {activation = #sinter<gated_activation silu>} : (tensor<2x16xf32>, tensor<1x16xf32>, tensor<8x16xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @gated_linear_features(%g: tensor<2x16xf32>, %u: tensor<2x16xf32>, %w: tensor<8x12xf32>) {
  // expected-error @+1 {{'sinter.gated_linear' op input features 16 do not match weight [8,12] ([out_features, in_features])}}
  %0 = sinter.gated_linear %g, %u, %w {activation = #sinter<gated_activation relu>} : (tensor<2x16xf32>, tensor<2x16xf32>, tensor<8x12xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @gated_linear_weight_type(%g: tensor<2x16xbf16>, %u: tensor<2x16xbf16>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{'sinter.gated_linear' op gate element type 'bf16' differs from weight element type 'f32'}}
  %0 = sinter.gated_linear %g, %u, %w {activation = #sinter<gated_activation gelu>} : (tensor<2x16xbf16>, tensor<2x16xbf16>, tensor<8x16xf32>) -> tensor<2x8xbf16>
  return
}

// -----

func.func @gated_linear_result_shape(%g: tensor<2x16xf32>, %u: tensor<2x16xf32>, %w: tensor<8x16xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.gated_linear' op result shape [2,16] does not match the expected [2,8]}}
  %0 = sinter.gated_linear %g, %u, %w bias %b {activation = #sinter<gated_activation gelu_tanh>} : (tensor<2x16xf32>, tensor<2x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @gated_linear_operand_type(%g: tensor<2x16xf32>, %u: tensor<2x16xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{'sinter.gated_linear' op operand_type 'bf16' differs from weight element type 'f32'}}
  %0 = sinter.gated_linear %g, %u, %w {activation = #sinter<gated_activation silu>, operand_type = bf16} : (tensor<2x16xf32>, tensor<2x16xf32>, tensor<8x16xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @gated_linear_wide_gate_without_operand_type(%g: tensor<2x16xf32>, %u: tensor<2x16xf32>, %w: tensor<8x16xbf16>) {
  // expected-error @+1 {{'sinter.gated_linear' op gate element type 'f32' differs from weight element type 'bf16'}}
  %0 = sinter.gated_linear %g, %u, %w {activation = #sinter<gated_activation silu>} : (tensor<2x16xf32>, tensor<2x16xf32>, tensor<8x16xbf16>) -> tensor<2x8xbf16>
  return
}

// -----

func.func @gated_linear_operand_type_result(%g: tensor<2x16xf32>, %u: tensor<2x16xf32>, %w: tensor<8x16xbf16>) {
  // expected-error @+1 {{'sinter.gated_linear' op weight element type 'bf16' differs from result element type 'f32'}}
  %0 = sinter.gated_linear %g, %u, %w {activation = #sinter<gated_activation silu>, operand_type = bf16} : (tensor<2x16xf32>, tensor<2x16xf32>, tensor<8x16xbf16>) -> tensor<2x8xf32>
  return
}

// -----

// sinter.moe_router (lib/Dialect/Graph/IR/MoeRouterOp.cpp), in the order
// of its checks.
func.func @moe_router_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{'sinter.moe_router' op logits must have at least one dimension}}
  %w, %i = sinter.moe_router %x {k = 1 : i64} : (tensor<f32>) -> (tensor<1xf32>, tensor<1xi64>)
  return
}

// -----

func.func @moe_router_f64_logits(%x: tensor<2x8xf64>) {
  // expected-error @+1 {{'sinter.moe_router' op logits must be f32, f16 or bf16}}
  %w, %i = sinter.moe_router %x {k = 2 : i64} : (tensor<2x8xf64>) -> (tensor<2x2xf32>, tensor<2x2xi64>)
  return
}

// -----

// The lowering rounds the f32 weights to their type: f64 was accepted and
// failed there (arith.truncf f32 -> f64).
func.func @moe_router_f64_weights(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'sinter.moe_router' op weights must be f32, f16 or bf16, got 'f64'}}
  %w, %i = sinter.moe_router %x {k = 2 : i64} : (tensor<2x8xf32>) -> (tensor<2x2xf64>, tensor<2x2xi64>)
  return
}

// -----

func.func @moe_router_k0(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'sinter.moe_router' op k = 0 must be in [1, min(8, 16)]}}
  %w, %i = sinter.moe_router %x {k = 0 : i64} : (tensor<2x8xf32>) -> (tensor<2x0xf32>, tensor<2x0xi64>)
  return
}

// -----

func.func @moe_router_k_above_experts(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'sinter.moe_router' op k = 9 must be in [1, min(8, 16)]}}
  %w, %i = sinter.moe_router %x {k = 9 : i64} : (tensor<2x8xf32>) -> (tensor<2x9xf32>, tensor<2x9xi64>)
  return
}

// -----

func.func @moe_router_k17(%x: tensor<2x64xf32>) {
  // expected-error @+1 {{'sinter.moe_router' op k = 17 must be in [1, min(64, 16)]}}
  %w, %i = sinter.moe_router %x {k = 17 : i64} : (tensor<2x64xf32>) -> (tensor<2x17xf32>, tensor<2x17xi64>)
  return
}

// -----

func.func @moe_router_experts(%x: tensor<2x1025xf32>) {
  // expected-error @+1 {{'sinter.moe_router' op rows of 1025 experts; at most 1024}}
  %w, %i = sinter.moe_router %x {k = 2 : i64} : (tensor<2x1025xf32>) -> (tensor<2x2xf32>, tensor<2x2xi64>)
  return
}

// -----

func.func @moe_router_weights_shape(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'sinter.moe_router' op weights [3,2] is not [2,2] (logits [2,8], k = 2)}}
  %w, %i = sinter.moe_router %x {k = 2 : i64} : (tensor<2x8xf32>) -> (tensor<3x2xf32>, tensor<2x2xi64>)
  return
}

// -----

func.func @moe_router_indices_shape(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'sinter.moe_router' op indices [2,3] is not [2,2] (logits [2,8], k = 2)}}
  %w, %i = sinter.moe_router %x {k = 2 : i64} : (tensor<2x8xf32>) -> (tensor<2x2xf32>, tensor<2x3xi64>)
  return
}
