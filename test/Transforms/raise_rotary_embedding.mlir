// RUN: sinter-opt %s -sinter-raise-rotary-embedding=remarks=true -split-input-file -verify-diagnostics | FileCheck %s

// The exporter's partial RoPE (rot_dim 4 of head dim 16): cos and sin rows
// gathered from [64, 2] tables by the position ids and unsqueezed to
// [1, 1, S, 2]; x split into x1, x2 and the unrotated tail. The op takes
// the tables and the ids; the gathers die.
// CHECK-LABEL: func.func @split_gather_tables
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x3x16xf32>, %[[C:.+]]: tensor<64x2xf32>, %[[S:.+]]: tensor<64x2xf32>, %[[P:.+]]: tensor<1x3xi64>)
// CHECK-NEXT: %[[Y:.+]] = sinter.rotary_embedding %[[X]], %[[C]], %[[S]] positions %[[P]] {rotary_dim = 4 : i64} : (tensor<1x2x3x16xf32>, tensor<64x2xf32>, tensor<64x2xf32>, tensor<1x3xi64>) -> tensor<1x2x3x16xf32>
// CHECK-NEXT: return %[[Y]]
func.func @split_gather_tables(%x: tensor<1x2x3x16xf32>, %ct: tensor<64x2xf32>, %st: tensor<64x2xf32>, %pos: tensor<1x3xi64>) -> tensor<1x2x3x16xf32> {
  %c3 = sinter.gather %ct, %pos {axis = 0 : i64} : (tensor<64x2xf32>, tensor<1x3xi64>) -> tensor<1x3x2xf32>
  %s3 = sinter.gather %st, %pos {axis = 0 : i64} : (tensor<64x2xf32>, tensor<1x3xi64>) -> tensor<1x3x2xf32>
  %c = tensor.expand_shape %c3 [[0, 1], [2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 1, 3, 2] : tensor<1x3x2xf32> into tensor<1x1x3x2xf32>
  %x1, %x2, %r = sinter.split %x {axis = 3 : i64, sizes = array<i64: 2, 2, 12>} : (tensor<1x2x3x16xf32>) -> (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>, tensor<1x2x3x12xf32>)
  %a1 = sinter.mul %x1, %c : (tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) -> tensor<1x2x3x2xf32>
  %a2 = sinter.mul %x2, %s : (tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) -> tensor<1x2x3x2xf32>
  %b1 = sinter.mul %x2, %c : (tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) -> tensor<1x2x3x2xf32>
  %b2 = sinter.mul %x1, %s : (tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) -> tensor<1x2x3x2xf32>
  %a = sinter.sub %a1, %a2 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  %b = sinter.add %b1, %b2 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  // expected-remark @below {{sinter-raise-rotary-embedding: fused: rotary_embedding (rot_dim 4 of head dim 16, cos/sin tables gathered by position ids) from 8 ops}}
  %y = tensor.concat dim(3) %a, %b, %r : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>, tensor<1x2x3x12xf32>) -> tensor<1x2x3x16xf32>
  return %y : tensor<1x2x3x16xf32>
}

// -----

