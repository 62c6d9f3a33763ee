// RUN: sinter-opt %s -sinter-raise-moe-router=remarks=true -split-input-file -verify-diagnostics | FileCheck %s

// The Qwen3.5 export (python/sinter/models/qwen35/export.py): TopK of the
// f32 logits (a cast of the bf16 linear's output), Softmax of the values.
// The cast is read through; the indices' users read the router's.
// CHECK-LABEL: func.func @topk_softmax_bf16
// CHECK-SAME: (%[[X:.+]]: tensor<1x1x256xbf16>)
// CHECK-NEXT: %[[W:.+]], %[[I:.+]] = sinter.moe_router %[[X]] {k = 8 : i64} : (tensor<1x1x256xbf16>) -> (tensor<1x1x8xf32>, tensor<1x1x8xi64>)
// CHECK-NEXT: %[[C:.+]] = tensor.collapse_shape %[[I]]
// CHECK-NEXT: return %[[W]], %[[C]]
func.func @topk_softmax_bf16(%x: tensor<1x1x256xbf16>) -> (tensor<1x1x8xf32>, tensor<1x8xi64>) {
  %l = sinter.cast %x : (tensor<1x1x256xbf16>) -> tensor<1x1x256xf32>
  // expected-remark @below {{sinter-raise-moe-router: fused: moe_router k = 8 over rows of 256 (topk, softmax, through a widening cast)}}
  %v, %i = sinter.topk %l {axis = 2 : i64, k = 8 : i64, largest} : (tensor<1x1x256xf32>) -> (tensor<1x1x8xf32>, tensor<1x1x8xi64>)
  %c = tensor.collapse_shape %i [[0], [1, 2]] : tensor<1x1x8xi64> into tensor<1x8xi64>
  %w = sinter.softmax %v {axis = 2 : i64} : tensor<1x1x8xf32>
  return %w, %c : tensor<1x1x8xf32>, tensor<1x8xi64>
}

// -----

// Hugging Face's spelling: Softmax over the row, TopK of the
// probabilities, division by their sum (norm_topk_prob). The softmax's
// other user keeps it alive.
// CHECK-LABEL: func.func @softmax_topk_renormalise
// CHECK-SAME: (%[[X:.+]]: tensor<5x64xf32>)
// CHECK: %[[P:.+]] = sinter.softmax %[[X]]
// CHECK-NEXT: %[[W:.+]], %[[I:.+]] = sinter.moe_router %[[X]] {k = 4 : i64} : (tensor<5x64xf32>) -> (tensor<5x4xf32>, tensor<5x4xi64>)
// CHECK-NOT: sinter.topk
// CHECK-NOT: sinter.div
// CHECK: return %[[W]], %[[I]], %[[P]]
func.func @softmax_topk_renormalise(%x: tensor<5x64xf32>) -> (tensor<5x4xf32>, tensor<5x4xi64>, tensor<5x64xf32>) {
  %p = sinter.softmax %x {axis = 1 : i64} : tensor<5x64xf32>
  // expected-remark @below {{sinter-raise-moe-router: fused: moe_router k = 4 over rows of 64 (softmax, topk, renormalisation)}}
  %v, %i = sinter.topk %p {axis = 1 : i64, k = 4 : i64, largest} : (tensor<5x64xf32>) -> (tensor<5x4xf32>, tensor<5x4xi64>)
  %s = sinter.reduce_sum %v {axes = array<i64: 1>, keepdims} : (tensor<5x4xf32>) -> tensor<5x1xf32>
  %w = sinter.div %v, %s : (tensor<5x4xf32>, tensor<5x1xf32>) -> tensor<5x4xf32>
  return %w, %i, %p : tensor<5x4xf32>, tensor<5x4xi64>, tensor<5x64xf32>
}

// -----

// k > 16: the existing topk lowering.
// CHECK-LABEL: func.func @k_too_large
// CHECK: sinter.topk
// CHECK: sinter.softmax
func.func @k_too_large(%x: tensor<1x256xf32>) -> (tensor<1x17xf32>, tensor<1x17xi64>) {
  // expected-remark @below {{sinter-raise-moe-router: refused: k = 17 (the router takes 1..16)}}
  %v, %i = sinter.topk %x {axis = 1 : i64, k = 17 : i64, largest} : (tensor<1x256xf32>) -> (tensor<1x17xf32>, tensor<1x17xi64>)
  %w = sinter.softmax %v {axis = 1 : i64} : tensor<1x17xf32>
  return %w, %i : tensor<1x17xf32>, tensor<1x17xi64>
}

