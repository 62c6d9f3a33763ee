// RUN: sinter-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// The two input forms and the bias round-trip.
// CHECK-LABEL: func.func @forms
// CHECK: sinter.expert_linear %{{.+}}, %{{.+}}, %{{.+}} : (tensor<4x64xf32>, tensor<8x32x64xf32>, tensor<4x2xi64>) -> tensor<4x2x32xf32>
// CHECK: sinter.expert_linear %{{.+}}, %{{.+}}, %{{.+}} bias %{{.+}} : (tensor<4x2x64xf32>, tensor<8x32x64xf32>, tensor<4x2xi32>, tensor<8x32xf32>) -> tensor<4x2x32xf32>
func.func @forms(%x: tensor<4x64xf32>, %xs: tensor<4x2x64xf32>, %w: tensor<8x32x64xf32>, %i: tensor<4x2xi64>, %i32: tensor<4x2xi32>, %b: tensor<8x32xf32>) -> (tensor<4x2x32xf32>, tensor<4x2x32xf32>) {
  %y = sinter.expert_linear %x, %w, %i : (tensor<4x64xf32>, tensor<8x32x64xf32>, tensor<4x2xi64>) -> tensor<4x2x32xf32>
  %z = sinter.expert_linear %xs, %w, %i32 bias %b : (tensor<4x2x64xf32>, tensor<8x32x64xf32>, tensor<4x2xi32>, tensor<8x32xf32>) -> tensor<4x2x32xf32>
  return %y, %z : tensor<4x2x32xf32>, tensor<4x2x32xf32>
}

// -----

// weight_kn: the weight is [E, K, N] (the export's layout).
// CHECK-LABEL: func.func @weight_kn
// CHECK: sinter.expert_linear %{{.+}}, %{{.+}}, %{{.+}} {weight_kn} : (tensor<4x64xf32>, tensor<8x64x32xf32>, tensor<4x2xi64>) -> tensor<4x2x32xf32>
func.func @weight_kn(%x: tensor<4x64xf32>, %w: tensor<8x64x32xf32>, %i: tensor<4x2xi64>) -> tensor<4x2x32xf32> {
  %y = sinter.expert_linear %x, %w, %i {weight_kn} : (tensor<4x64xf32>, tensor<8x64x32xf32>, tensor<4x2xi64>) -> tensor<4x2x32xf32>
  return %y : tensor<4x2x32xf32>
}

// -----

// (C2) with weight_kn, K is the weight's dim 1.
func.func @weight_kn_input(%x: tensor<4x32xf32>, %w: tensor<8x64x32xf32>, %i: tensor<4x2xi64>) -> tensor<4x2x32xf32> {
  // expected-error @+1 {{input [4,32] is neither [4, 64] nor [4, 2, 64]}}
  %y = sinter.expert_linear %x, %w, %i {weight_kn} : (tensor<4x32xf32>, tensor<8x64x32xf32>, tensor<4x2xi64>) -> tensor<4x2x32xf32>
  return %y : tensor<4x2x32xf32>
}

// -----

// (C1) weight rank
func.func @weight_rank(%x: tensor<4x64xf32>, %w: tensor<32x64xf32>, %i: tensor<4x2xi64>) -> tensor<4x2x32xf32> {
  // expected-error @+1 {{weight must be [experts, out, in], got [32,64]}}
  %y = sinter.expert_linear %x, %w, %i : (tensor<4x64xf32>, tensor<32x64xf32>, tensor<4x2xi64>) -> tensor<4x2x32xf32>
  return %y : tensor<4x2x32xf32>
}

// -----

// (C1) indices rank
func.func @indices_rank(%x: tensor<4x64xf32>, %w: tensor<8x32x64xf32>, %i: tensor<4xi64>) -> tensor<4x2x32xf32> {
  // expected-error @+1 {{indices must be [tokens, slots], got [4]}}
  %y = sinter.expert_linear %x, %w, %i : (tensor<4x64xf32>, tensor<8x32x64xf32>, tensor<4xi64>) -> tensor<4x2x32xf32>
  return %y : tensor<4x2x32xf32>
}

// -----

// (C2) input shape
func.func @input_shape(%x: tensor<4x3x64xf32>, %w: tensor<8x32x64xf32>, %i: tensor<4x2xi64>) -> tensor<4x2x32xf32> {
  // expected-error @+1 {{input [4,3,64] is neither [4, 64] nor [4, 2, 64]}}
  %y = sinter.expert_linear %x, %w, %i : (tensor<4x3x64xf32>, tensor<8x32x64xf32>, tensor<4x2xi64>) -> tensor<4x2x32xf32>
  return %y : tensor<4x2x32xf32>
}

// -----

// (C3) bias shape
func.func @bias_shape(%x: tensor<4x64xf32>, %w: tensor<8x32x64xf32>, %i: tensor<4x2xi64>, %b: tensor<32xf32>) -> tensor<4x2x32xf32> {
  // expected-error @+1 {{bias [32] is not [8, 32]}}
  %y = sinter.expert_linear %x, %w, %i bias %b : (tensor<4x64xf32>, tensor<8x32x64xf32>, tensor<4x2xi64>, tensor<32xf32>) -> tensor<4x2x32xf32>
  return %y : tensor<4x2x32xf32>
}

// -----

// (C4) element types
func.func @element_type(%x: tensor<4x64xf32>, %w: tensor<8x32x64xbf16>, %i: tensor<4x2xi64>) -> tensor<4x2x32xf32> {
  // expected-error @+1 {{weight element type 'bf16' differs from the input's 'f32'}}
  %y = sinter.expert_linear %x, %w, %i : (tensor<4x64xf32>, tensor<8x32x64xbf16>, tensor<4x2xi64>) -> tensor<4x2x32xf32>
  return %y : tensor<4x2x32xf32>
}

// -----

// (C5) result shape
func.func @result_shape(%x: tensor<4x64xf32>, %w: tensor<8x32x64xf32>, %i: tensor<4x2xi64>) -> tensor<4x32xf32> {
  // expected-error @+1 {{result shape [4,32] does not match the expected [4,2,32]}}
  %y = sinter.expert_linear %x, %w, %i : (tensor<4x64xf32>, tensor<8x32x64xf32>, tensor<4x2xi64>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}
