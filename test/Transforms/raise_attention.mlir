// RUN: sinter-opt %s -sinter-raise-attention=remarks=true -split-input-file -verify-diagnostics | FileCheck %s

// The exporter's decode attention: GQA repeat_kv (4 query heads over 2 kv
// heads) of the cache, q @ k^T * 0.25, where(mask, s, -inf), softmax, @ v.
// The op reads the kv heads directly; the repeats die.
// CHECK-LABEL: func.func @gqa_bool_mask
// CHECK-SAME: (%[[Q:.+]]: tensor<1x4x1x16xf32>, %[[K:.+]]: tensor<1x2x8x16xf32>, %[[V:.+]]: tensor<1x2x8x16xf32>, %[[M:.+]]: tensor<1x1x1x8xi1>)
// CHECK-NEXT: %[[O:.+]], %{{.+}}, %{{.+}} = sinter.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] {scale = 2.500000e-01 : f32, softcap = 0.000000e+00 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x1x8xi1>) -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
// CHECK-NEXT: return %[[O]]
func.func @gqa_bool_mask(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %mask: tensor<1x1x1x8xi1>) -> tensor<1x4x1x16xf32> {
  %c = arith.constant dense<2.500000e-01> : tensor<f32>
  %ninf = arith.constant dense<0xFF800000> : tensor<f32>
  %k5 = tensor.expand_shape %k [[0], [1], [2, 3], [4]] output_shape [1, 2, 1, 8, 16] : tensor<1x2x8x16xf32> into tensor<1x2x1x8x16xf32>
  %ke = sinter.expand %k5 : (tensor<1x2x1x8x16xf32>) -> tensor<1x2x2x8x16xf32>
  %kr = tensor.collapse_shape %ke [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x16xf32> into tensor<1x4x8x16xf32>
  %v5 = tensor.expand_shape %v [[0], [1], [2, 3], [4]] output_shape [1, 2, 1, 8, 16] : tensor<1x2x8x16xf32> into tensor<1x2x1x8x16xf32>
  %ve = sinter.expand %v5 : (tensor<1x2x1x8x16xf32>) -> tensor<1x2x2x8x16xf32>
  %vr = tensor.collapse_shape %ve [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x16xf32> into tensor<1x4x8x16xf32>
  %kt = sinter.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x8x16xf32>) -> tensor<1x4x16x8xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x4x1x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32>
  %ss = sinter.mul %s, %c : (tensor<1x4x1x8xf32>, tensor<f32>) -> tensor<1x4x1x8xf32>
  %sm = sinter.where %mask, %ss, %ninf : (tensor<1x1x1x8xi1>, tensor<1x4x1x8xf32>, tensor<f32>) -> tensor<1x4x1x8xf32>
  %p = sinter.softmax %sm {axis = 3 : i64} : tensor<1x4x1x8xf32>
  // expected-remark @below {{sinter-raise-attention: fused: attention (4 query heads over 2 kv heads, 1 queries, 8 keys, head dim 16, bool mask, scale 0.25) from 12 ops}}
  %o = sinter.matmul %p, %vr : (tensor<1x4x1x8xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Multi-head (no repeat), additive float mask, scale as a division by
// sqrt(D) = 4, the constant first in the add.
// CHECK-LABEL: func.func @mha_additive_div
// CHECK-SAME: (%[[Q:.+]]: tensor<2x2x3x4xf32>, %[[K:.+]]: tensor<2x2x5x4xf32>, %[[V:.+]]: tensor<2x2x5x6xf32>, %[[M:.+]]: tensor<3x5xf32>)
// CHECK: sinter.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] {scale = 2.500000e-01 : f32
// CHECK-NOT: sinter.softmax
func.func @mha_additive_div(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x5x4xf32>, %v: tensor<2x2x5x6xf32>, %mask: tensor<3x5xf32>) -> tensor<2x2x3x6xf32> {
  %c = arith.constant dense<4.0> : tensor<f32>
  %kt = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x2x5x4xf32>) -> tensor<2x2x4x5xf32>
  %s = sinter.matmul %q, %kt : (tensor<2x2x3x4xf32>, tensor<2x2x4x5xf32>) -> tensor<2x2x3x5xf32>
  %ss = sinter.div %s, %c : (tensor<2x2x3x5xf32>, tensor<f32>) -> tensor<2x2x3x5xf32>
  %sm = sinter.add %mask, %ss : (tensor<3x5xf32>, tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %p = sinter.softmax %sm {axis = 3 : i64} : tensor<2x2x3x5xf32>
  // expected-remark @below {{fused: attention (2 query heads over 2 kv heads, 3 queries, 5 keys, head dim 4, additive mask, scale 0.25) from 6 ops}}
  %o = sinter.matmul %p, %v : (tensor<2x2x3x5xf32>, tensor<2x2x5x6xf32>) -> tensor<2x2x3x6xf32>
  return %o : tensor<2x2x3x6xf32>
}

// -----

// No mask, no scale: scale 1.
// CHECK-LABEL: func.func @no_mask_no_scale
// CHECK: sinter.attention %{{.+}}, %{{.+}}, %{{.+}} {scale = 1.000000e+00 : f32
func.func @no_mask_no_scale(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>, %v: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %kt = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x3x4xf32>) -> tensor<1x2x4x3xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %p = sinter.softmax %s {axis = 3 : i64} : tensor<1x2x3x3xf32>
  // expected-remark @below {{fused: attention (2 query heads over 2 kv heads, 3 queries, 3 keys, head dim 4, no mask, scale 1) from 4 ops}}
  %o = sinter.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// Refused: the mask has another shape ([1, 1, 1, 3] does not broadcast to
// the [1, 2, 3, 3] scores: it needs a broadcast where).
// CHECK-LABEL: func.func @mask_other_shape
// CHECK-NOT: sinter.attention
func.func @mask_other_shape(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>, %v: tensor<1x2x3x4xf32>, %mask: tensor<2x1x1x3xi1>) -> tensor<2x2x3x4xf32> {
  %ninf = arith.constant dense<0xFF800000> : tensor<f32>
  %kt = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x3x4xf32>) -> tensor<1x2x4x3xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %sm = sinter.where %mask, %s, %ninf : (tensor<2x1x1x3xi1>, tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<2x2x3x3xf32>
  %p = sinter.softmax %sm {axis = 3 : i64} : tensor<2x2x3x3xf32>
  // expected-remark @below {{sinter-raise-attention: refused: the mask's where broadcasts the scores}}
  %o = sinter.matmul %p, %v : (tensor<2x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<2x2x3x4xf32>
  return %o : tensor<2x2x3x4xf32>
}

// -----

// Refused: masked scores are filled with 0, not -inf.
// CHECK-LABEL: func.func @fill_not_ninf
// CHECK-NOT: sinter.attention
func.func @fill_not_ninf(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>, %v: tensor<1x2x3x4xf32>, %mask: tensor<1x1x3x3xi1>) -> tensor<1x2x3x4xf32> {
  %zero = arith.constant dense<0.0> : tensor<f32>
  %kt = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x3x4xf32>) -> tensor<1x2x4x3xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %sm = sinter.where %mask, %s, %zero : (tensor<1x1x3x3xi1>, tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %p = sinter.softmax %sm {axis = 3 : i64} : tensor<1x2x3x3xf32>
  // expected-remark @below {{refused: masked scores are filled with 'arith.constant' that is not -inf (or the lowest float)}}
  %o = sinter.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// Refused: softmax over the queries (axis 2), not the keys.
// CHECK-LABEL: func.func @softmax_wrong_axis
// CHECK-NOT: sinter.attention
func.func @softmax_wrong_axis(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>, %v: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %kt = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x3x4xf32>) -> tensor<1x2x4x3xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %p = sinter.softmax %s {axis = 2 : i64} : tensor<1x2x3x3xf32>
  // expected-remark @below {{refused: the softmax is over axis 2, not the keys (axis 3)}}
  %o = sinter.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// Refused: the keys are used untransposed with a constant rhs (no q @ k^T),
// and the probabilities are also returned.
// CHECK-LABEL: func.func @not_qkt_and_probs_used
// CHECK-NOT: sinter.attention
func.func @not_qkt_and_probs_used(%q: tensor<1x2x3x4xf32>, %kt: tensor<1x2x4x3xf32>, %v: tensor<1x2x3x4xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x3xf32>) {
  %s = sinter.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %p = sinter.softmax %s {axis = 3 : i64} : tensor<1x2x3x3xf32>
  // expected-remark @below {{refused: the keys of q @ k^T are a block argument, not a transpose of [B, heads, L, D]}}
  %o = sinter.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %p2 = sinter.softmax %s {axis = 3 : i64} : tensor<1x2x3x3xf32>
  // expected-remark @below {{refused: the attention probabilities have other users}}
  %o2 = sinter.matmul %p2, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o, %o2, %p2 : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x3xf32>
}

// -----

// Refused: heads repeated in tile order ([B, rep, kv, L, D]: head h reads
// kv head h % kv), which sinter.attention does not read.
// CHECK-LABEL: func.func @tiled_heads
// CHECK-NOT: sinter.attention
func.func @tiled_heads(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x4x8x16xf32>) -> tensor<1x4x1x16xf32> {
  %k5 = tensor.expand_shape %k [[0, 1], [2], [3], [4]] output_shape [1, 1, 2, 8, 16] : tensor<1x2x8x16xf32> into tensor<1x1x2x8x16xf32>
  %ke = sinter.expand %k5 : (tensor<1x1x2x8x16xf32>) -> tensor<1x2x2x8x16xf32>
  %kr = tensor.collapse_shape %ke [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x16xf32> into tensor<1x4x8x16xf32>
  %kt = sinter.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x8x16xf32>) -> tensor<1x4x16x8xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x4x1x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32>
  %p = sinter.softmax %s {axis = 3 : i64} : tensor<1x4x1x8xf32>
  // expected-remark @below {{refused: keys: the expand repeats [1, 1, 2, 8, 16], not a [B, kv, 1, L, D] view of the kv heads (h / rep order)}}
  %o = sinter.matmul %p, %v : (tensor<1x4x1x8xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// HF transformers' SDPA as torch.onnx (dynamo, opset 18) writes it: q and
// k^T each times sqrt(scale) = 0.5, repeat_kv through a 3-D [B * heads, L,
// D] view of the keys transposed with perm [0, 2, 1], an additive mask,
// and where(isnan(p), 0, p) after the softmax (zeros for a fully masked
// row, as sinter.attention gives). One op reading the one kv head.
// CHECK-LABEL: func.func @hf_sdpa_op18
// CHECK-SAME: (%[[Q:.+]]: tensor<1x2x8x16xf32>, %[[K:.+]]: tensor<1x1x8x16xf32>, %[[V:.+]]: tensor<1x1x8x16xf32>, %[[M:.+]]: tensor<1x1x8x8xf32>)
// CHECK-NEXT: %[[O:.+]], %{{.+}}, %{{.+}} = sinter.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] {scale = 2.500000e-01 : f32, softcap = 0.000000e+00 : f32} : (tensor<1x2x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x8xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>)
// CHECK-NEXT: return %[[O]]
func.func @hf_sdpa_op18(%q: tensor<1x2x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>, %mask: tensor<1x1x8x8xf32>) -> tensor<1x2x8x16xf32> {
  %c = arith.constant dense<5.000000e-01> : tensor<f32>
  %zero = arith.constant dense<0.000000e+00> : tensor<f32>
  %k5 = tensor.expand_shape %k [[0], [1], [2, 3], [4]] output_shape [1, 1, 1, 8, 16] : tensor<1x1x8x16xf32> into tensor<1x1x1x8x16xf32>
  %ke = sinter.expand %k5 : (tensor<1x1x1x8x16xf32>) -> tensor<1x1x2x8x16xf32>
  %k3 = tensor.collapse_shape %ke [[0, 1, 2], [3], [4]] : tensor<1x1x2x8x16xf32> into tensor<2x8x16xf32>
  %kt3 = sinter.transpose %k3 {perm = array<i64: 0, 2, 1>} : (tensor<2x8x16xf32>) -> tensor<2x16x8xf32>
  %kt = tensor.expand_shape %kt3 [[0, 1], [2], [3]] output_shape [1, 2, 16, 8] : tensor<2x16x8xf32> into tensor<1x2x16x8xf32>
  %kts = sinter.mul %kt, %c : (tensor<1x2x16x8xf32>, tensor<f32>) -> tensor<1x2x16x8xf32>
  %qs = sinter.mul %q, %c : (tensor<1x2x8x16xf32>, tensor<f32>) -> tensor<1x2x8x16xf32>
  %s = sinter.matmul %qs, %kts : (tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x8x8xf32>
  %sm = sinter.add %s, %mask : (tensor<1x2x8x8xf32>, tensor<1x1x8x8xf32>) -> tensor<1x2x8x8xf32>
  %p = sinter.softmax %sm {axis = 3 : i64} : tensor<1x2x8x8xf32>
  %nan = sinter.isnan %p : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xi1>
  %pg = sinter.where %nan, %zero, %p : (tensor<1x2x8x8xi1>, tensor<f32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %v5 = tensor.expand_shape %v [[0], [1], [2, 3], [4]] output_shape [1, 1, 1, 8, 16] : tensor<1x1x8x16xf32> into tensor<1x1x1x8x16xf32>
  %ve = sinter.expand %v5 : (tensor<1x1x1x8x16xf32>) -> tensor<1x1x2x8x16xf32>
  %vr = tensor.collapse_shape %ve [[0], [1, 2], [3], [4]] : tensor<1x1x2x8x16xf32> into tensor<1x2x8x16xf32>
  // expected-remark @below {{sinter-raise-attention: fused: attention (2 query heads over 1 kv heads, 8 queries, 8 keys, head dim 16, additive mask, NaN guard, scale 0.25) from 16 ops}}
  %o = sinter.matmul %pg, %vr : (tensor<1x2x8x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// The same spelling without GQA: the 3-D transposed keys are not repeated,
// so the op reads a [B, heads, L, D] view of them (the scale on q only).
// CHECK-LABEL: func.func @hf_sdpa_mha_3d_keys
// CHECK-SAME: (%[[Q:.+]]: tensor<1x2x4x8xf32>, %[[K:.+]]: tensor<1x2x4x8xf32>, %[[V:.+]]: tensor<1x2x4x8xf32>)
// CHECK: %[[K3:.+]] = tensor.collapse_shape %[[K]]
// CHECK: %[[KF:.+]] = tensor.collapse_shape %[[K3]]
// CHECK: %[[K4:.+]] = tensor.expand_shape %[[KF]] {{.+}} into tensor<1x2x4x8xf32>
// CHECK: sinter.attention %[[Q]], %[[K4]], %[[V]] {scale = 1.250000e-01 : f32
// CHECK-NOT: sinter.softmax
// CHECK-NOT: sinter.isnan
func.func @hf_sdpa_mha_3d_keys(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %c = arith.constant dense<1.250000e-01> : tensor<f32>
  %zero = arith.constant dense<0.000000e+00> : tensor<f32>
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
  %kt3 = sinter.transpose %k3 {perm = array<i64: 0, 2, 1>} : (tensor<2x4x8xf32>) -> tensor<2x8x4xf32>
  %kt = tensor.expand_shape %kt3 [[0, 1], [2], [3]] output_shape [1, 2, 8, 4] : tensor<2x8x4xf32> into tensor<1x2x8x4xf32>
  %qs = sinter.mul %c, %q : (tensor<f32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = sinter.matmul %qs, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = sinter.softmax %s {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %nan = sinter.isnan %p : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xi1>
  %pg = sinter.where %nan, %zero, %p : (tensor<1x2x4x4xi1>, tensor<f32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @below {{fused: attention (2 query heads over 2 kv heads, 4 queries, 4 keys, head dim 8, no mask, NaN guard, scale 0.125) from 8 ops}}
  %o = sinter.matmul %pg, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// Refused: the guard fills NaN rows with 1, not sinter.attention's zeros.
// CHECK-LABEL: func.func @hf_guard_fill_one
// CHECK-NOT: sinter.attention
func.func @hf_guard_fill_one(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %one = arith.constant dense<1.000000e+00> : tensor<f32>
  %kt = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = sinter.softmax %s {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %nan = sinter.isnan %p : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xi1>
  %pg = sinter.where %nan, %one, %p : (tensor<1x2x4x4xi1>, tensor<f32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @below {{sinter-raise-attention: refused: the NaN guard fills with 'arith.constant' that is not 0 (sinter.attention gives a fully masked row zeros)}}
  %o = sinter.matmul %pg, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// Refused: the unguarded probabilities are also returned.
// CHECK-LABEL: func.func @hf_guard_probs_escape
// CHECK-NOT: sinter.attention
func.func @hf_guard_probs_escape(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>) {
  %zero = arith.constant dense<0.000000e+00> : tensor<f32>
  %kt = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = sinter.softmax %s {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %nan = sinter.isnan %p : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xi1>
  %pg = sinter.where %nan, %zero, %p : (tensor<1x2x4x4xi1>, tensor<f32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @below {{sinter-raise-attention: refused: the attention probabilities have other users than the NaN guard}}
  %o = sinter.matmul %pg, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o, %p : tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>
}

// -----

// Refused: HF's 3-D key path, but the transpose moves the heads (perm
// [1, 0, 2]), so it is not k^T.
// CHECK-LABEL: func.func @hf_keys_wrong_transpose
// CHECK-NOT: sinter.attention
func.func @hf_keys_wrong_transpose(%q: tensor<1x4x4x4xf32>, %k: tensor<1x4x4x4xf32>, %v: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : tensor<1x4x4x4xf32> into tensor<4x4x4xf32>
  %kt3 = sinter.transpose %k3 {perm = array<i64: 1, 0, 2>} : (tensor<4x4x4xf32>) -> tensor<4x4x4xf32>
  %kt = tensor.expand_shape %kt3 [[0, 1], [2], [3]] output_shape [1, 4, 4, 4] : tensor<4x4x4xf32> into tensor<1x4x4x4xf32>
  %s = sinter.matmul %q, %kt : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %p = sinter.softmax %s {axis = 3 : i64} : tensor<1x4x4x4xf32>
  // expected-remark @below {{sinter-raise-attention: refused: the keys of q @ k^T are 'sinter.transpose', not a transpose of [B, heads, L, D] (or of [B * heads, L, D])}}
  %o = sinter.matmul %p, %v : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %o : tensor<1x4x4x4xf32>
}