// -----

// CHECK-LABEL: func.func @row_too_long
// CHECK: sinter.topk
func.func @row_too_long(%x: tensor<1x2048xf32>) -> (tensor<1x8xf32>, tensor<1x8xi64>) {
  // expected-remark @below {{sinter-raise-moe-router: refused: rows of 2048 (the router takes at most 1024)}}
  %v, %i = sinter.topk %x {axis = 1 : i64, k = 8 : i64, largest} : (tensor<1x2048xf32>) -> (tensor<1x8xf32>, tensor<1x8xi64>)
  %w = sinter.softmax %v {axis = 1 : i64} : tensor<1x8xf32>
  return %w, %i : tensor<1x8xf32>, tensor<1x8xi64>
}

// -----

// The top-k values are also returned: the softmax is not all they feed.
// CHECK-LABEL: func.func @values_used
// CHECK: sinter.topk
func.func @values_used(%x: tensor<1x64xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  // expected-remark @below {{sinter-raise-moe-router: refused: the top-k values are not read by one softmax only (nor is the topk's input a softmax)}}
  %v, %i = sinter.topk %x {axis = 1 : i64, k = 4 : i64, largest} : (tensor<1x64xf32>) -> (tensor<1x4xf32>, tensor<1x4xi64>)
  %w = sinter.softmax %v {axis = 1 : i64} : tensor<1x4xf32>
  return %w, %v : tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func.func @smallest
// CHECK: sinter.topk
func.func @smallest(%x: tensor<1x64xf32>) -> tensor<1x4xf32> {
  // expected-remark @below {{sinter-raise-moe-router: refused: the topk selects the smallest}}
  %v, %i = sinter.topk %x {axis = 1 : i64, k = 4 : i64} : (tensor<1x64xf32>) -> (tensor<1x4xf32>, tensor<1x4xi64>)
  %w = sinter.softmax %v {axis = 1 : i64} : tensor<1x4xf32>
  return %w : tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func.func @not_last_axis
// CHECK: sinter.topk
func.func @not_last_axis(%x: tensor<64x3xf32>) -> tensor<4x3xf32> {
  // expected-remark @below {{sinter-raise-moe-router: refused: the topk is over axis 0, not the last}}
  %v, %i = sinter.topk %x {axis = 0 : i64, k = 4 : i64, largest} : (tensor<64x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xi64>)
  %w = sinter.softmax %v {axis = 0 : i64} : tensor<4x3xf32>
  return %w : tensor<4x3xf32>
}

// -----

// Probabilities picked but not renormalised (norm_topk_prob = false): not
// the router's weights.
// CHECK-LABEL: func.func @not_renormalised
// CHECK: sinter.topk
func.func @not_renormalised(%x: tensor<2x64xf32>) -> (tensor<2x4xf32>, tensor<2x4xi64>) {
  %p = sinter.softmax %x {axis = 1 : i64} : tensor<2x64xf32>
  // expected-remark @below {{sinter-raise-moe-router: refused: the top-k probabilities are read by func.return, not only by their renormalisation}}
  %v, %i = sinter.topk %p {axis = 1 : i64, k = 4 : i64, largest} : (tensor<2x64xf32>) -> (tensor<2x4xf32>, tensor<2x4xi64>)
  return %v, %i : tensor<2x4xf32>, tensor<2x4xi64>
}

// -----

// The softmax of the picked values over another axis than the row's.
// CHECK-LABEL: func.func @softmax_not_last_axis
// CHECK-NOT: sinter.moe_router
// CHECK: sinter.topk
func.func @softmax_not_last_axis(%x: tensor<2x64xf32>) -> (tensor<2x4xf32>, tensor<2x4xi64>) {
  // expected-remark @below {{sinter-raise-moe-router: refused: the softmax is over axis 0, not the last}}
  %v, %i = sinter.topk %x {axis = 1 : i64, k = 4 : i64, largest} : (tensor<2x64xf32>) -> (tensor<2x4xf32>, tensor<2x4xi64>)
  %w = sinter.softmax %v {axis = 0 : i64} : tensor<2x4xf32>
  return %w, %i : tensor<2x4xf32>, tensor<2x4xi64>
}

// -----

// CHECK-LABEL: func.func @softmax_first_not_last_axis
// CHECK-NOT: sinter.moe_router
// CHECK: sinter.topk
func.func @softmax_first_not_last_axis(%x: tensor<2x64xf32>) -> (tensor<2x4xf32>, tensor<2x4xi64>) {
  %p = sinter.softmax %x {axis = 0 : i64} : tensor<2x64xf32>
  // expected-remark @below {{sinter-raise-moe-router: refused: the softmax is over axis 0, not the last}}
  %v, %i = sinter.topk %p {axis = 1 : i64, k = 4 : i64, largest} : (tensor<2x64xf32>) -> (tensor<2x4xf32>, tensor<2x4xi64>)
  %s = sinter.reduce_sum %v {axes = array<i64: 1>, keepdims} : (tensor<2x4xf32>) -> tensor<2x1xf32>
  %w = sinter.div %v, %s : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  return %w, %i : tensor<2x4xf32>, tensor<2x4xi64>
}

// -----

// The top-k probabilities feed a second Div besides their renormalisation.
// Refused in either order of the two Divs (was: refused with a wrong
// reason when the other Div came first, raised beside a topk kept alive
// when it came last).
// CHECK-LABEL: func.func @other_div_first
// CHECK-NOT: sinter.moe_router
// CHECK: sinter.topk
func.func @other_div_first(%x: tensor<2x64xf32>, %c: tensor<f32>) -> (tensor<2x4xf32>, tensor<2x4xi64>, tensor<2x4xf32>) {
  %p = sinter.softmax %x {axis = 1 : i64} : tensor<2x64xf32>
  // expected-remark @below {{sinter-raise-moe-router: refused: the top-k probabilities are read by two Divs, not only by their renormalisation}}
  %v, %i = sinter.topk %p {axis = 1 : i64, k = 4 : i64, largest} : (tensor<2x64xf32>) -> (tensor<2x4xf32>, tensor<2x4xi64>)
  %o = sinter.div %v, %c : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  %s = sinter.reduce_sum %v {axes = array<i64: 1>, keepdims} : (tensor<2x4xf32>) -> tensor<2x1xf32>
  %w = sinter.div %v, %s : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  return %w, %i, %o : tensor<2x4xf32>, tensor<2x4xi64>, tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @other_div_last
// CHECK-NOT: sinter.moe_router
// CHECK: sinter.topk
func.func @other_div_last(%x: tensor<2x64xf32>, %c: tensor<f32>) -> (tensor<2x4xf32>, tensor<2x4xi64>, tensor<2x4xf32>) {
  %p = sinter.softmax %x {axis = 1 : i64} : tensor<2x64xf32>
  // expected-remark @below {{sinter-raise-moe-router: refused: the top-k probabilities are read by two Divs, not only by their renormalisation}}
  %v, %i = sinter.topk %p {axis = 1 : i64, k = 4 : i64, largest} : (tensor<2x64xf32>) -> (tensor<2x4xf32>, tensor<2x4xi64>)
  %s = sinter.reduce_sum %v {axes = array<i64: 1>, keepdims} : (tensor<2x4xf32>) -> tensor<2x1xf32>
  %w = sinter.div %v, %s : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  %o = sinter.div %v, %c : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  return %w, %i, %o : tensor<2x4xf32>, tensor<2x4xi64>, tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @f64_logits
// CHECK-NOT: sinter.moe_router
// CHECK: sinter.topk
func.func @f64_logits(%x: tensor<2x64xf64>) -> (tensor<2x4xf64>, tensor<2x4xi64>) {
  // expected-remark @below {{sinter-raise-moe-router: refused: the topk's input is not f32, f16 or bf16}}
  %v, %i = sinter.topk %x {axis = 1 : i64, k = 4 : i64, largest} : (tensor<2x64xf64>) -> (tensor<2x4xf64>, tensor<2x4xi64>)
  %w = sinter.softmax %v {axis = 1 : i64} : tensor<2x4xf64>
  return %w, %i : tensor<2x4xf64>, tensor<2x4xi64>
}
