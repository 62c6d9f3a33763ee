// RUN: sinter-opt %s -split-input-file -verify-diagnostics

// The verifier of sinter.pack_weights (the weight-pack plan), one case per
// check, then a valid plan that round-trips.

func.func @no_sources() -> tensor<2x4xf32> {
  // expected-error @+1 {{'sinter.pack_weights' op needs at least one source}}
  %w = sinter.pack_weights {axis = 0 : i64, offsets = array<i64>, transpose = array<i1>} : () -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

func.func @flag_count() -> tensor<2x4xf32> {
  %a = arith.constant dense<1.0> : tensor<2x4xf32>
  // expected-error @+1 {{'sinter.pack_weights' op has 1 sources but 1 offsets and 2 transpose flags}}
  %w = sinter.pack_weights %a {axis = 0 : i64, offsets = array<i64: 0>, transpose = array<i1: false, false>} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

func.func @axis_range() -> tensor<2x4xf32> {
  %a = arith.constant dense<1.0> : tensor<2x4xf32>
  // expected-error @+1 {{'sinter.pack_weights' op axis 2 is out of range for rank 2}}
  %w = sinter.pack_weights %a {axis = 2 : i64, offsets = array<i64: 0>, transpose = array<i1: false>} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

func.func @computed_source(%a: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'sinter.pack_weights' op source #0 is not a constant}}
  %w = sinter.pack_weights %a {axis = 0 : i64, offsets = array<i64: 0>, transpose = array<i1: false>} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

func.func @element_type() -> tensor<2x4xf32> {
  %a = arith.constant dense<1.0> : tensor<2x4xbf16>
  // expected-error @+1 {{'sinter.pack_weights' op source element type 'bf16' differs from result element type 'f32'}}
  %w = sinter.pack_weights %a {axis = 0 : i64, offsets = array<i64: 0>, transpose = array<i1: false>} : (tensor<2x4xbf16>) -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

func.func @transpose_not_2d() -> tensor<8xf32> {
  %a = arith.constant dense<1.0> : tensor<8xf32>
  // expected-error @+1 {{'sinter.pack_weights' op source #0 [8] is transposed but is not 2-D}}
  %w = sinter.pack_weights %a {axis = 0 : i64, offsets = array<i64: 0>, transpose = array<i1: true>} : (tensor<8xf32>) -> tensor<8xf32>
  return %w : tensor<8xf32>
}

// -----

func.func @rank() -> tensor<2x4xf32> {
  %a = arith.constant dense<1.0> : tensor<8xf32>
  // expected-error @+1 {{'sinter.pack_weights' op source #0 [8] does not have the result's rank 2}}
  %w = sinter.pack_weights %a {axis = 0 : i64, offsets = array<i64: 0>, transpose = array<i1: false>} : (tensor<8xf32>) -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

func.func @off_axis_shape() -> tensor<3x4xf32> {
  %a = arith.constant dense<1.0> : tensor<2x4xf32>
  %b = arith.constant dense<1.0> : tensor<1x5xf32>
  // expected-error @+1 {{'sinter.pack_weights' op source #1 [1,5] differs from the result [3,4] off the axis}}
  %w = sinter.pack_weights %a, %b {axis = 0 : i64, offsets = array<i64: 0, 2>, transpose = array<i1: false, false>} : (tensor<2x4xf32>, tensor<1x5xf32>) -> tensor<3x4xf32>
  return %w : tensor<3x4xf32>
}

// -----

func.func @offsets() -> tensor<3x4xf32> {
  %a = arith.constant dense<1.0> : tensor<2x4xf32>
  %b = arith.constant dense<1.0> : tensor<1x4xf32>
  // expected-error @+1 {{'sinter.pack_weights' op offset #1 is 1, the sources before it end at 2}}
  %w = sinter.pack_weights %a, %b {axis = 0 : i64, offsets = array<i64: 0, 1>, transpose = array<i1: false, false>} : (tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
  return %w : tensor<3x4xf32>
}

// -----

func.func @total() -> tensor<4x4xf32> {
  %a = arith.constant dense<1.0> : tensor<2x4xf32>
  %b = arith.constant dense<1.0> : tensor<1x4xf32>
  // expected-error @+1 {{'sinter.pack_weights' op sources add up to 3 along axis 0 but the result has 4}}
  %w = sinter.pack_weights %a, %b {axis = 0 : i64, offsets = array<i64: 0, 2>, transpose = array<i1: false, false>} : (tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<4x4xf32>
  return %w : tensor<4x4xf32>
}

// -----

// Valid: a transposed source, concatenation along axis 1.
func.func @valid() -> tensor<2x7xf32> {
  %a = arith.constant dense<1.0> : tensor<2x4xf32>
  %b = arith.constant dense<1.0> : tensor<3x2xf32>
  %w = sinter.pack_weights %a, %b {axis = 1 : i64, offsets = array<i64: 0, 4>, transpose = array<i1: false, true>} : (tensor<2x4xf32>, tensor<3x2xf32>) -> tensor<2x7xf32>
  return %w : tensor<2x7xf32>
}