// Full rotation (rot_dim = D) with Slices, factors first in the products,
// the add's terms swapped; cos/sin are computed rows [S, h] (B = 1): the op
// takes them as [1, S, h] without positions.
// CHECK-LABEL: func.func @slices_computed_rows
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x3x8xf32>, %[[C:.+]]: tensor<3x4xf32>, %[[S:.+]]: tensor<3x4xf32>)
// CHECK-DAG: %[[CR:.+]] = tensor.expand_shape %{{.+}} output_shape [1, 3, 4]
// CHECK-DAG: %[[SR:.+]] = tensor.expand_shape %{{.+}} output_shape [1, 3, 4]
// CHECK: sinter.rotary_embedding %[[X]], %[[CR]], %[[SR]] {rotary_dim = 8 : i64} : (tensor<1x2x3x8xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>) -> tensor<1x2x3x8xf32>
func.func @slices_computed_rows(%x: tensor<1x2x3x8xf32>, %c: tensor<3x4xf32>, %s: tensor<3x4xf32>) -> tensor<1x2x3x8xf32> {
  %x1 = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 4] [1, 1, 1, 1] : tensor<1x2x3x8xf32> to tensor<1x2x3x4xf32>
  %x2 = tensor.extract_slice %x[0, 0, 0, 4] [1, 2, 3, 4] [1, 1, 1, 1] : tensor<1x2x3x8xf32> to tensor<1x2x3x4xf32>
  %a1 = sinter.mul %c, %x1 : (tensor<3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %a2 = sinter.mul %s, %x2 : (tensor<3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %b1 = sinter.mul %x1, %s : (tensor<1x2x3x4xf32>, tensor<3x4xf32>) -> tensor<1x2x3x4xf32>
  %b2 = sinter.mul %x2, %c : (tensor<1x2x3x4xf32>, tensor<3x4xf32>) -> tensor<1x2x3x4xf32>
  %a = sinter.sub %a1, %a2 : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %b = sinter.add %b1, %b2 : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  // expected-remark @below {{fused: rotary_embedding (rot_dim 8 of head dim 8, cos/sin per position) from 9 ops}}
  %y = tensor.concat dim(3) %a, %b : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x8xf32>
  return %y : tensor<1x2x3x8xf32>
}

// -----

// Refused: the halves are swapped (x2 * cos - x1 * sin first), which is
// rotation by -theta of the pair in another order, not RoPE's.
// CHECK-LABEL: func.func @swapped_halves
// CHECK-NOT: sinter.rotary_embedding
func.func @swapped_halves(%x: tensor<1x2x3x8xf32>, %c: tensor<1x1x3x4xf32>, %s: tensor<1x1x3x4xf32>) -> tensor<1x2x3x8xf32> {
  %x1, %x2 = sinter.split %x {axis = 3 : i64, sizes = array<i64: 4, 4>} : (tensor<1x2x3x8xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>)
  %a1 = sinter.mul %x2, %c : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  %a2 = sinter.mul %x1, %s : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  %b1 = sinter.mul %x1, %c : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  %b2 = sinter.mul %x2, %s : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  %a = sinter.sub %a1, %a2 : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %b = sinter.add %b1, %b2 : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  // expected-remark @below {{sinter-raise-rotary-embedding: refused: the halves are not x[..., 0:h] and x[..., h:2h] in rotate-half order}}
  %y = tensor.concat dim(3) %a, %b : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x8xf32>
  return %y : tensor<1x2x3x8xf32>
}

// -----

// Refused: cos varies per head ([1, 2, 3, 2]), which the op cannot express;
// and a second RoPE whose halves use different cos tensors.
// CHECK-LABEL: func.func @near_misses
// CHECK-NOT: sinter.rotary_embedding
func.func @near_misses(%x: tensor<1x2x3x4xf32>, %c: tensor<1x2x3x2xf32>, %s: tensor<1x2x3x2xf32>, %c2: tensor<1x1x3x2xf32>, %c3: tensor<1x1x3x2xf32>, %s2: tensor<1x1x3x2xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) {
  %x1, %x2 = sinter.split %x {axis = 3 : i64, sizes = array<i64: 2, 2>} : (tensor<1x2x3x4xf32>) -> (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>)
  %a1 = sinter.mul %x1, %c : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  %a2 = sinter.mul %x2, %s : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  %b1 = sinter.mul %x2, %c : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  %b2 = sinter.mul %x1, %s : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  %a = sinter.sub %a1, %a2 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  %b = sinter.add %b1, %b2 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  // expected-remark @below {{refused: cos [1, 2, 3, 2] and sin [1, 2, 3, 2] are not [B, 1, S, rot_dim / 2]}}
  %y = tensor.concat dim(3) %a, %b : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %e1 = sinter.mul %x1, %c2 : (tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) -> tensor<1x2x3x2xf32>
  %e2 = sinter.mul %x2, %s2 : (tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) -> tensor<1x2x3x2xf32>
  %f1 = sinter.mul %x2, %c3 : (tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) -> tensor<1x2x3x2xf32>
  %f2 = sinter.mul %x1, %s2 : (tensor<1x2x3x2xf32>, tensor<1x1x3x2xf32>) -> tensor<1x2x3x2xf32>
  %e = sinter.sub %e1, %e2 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  %f = sinter.add %f1, %f2 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  // expected-remark @below {{refused: cos and sin are not the same tensors in both halves}}
  %z = tensor.concat dim(3) %e, %f : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  return %y, %z : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>
}

// -----

// Hugging Face's spelling, partial: x_rot = x[..., 0:4], rotate_half =
// concat(-x_rot[..., 2:4], x_rot[..., 0:2]), cos/sin full width gathered
// from constant [4, 4] tables whose halves are equal; the tail x[..., 4:]
// appended. The op gets the first halves of the tables (new constants).
// CHECK-LABEL: func.func @rotate_half_partial_tables
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x3x8xf32>, %[[P:.+]]: tensor<1x3xi64>)
// CHECK-DAG: %[[CT:.+]] = arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00]]> : tensor<4x2xf32>
// CHECK-DAG: %[[ST:.+]] = arith.constant dense<{{\[}}[-1.000000e+00, -2.000000e+00], [-3.000000e+00, -4.000000e+00], [-5.000000e+00, -6.000000e+00], [-7.000000e+00, -8.000000e+00]]> : tensor<4x2xf32>
// CHECK: %[[Y:.+]] = sinter.rotary_embedding %[[X]], %[[CT]], %[[ST]] positions %[[P]] {rotary_dim = 4 : i64} : (tensor<1x2x3x8xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<1x3xi64>) -> tensor<1x2x3x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @rotate_half_partial_tables(%x: tensor<1x2x3x8xf32>, %pos: tensor<1x3xi64>) -> tensor<1x2x3x8xf32> {
  %ct = arith.constant dense<[[1.0, 2.0, 1.0, 2.0], [3.0, 4.0, 3.0, 4.0], [5.0, 6.0, 5.0, 6.0], [7.0, 8.0, 7.0, 8.0]]> : tensor<4x4xf32>
  %st = arith.constant dense<[[-1.0, -2.0, -1.0, -2.0], [-3.0, -4.0, -3.0, -4.0], [-5.0, -6.0, -5.0, -6.0], [-7.0, -8.0, -7.0, -8.0]]> : tensor<4x4xf32>
  %c3 = sinter.gather %ct, %pos {axis = 0 : i64} : (tensor<4x4xf32>, tensor<1x3xi64>) -> tensor<1x3x4xf32>
  %s3 = sinter.gather %st, %pos {axis = 0 : i64} : (tensor<4x4xf32>, tensor<1x3xi64>) -> tensor<1x3x4xf32>
  %c = tensor.expand_shape %c3 [[0, 1], [2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %xr, %xp = sinter.split %x {axis = 3 : i64, sizes = array<i64: 4, 4>} : (tensor<1x2x3x8xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>)
  %x1, %x2 = sinter.split %xr {axis = 3 : i64, sizes = array<i64: 2, 2>} : (tensor<1x2x3x4xf32>) -> (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>)
  %n2 = sinter.neg %x2 : tensor<1x2x3x2xf32>
  %rot = tensor.concat dim(3) %n2, %x1 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %a = sinter.mul %xr, %c : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  %b = sinter.mul %rot, %s : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  %e = sinter.add %a, %b : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  // expected-remark @below {{fused: rotary_embedding (rot_dim 4 of head dim 8, rotate_half form, cos/sin tables gathered by position ids) from 12 ops}}
  %y = tensor.concat dim(3) %e, %xp : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x8xf32>
  return %y : tensor<1x2x3x8xf32>
}

// -----

// Full rotation, cos/sin computed as cos/sin of concat(freqs, freqs) and
// unsqueezed (the HF export's rotary embedding): the op gets cos(freqs)
// and sin(freqs) per position.
// CHECK-LABEL: func.func @rotate_half_computed
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x3x4xf32>, %[[F:.+]]: tensor<1x3x2xf32>)
// CHECK-DAG: %[[C:.+]] = sinter.cos %[[F]] : tensor<1x3x2xf32>
// CHECK-DAG: %[[S:.+]] = sinter.sin %[[F]] : tensor<1x3x2xf32>
// CHECK: sinter.rotary_embedding %[[X]], %[[C]], %[[S]] {rotary_dim = 4 : i64}
// CHECK-NOT: tensor.concat
func.func @rotate_half_computed(%x: tensor<1x2x3x4xf32>, %f: tensor<1x3x2xf32>) -> tensor<1x2x3x4xf32> {
  %ff = tensor.concat dim(2) %f, %f : (tensor<1x3x2xf32>, tensor<1x3x2xf32>) -> tensor<1x3x4xf32>
  %c3 = sinter.cos %ff : tensor<1x3x4xf32>
  %s3 = sinter.sin %ff : tensor<1x3x4xf32>
  %c = tensor.expand_shape %c3 [[0, 1], [2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %s = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [1, 1, 3, 4] : tensor<1x3x4xf32> into tensor<1x1x3x4xf32>
  %x1 = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %x2 = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %n2 = sinter.neg %x2 : tensor<1x2x3x2xf32>
  %rot = tensor.concat dim(3) %n2, %x1 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %a = sinter.mul %c, %x : (tensor<1x1x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %b = sinter.mul %rot, %s : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  // expected-remark @below {{fused: rotary_embedding (rot_dim 4 of head dim 4, rotate_half form, cos/sin per position) from 13 ops}}
  %y = sinter.add %b, %a : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %y : tensor<1x2x3x4xf32>
}

// -----

// Refused: the cos table's halves differ (not a RoPE table), and a
// rotate_half of another tensor than the one multiplied by cos.
// CHECK-LABEL: func.func @rotate_half_near_misses
// CHECK-NOT: sinter.rotary_embedding
func.func @rotate_half_near_misses(%x: tensor<1x2x3x4xf32>, %w: tensor<1x2x3x4xf32>, %s: tensor<1x1x3x4xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) {
  %c = arith.constant dense<[[[[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 1.0, 2.0], [1.0, 2.0, 1.0, 2.0]]]]> : tensor<1x1x3x4xf32>
  %x1 = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %x2 = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %n2 = sinter.neg %x2 : tensor<1x2x3x2xf32>
  %rot = tensor.concat dim(3) %n2, %x1 : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %a = sinter.mul %x, %c : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  %b = sinter.mul %rot, %s : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  // expected-remark @below {{sinter-raise-rotary-embedding: refused: cos and sin are not two equal halves (concat(c, c) or a table with equal halves)}}
  %y = sinter.add %a, %b : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %a2 = sinter.mul %w, %c : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  // expected-remark @below {{refused: x * cos does not read the tensor rotate_half rotates}}
  %z = sinter.add %a2, %b : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %y, %z : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>
}
