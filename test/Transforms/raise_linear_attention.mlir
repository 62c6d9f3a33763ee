// RUN: sinter-opt %s -sinter-raise-linear-attention=remarks=true -split-input-file -verify-diagnostics | FileCheck %s

// The exporter's decode step (4 heads of 16): q, k, v token-major
// [1, 1, 4, 16] transposed to [1, 4, 1, 16]; decay exp(g) and beta per head
// reshaped and transposed to [1, 4, 1, 1]; the output scaled by 0.25 and
// transposed back. The transposes die: the op reads reshapes of the
// token-major tensors and the log-space g.
// CHECK-LABEL: func.func @decode_step
// CHECK-SAME: (%[[S:.+]]: tensor<1x4x16x16xf32>, %[[Q:.+]]: tensor<1x1x4x16xf32>, %[[K:.+]]: tensor<1x1x4x16xf32>, %[[V:.+]]: tensor<1x1x4x16xf32>, %[[G:.+]]: tensor<1x1x4xf32>, %[[B:.+]]: tensor<1x1x4xf32>)
// CHECK-NOT: sinter.transpose
// CHECK-NOT: sinter.exp
// CHECK: %[[O:.+]], %[[NS:.+]] = sinter.linear_attention %{{.+}}, %{{.+}}, %{{.+}} state %[[S]] decay %[[GP:.+]] beta %[[BP:.+]] {kv_num_heads = 4 : i64, q_num_heads = 4 : i64, scale = 2.500000e-01 : f32, update_rule = #sinter<update_rule gated_delta>} : (tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x4x16x16xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>) -> (tensor<1x1x64xf32>, tensor<1x4x16x16xf32>)
// CHECK-NOT: sinter.matmul
// CHECK: %[[OUT:.+]] = tensor.expand_shape %{{.+}} output_shape [1, 1, 4, 16]
// CHECK: return %[[OUT]], %[[NS]]
func.func @decode_step(%s0: tensor<1x4x16x16xf32>, %q: tensor<1x1x4x16xf32>, %k: tensor<1x1x4x16xf32>, %v: tensor<1x1x4x16xf32>, %g: tensor<1x1x4xf32>, %b: tensor<1x1x4xf32>) -> (tensor<1x1x4x16xf32>, tensor<1x4x16x16xf32>) {
  %c = arith.constant dense<2.500000e-01> : tensor<f32>
  %qh = sinter.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x1x4x16xf32>) -> tensor<1x4x1x16xf32>
  %kh = sinter.transpose %k {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x1x4x16xf32>) -> tensor<1x4x1x16xf32>
  %vh = sinter.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x1x4x16xf32>) -> tensor<1x4x1x16xf32>
  %eg = sinter.exp %g : tensor<1x1x4xf32>
  %eg4 = tensor.expand_shape %eg [[0], [1], [2, 3]] output_shape [1, 1, 4, 1] : tensor<1x1x4xf32> into tensor<1x1x4x1xf32>
  %dec = sinter.transpose %eg4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x1x4x1xf32>) -> tensor<1x4x1x1xf32>
  %b4 = tensor.expand_shape %b [[0], [1], [2, 3]] output_shape [1, 1, 4, 1] : tensor<1x1x4xf32> into tensor<1x1x4x1xf32>
  %bt = sinter.transpose %b4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x1x4x1xf32>) -> tensor<1x4x1x1xf32>
  %s1 = sinter.mul %s0, %dec : (tensor<1x4x16x16xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x16x16xf32>
  %mem = sinter.matmul %kh, %s1 : (tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x1x16xf32>
  %d = sinter.sub %vh, %mem : (tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %u = sinter.mul %d, %bt : (tensor<1x4x1x16xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x1x16xf32>
  %kc = sinter.transpose %kh {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x1x16xf32>) -> tensor<1x4x16x1xf32>
  %ku = sinter.matmul %kc, %u : (tensor<1x4x16x1xf32>, tensor<1x4x1x16xf32>) -> tensor<1x4x16x16xf32>
  // expected-remark @below {{sinter-raise-linear-attention: fused: gated-delta step (4 heads, state [1, 4, 16, 16], scale 0.25) from 10 ops}}
  %s2 = sinter.add %s1, %ku : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %o = sinter.matmul %qh, %s2 : (tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x1x16xf32>
  %os = sinter.mul %o, %c : (tensor<1x4x1x16xf32>, tensor<f32>) -> tensor<1x4x1x16xf32>
  %ot = sinter.transpose %os {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x1x16xf32>) -> tensor<1x1x4x16xf32>
  return %ot, %s2 : tensor<1x1x4x16xf32>, tensor<1x4x16x16xf32>
}

// -----

// Prefill unrolled over 2 tokens, head-major operands sliced per token:
// two steps, the second reading the first's new state. The slices are of
// head-major tensors (no transpose to look through), so the two steps are
// not token t of one token-major tensor and stay two ops.
// CHECK-LABEL: func.func @two_tokens
// CHECK-SAME: (%[[S:.+]]: tensor<1x2x4x4xf32>
// CHECK: %{{.+}}, %[[S1:.+]] = sinter.linear_attention {{.+}} state %[[S]] {{.+}}scale = 1.000000e+00 : f32
// CHECK: %{{.+}}, %[[S2:.+]] = sinter.linear_attention {{.+}} state %[[S1]]
// CHECK: return %{{.+}}, %[[S2]]
func.func @two_tokens(%s0: tensor<1x2x4x4xf32>, %q: tensor<1x2x2x4xf32>, %k: tensor<1x2x2x4xf32>, %v: tensor<1x2x2x4xf32>, %g: tensor<1x2x2x1xf32>, %b: tensor<1x2x2x1xf32>) -> (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) {
  %dec = sinter.exp %g : tensor<1x2x2x1xf32>
  %q0 = tensor.extract_slice %q[0, 0, 0, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %k0 = tensor.extract_slice %k[0, 0, 0, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %v0 = tensor.extract_slice %v[0, 0, 0, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %d0 = tensor.extract_slice %dec[0, 0, 0, 0] [1, 2, 1, 1] [1, 1, 1, 1] : tensor<1x2x2x1xf32> to tensor<1x2x1x1xf32>
  %b0 = tensor.extract_slice %b[0, 0, 0, 0] [1, 2, 1, 1] [1, 1, 1, 1] : tensor<1x2x2x1xf32> to tensor<1x2x1x1xf32>
  %s1 = sinter.mul %s0, %d0 : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %m1 = sinter.matmul %k0, %s1 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %e1 = sinter.sub %v0, %m1 : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32>
  %u1 = sinter.mul %b0, %e1 : (tensor<1x2x1x1xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32>
  %kc1 = sinter.transpose %k0 {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x1x4xf32>) -> tensor<1x2x4x1xf32>
  %p1 = sinter.matmul %kc1, %u1 : (tensor<1x2x4x1xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+2 {{fused: gated-delta step (2 heads, state [1, 2, 4, 4], scale 1) from 8 ops}}
  // expected-remark @+1 {{refused: 2 chained one-token steps stay separate: the query of step 0 is not token 0 of one [B, 2, H, D] tensor}}
  %s2 = sinter.add %p1, %s1 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %o1 = sinter.matmul %q0, %s2 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %q1 = tensor.extract_slice %q[0, 0, 1, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %k1 = tensor.extract_slice %k[0, 0, 1, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %v1 = tensor.extract_slice %v[0, 0, 1, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %d1 = tensor.extract_slice %dec[0, 0, 1, 0] [1, 2, 1, 1] [1, 1, 1, 1] : tensor<1x2x2x1xf32> to tensor<1x2x1x1xf32>
  %b1 = tensor.extract_slice %b[0, 0, 1, 0] [1, 2, 1, 1] [1, 1, 1, 1] : tensor<1x2x2x1xf32> to tensor<1x2x1x1xf32>
  %s3 = sinter.mul %d1, %s2 : (tensor<1x2x1x1xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %m2 = sinter.matmul %k1, %s3 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %e2 = sinter.sub %v1, %m2 : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32>
  %u2 = sinter.mul %e2, %b1 : (tensor<1x2x1x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x1x4xf32>
  %kc2 = sinter.transpose %k1 {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x1x4xf32>) -> tensor<1x2x4x1xf32>
  %p2 = sinter.matmul %kc2, %u2 : (tensor<1x2x4x1xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @below {{fused: gated-delta step (2 heads, state [1, 2, 4, 4], scale 1) from 8 ops}}
  %s4 = sinter.add %s3, %p2 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %o2 = sinter.matmul %q1, %s4 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  return %o1, %o2, %s4 : tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// The exporter's prefill (T = 2): token-major q, k, v, g, beta transposed
// to head-major and sliced per token; the readouts concatenated along the
// tokens, scaled, transposed back. The two steps merge into one 2-token op
// over the token-major tensors with the scale folded in; no transpose, no
// concat is left.
// CHECK-LABEL: func.func @prefill_merged
// CHECK-SAME: (%[[S:.+]]: tensor<1x2x4x4xf32>
// CHECK-NOT: sinter.transpose
// CHECK-NOT: tensor.concat
// CHECK: %[[O:.+]], %[[NS:.+]] = sinter.linear_attention {{.+}} state %[[S]] {{.+}}scale = 5.000000e-01 : f32{{.+}} : (tensor<1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x4x4xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>) -> (tensor<1x2x8xf32>, tensor<1x2x4x4xf32>)
// CHECK-NOT: sinter.linear_attention
// CHECK-NOT: sinter.transpose
// CHECK: return %{{.+}}, %[[NS]]
func.func @prefill_merged(%s0: tensor<1x2x4x4xf32>, %q: tensor<1x2x2x4xf32>, %k: tensor<1x2x2x4xf32>, %v: tensor<1x2x2x4xf32>, %g: tensor<1x2x2xf32>, %b: tensor<1x2x2xf32>) -> (tensor<1x2x2x4xf32>, tensor<1x2x4x4xf32>) {
  %c = arith.constant dense<5.000000e-01> : tensor<f32>
  %qh = sinter.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  %kh = sinter.transpose %k {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  %vh = sinter.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  %eg = sinter.exp %g : tensor<1x2x2xf32>
  %eg4 = tensor.expand_shape %eg [[0], [1], [2, 3]] output_shape [1, 2, 2, 1] : tensor<1x2x2xf32> into tensor<1x2x2x1xf32>
  %dec = sinter.transpose %eg4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  %b4 = tensor.expand_shape %b [[0], [1], [2, 3]] output_shape [1, 2, 2, 1] : tensor<1x2x2xf32> into tensor<1x2x2x1xf32>
  %bt = sinter.transpose %b4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  %q0 = tensor.extract_slice %qh[0, 0, 0, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %k0 = tensor.extract_slice %kh[0, 0, 0, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %v0 = tensor.extract_slice %vh[0, 0, 0, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %d0 = tensor.extract_slice %dec[0, 0, 0, 0] [1, 2, 1, 1] [1, 1, 1, 1] : tensor<1x2x2x1xf32> to tensor<1x2x1x1xf32>
  %b0 = tensor.extract_slice %bt[0, 0, 0, 0] [1, 2, 1, 1] [1, 1, 1, 1] : tensor<1x2x2x1xf32> to tensor<1x2x1x1xf32>
  %s1 = sinter.mul %s0, %d0 : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %m1 = sinter.matmul %k0, %s1 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %e1 = sinter.sub %v0, %m1 : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32>
  %u1 = sinter.mul %e1, %b0 : (tensor<1x2x1x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x1x4xf32>
  %kc1 = sinter.transpose %k0 {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x1x4xf32>) -> tensor<1x2x4x1xf32>
  %p1 = sinter.matmul %kc1, %u1 : (tensor<1x2x4x1xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+2 {{fused: gated-delta step (2 heads, state [1, 2, 4, 4], scale 1) from 8 ops}}
  // expected-remark @+1 {{sinter-raise-linear-attention: fused: 2 one-token steps merged into one 2-token op}}
  %s2 = sinter.add %s1, %p1 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %o1 = sinter.matmul %q0, %s2 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %q1 = tensor.extract_slice %qh[0, 0, 1, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %k1 = tensor.extract_slice %kh[0, 0, 1, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %v1 = tensor.extract_slice %vh[0, 0, 1, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x2x4xf32> to tensor<1x2x1x4xf32>
  %d1 = tensor.extract_slice %dec[0, 0, 1, 0] [1, 2, 1, 1] [1, 1, 1, 1] : tensor<1x2x2x1xf32> to tensor<1x2x1x1xf32>
  %b1 = tensor.extract_slice %bt[0, 0, 1, 0] [1, 2, 1, 1] [1, 1, 1, 1] : tensor<1x2x2x1xf32> to tensor<1x2x1x1xf32>
  %s3 = sinter.mul %s2, %d1 : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %m2 = sinter.matmul %k1, %s3 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %e2 = sinter.sub %v1, %m2 : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32>
  %u2 = sinter.mul %e2, %b1 : (tensor<1x2x1x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x1x4xf32>
  %kc2 = sinter.transpose %k1 {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x1x4xf32>) -> tensor<1x2x4x1xf32>
  %p2 = sinter.matmul %kc2, %u2 : (tensor<1x2x4x1xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @below {{fused: gated-delta step (2 heads, state [1, 2, 4, 4], scale 1) from 8 ops}}
  %s4 = sinter.add %s3, %p2 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %o2 = sinter.matmul %q1, %s4 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %o = tensor.concat dim(2) %o1, %o2 : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x2x4xf32>
  %os = sinter.mul %o, %c : (tensor<1x2x2x4xf32>, tensor<f32>) -> tensor<1x2x2x4xf32>
  %ot = sinter.transpose %os {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %ot, %s4 : tensor<1x2x2x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Refused: the decay is a computed factor, not exp of a gate.
// CHECK-LABEL: func.func @decay_not_exp
// CHECK-NOT: sinter.linear_attention
func.func @decay_not_exp(%s0: tensor<1x2x4x4xf32>, %q: tensor<1x2x1x4xf32>, %k: tensor<1x2x1x4xf32>, %v: tensor<1x2x1x4xf32>, %dec: tensor<1x2x1x1xf32>, %b: tensor<1x2x1x1xf32>) -> tensor<1x2x1x4xf32> {
  %s1 = sinter.mul %s0, %dec : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %m1 = sinter.matmul %k, %s1 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %e1 = sinter.sub %v, %m1 : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32>
  %u1 = sinter.mul %e1, %b : (tensor<1x2x1x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x1x4xf32>
  %kc = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x1x4xf32>) -> tensor<1x2x4x1xf32>
  %p1 = sinter.matmul %kc, %u1 : (tensor<1x2x4x1xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @below {{sinter-raise-linear-attention: refused: the decay is not exp of a log-space gate (a block argument)}}
  %s2 = sinter.add %s1, %p1 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %o = sinter.matmul %q, %s2 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  return %o : tensor<1x2x1x4xf32>
}

// -----

// Refused: the delta rule reads k S from another key (%k2) than the update
// writes (%k); and a decay per key feature [1, 2, 4, 1], not per head.
// CHECK-LABEL: func.func @near_misses
// CHECK-NOT: sinter.linear_attention
func.func @near_misses(%s0: tensor<1x2x4x4xf32>, %q: tensor<1x2x1x4xf32>, %k: tensor<1x2x1x4xf32>, %k2: tensor<1x2x1x4xf32>, %v: tensor<1x2x1x4xf32>, %g: tensor<1x2x1x1xf32>, %gk: tensor<1x2x4x1xf32>, %b: tensor<1x2x1x1xf32>) -> (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) {
  %dec = sinter.exp %g : tensor<1x2x1x1xf32>
  %s1 = sinter.mul %s0, %dec : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %m1 = sinter.matmul %k2, %s1 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %e1 = sinter.sub %v, %m1 : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32>
  %u1 = sinter.mul %e1, %b : (tensor<1x2x1x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x1x4xf32>
  %kc = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x1x4xf32>) -> tensor<1x2x4x1xf32>
  %p1 = sinter.matmul %kc, %u1 : (tensor<1x2x4x1xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @below {{refused: the delta rule reads k S from another key or state than the update writes}}
  %s2 = sinter.add %s1, %p1 : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %o = sinter.matmul %q, %s2 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %deck = sinter.exp %gk : tensor<1x2x4x1xf32>
  %t1 = sinter.mul %s0, %deck : (tensor<1x2x4x4xf32>, tensor<1x2x4x1xf32>) -> tensor<1x2x4x4xf32>
  %tm = sinter.matmul %k, %t1 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  %te = sinter.sub %v, %tm : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32>
  %tu = sinter.mul %te, %b : (tensor<1x2x1x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x1x4xf32>
  %tp = sinter.matmul %kc, %tu : (tensor<1x2x4x1xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @below {{refused: the state decay is not a per-head factor [B, H, 1, 1]}}
  %t2 = sinter.add %t1, %tp : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %to = sinter.matmul %q, %t2 : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x1x4xf32>
  return %o, %to : tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>
}
