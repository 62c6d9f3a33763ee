// RUN: sinter-opt %s -split-input-file -sinter-fuse-parallel-linears 2>/dev/null | FileCheck %s
// RUN: sinter-opt %s -split-input-file -sinter-fuse-parallel-linears 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK

// Q/K/V with unequal widths, a bias on one piece only: one weight folded at
// compile time (rows in program order), zeros in the bias for the others,
// and the source constants gone.
// CHECK-LABEL: func.func @qkv_widths_bias_mix
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
// CHECK-DAG: %[[W:.+]] = arith.constant dense<{{\[}}[1.0{{.*}}[2.0{{.*}}[3.0{{.*}}> : tensor<8x8xf32>
// CHECK-DAG: %[[B:.+]] = arith.constant dense<[0.0{{.*}}, 0.0{{.*}}, 0.0{{.*}}, 0.0{{.*}}, 0.0{{.*}}, 0.0{{.*}}, 5.0{{.*}}, 6.0{{.*}}]> : tensor<8xf32>
// CHECK: %[[Y:.+]] = sinter.linear %[[X]], %[[W]] bias %[[B]] : (tensor<2x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
// CHECK: %[[S:.+]]:3 = sinter.split %[[Y]] {axis = 1 : i64, sizes = array<i64: 4, 2, 2>}
// CHECK: return %[[S]]#0, %[[S]]#1, %[[S]]#2
// CHECK-NOT: arith.constant
// REMARK: remark: sinter-fuse-parallel-linears: fused: 3 linears of widths [4, 2, 2] (N = 8, K = 8, f32, 1 of 3 with bias); 288 weight bytes moved at compile time
// REMARK-COUNT-3: note: involves: sinter.linear
func.func @qkv_widths_bias_mix(%x: tensor<2x8xf32>) -> (tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %wq = arith.constant dense<1.0> : tensor<4x8xf32>
  %wk = arith.constant dense<2.0> : tensor<2x8xf32>
  %wv = arith.constant dense<3.0> : tensor<2x8xf32>
  %bv = arith.constant dense<[5.0, 6.0]> : tensor<2xf32>
  %q = sinter.linear %x, %wq : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  %k = sinter.linear %x, %wk : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x2xf32>
  %v = sinter.linear %x, %wv bias %bv : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  return %q, %k, %v : tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

// GatedDeltaNet's four input projections (8192/4096/32/32 scaled down to
// 64/32/2/2), bf16, no bias anywhere: the fused linear has none either.
// The uses may come in any order; the fused linear goes before the first.
// CHECK-LABEL: func.func @gdn_four_way
// CHECK-SAME: (%[[X:.+]]: tensor<1x3x16xbf16>)
// CHECK: %[[W:.+]] = arith.constant dense<{{.*}}> : tensor<100x16xbf16>
// CHECK: %[[Y:.+]] = sinter.linear %[[X]], %[[W]] : (tensor<1x3x16xbf16>, tensor<100x16xbf16>) -> tensor<1x3x100xbf16>
// CHECK: %[[S:.+]]:4 = sinter.split %[[Y]] {axis = 2 : i64, sizes = array<i64: 64, 32, 2, 2>}
// CHECK: return %[[S]]#3, %[[S]]#2, %[[S]]#1, %[[S]]#0
// REMARK: remark: sinter-fuse-parallel-linears: fused: 4 linears of widths [64, 32, 2, 2] (N = 100, K = 16, bf16, 0 of 4 with bias); 3200 weight bytes moved at compile time
func.func @gdn_four_way(%x: tensor<1x3x16xbf16>) -> (tensor<1x3x2xbf16>, tensor<1x3x2xbf16>, tensor<1x3x32xbf16>, tensor<1x3x64xbf16>) {
  %wqkv = arith.constant dense<1.0> : tensor<64x16xbf16>
  %qkv = sinter.linear %x, %wqkv : (tensor<1x3x16xbf16>, tensor<64x16xbf16>) -> tensor<1x3x64xbf16>
  %wz = arith.constant dense<2.0> : tensor<32x16xbf16>
  %z = sinter.linear %x, %wz : (tensor<1x3x16xbf16>, tensor<32x16xbf16>) -> tensor<1x3x32xbf16>
  %wb = arith.constant dense<3.0> : tensor<2x16xbf16>
  %b = sinter.linear %x, %wb : (tensor<1x3x16xbf16>, tensor<2x16xbf16>) -> tensor<1x3x2xbf16>
  %wa = arith.constant dense<4.0> : tensor<2x16xbf16>
  %a = sinter.linear %x, %wa : (tensor<1x3x16xbf16>, tensor<2x16xbf16>) -> tensor<1x3x2xbf16>
  return %a, %b, %z, %qkv : tensor<1x3x2xbf16>, tensor<1x3x2xbf16>, tensor<1x3x32xbf16>, tensor<1x3x64xbf16>
}

// -----

// Gate and up (512/512 scaled down), both with bias, reached through one
// shared cast of the activation: the fused linear reads the cast.
// CHECK-LABEL: func.func @gate_up_through_shared_cast
// CHECK: %[[C:.+]] = sinter.cast
// CHECK-DAG: %[[W:.+]] = arith.constant dense<{{.*}}> : tensor<8x4xf16>
// CHECK-DAG: %[[B:.+]] = arith.constant dense<[1.0{{.*}}, 1.0{{.*}}, 1.0{{.*}}, 1.0{{.*}}, 2.0{{.*}}, 2.0{{.*}}, 2.0{{.*}}, 2.0{{.*}}]> : tensor<8xf16>
// CHECK: %[[Y:.+]] = sinter.linear %[[C]], %[[W]] bias %[[B]]
// CHECK: sinter.split %[[Y]] {axis = 1 : i64, sizes = array<i64: 4, 4>}
// REMARK: remark: sinter-fuse-parallel-linears: fused: 2 linears of widths [4, 4] (N = 8, K = 4, f16, 2 of 2 with bias); 80 weight bytes moved at compile time
func.func @gate_up_through_shared_cast(%x: tensor<2x4xf32>) -> (tensor<2x4xf16>, tensor<2x4xf16>) {
  %c = sinter.cast %x : (tensor<2x4xf32>) -> tensor<2x4xf16>
  %wg = arith.constant dense<0.5> : tensor<4x4xf16>
  %bg = arith.constant dense<1.0> : tensor<4xf16>
  %wu = arith.constant dense<0.25> : tensor<4x4xf16>
  %bu = arith.constant dense<2.0> : tensor<4xf16>
  %g = sinter.linear %c, %wg bias %bg : (tensor<2x4xf16>, tensor<4x4xf16>, tensor<4xf16>) -> tensor<2x4xf16>
  %u = sinter.linear %c, %wu bias %bu : (tensor<2x4xf16>, tensor<4x4xf16>, tensor<4xf16>) -> tensor<2x4xf16>
  return %g, %u : tensor<2x4xf16>, tensor<2x4xf16>
}

// -----

// Pieces reached through one shared reshape of the activation.
// CHECK-LABEL: func.func @through_shared_reshape
// CHECK: %[[R:.+]] = tensor.collapse_shape
// CHECK: %[[Y:.+]] = sinter.linear %[[R]], %{{.+}} : (tensor<6x4xf32>, tensor<5x4xf32>) -> tensor<6x5xf32>
// CHECK: sinter.split %[[Y]] {axis = 1 : i64, sizes = array<i64: 3, 2>}
// REMARK: remark: sinter-fuse-parallel-linears: fused: 2 linears of widths [3, 2]
func.func @through_shared_reshape(%x: tensor<2x3x4xf32>) -> (tensor<6x3xf32>, tensor<6x2xf32>) {
  %r = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
  %w1 = arith.constant dense<1.0> : tensor<3x4xf32>
  %w2 = arith.constant dense<2.0> : tensor<2x4xf32>
  %a = sinter.linear %r, %w1 : (tensor<6x4xf32>, tensor<3x4xf32>) -> tensor<6x3xf32>
  %b = sinter.linear %r, %w2 : (tensor<6x4xf32>, tensor<2x4xf32>) -> tensor<6x2xf32>
  return %a, %b : tensor<6x3xf32>, tensor<6x2xf32>
}

// -----

// One piece reads x, the others a reshape of it with the same K: one linear
// over x, the slices reshaped back; the now unused reshape is gone.
// CHECK-LABEL: func.func @through_different_reshapes
// CHECK-SAME: (%[[X:.+]]: tensor<1x3x4xf32>)
// CHECK: %[[Y:.+]] = sinter.linear %[[X]], %{{.+}} : (tensor<1x3x4xf32>, tensor<5x4xf32>) -> tensor<1x3x5xf32>
// CHECK: %[[S:.+]]:2 = sinter.split %[[Y]] {axis = 2 : i64, sizes = array<i64: 3, 2>}
// CHECK: %[[R:.+]] = tensor.collapse_shape %[[S]]#1 {{\[}}[0, 1], [2]] : tensor<1x3x2xf32> into tensor<3x2xf32>
// CHECK-NOT: tensor.collapse_shape
// CHECK: return %[[S]]#0, %[[R]]
// REMARK: remark: sinter-fuse-parallel-linears: fused: 2 linears of widths [3, 2]
func.func @through_different_reshapes(%x: tensor<1x3x4xf32>) -> (tensor<1x3x3xf32>, tensor<3x2xf32>) {
  %w1 = arith.constant dense<1.0> : tensor<3x4xf32>
  %a = sinter.linear %x, %w1 : (tensor<1x3x4xf32>, tensor<3x4xf32>) -> tensor<1x3x3xf32>
  %r = tensor.collapse_shape %x [[0, 1], [2]] : tensor<1x3x4xf32> into tensor<3x4xf32>
  %w2 = arith.constant dense<2.0> : tensor<2x4xf32>
  %b = sinter.linear %r, %w2 : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32>
  return %a, %b : tensor<1x3x3xf32>, tensor<3x2xf32>
}

// -----

// Same dtype and K, but one input went through f16 and back: other values.
// CHECK-LABEL: func.func @refuse_other_casts
// CHECK-NOT: sinter.split
// REMARK: remark: sinter-fuse-parallel-linears: refused: input tensor<2x4xf32> is reached through other casts than the tensor<2x4xf32> of the 1 other linear reading the same activation
// REMARK: remark: sinter-fuse-parallel-linears: refused: input tensor<2x4xf32> is reached through other casts
func.func @refuse_other_casts(%x: tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %w = arith.constant dense<1.0> : tensor<2x4xf32>
  %a = sinter.linear %x, %w : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %h = sinter.cast %x : (tensor<2x4xf32>) -> tensor<2x4xf16>
  %f = sinter.cast %h : (tensor<2x4xf16>) -> tensor<2x4xf32>
  %b = sinter.linear %f, %w : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  return %a, %b : tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

// External-data weights (resources) are not read: the fused weight is a
// pack plan over the sources; an inline piece joins the plan as a source.
// CHECK-LABEL: func.func @external_weights_pack_plan
// CHECK-DAG: %[[A:.+]] = arith.constant dense_resource<wa> : tensor<2x4xf32>
// CHECK-DAG: %[[B:.+]] = arith.constant dense_resource<wb> : tensor<1x4xf32>
// CHECK-DAG: %[[C:.+]] = arith.constant dense<1.0{{.*}}> : tensor<1x4xf32>
// CHECK: %[[W:.+]] = sinter.pack_weights %[[A]], %[[B]], %[[C]] {axis = 0 : i64, offsets = array<i64: 0, 2, 3>, transpose = array<i1: false, false, false>} : (tensor<2x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<4x4xf32>
// CHECK: sinter.linear %{{.+}}, %[[W]] :
// REMARK: remark: sinter-fuse-parallel-linears: fused: 3 linears of widths [2, 1, 1] (N = 4, K = 4, f32, 0 of 3 with bias); 64 weight bytes moved by a weight-pack plan at load time
func.func @external_weights_pack_plan(%x: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x1xf32>, tensor<3x1xf32>) {
  %wa = arith.constant dense_resource<wa> : tensor<2x4xf32>
  %wb = arith.constant dense_resource<wb> : tensor<1x4xf32>
  %wc = arith.constant dense<1.0> : tensor<1x4xf32>
  %a = sinter.linear %x, %wa : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32>
  %b = sinter.linear %x, %wb : (tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x1xf32>
  %c = sinter.linear %x, %wc : (tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x1xf32>
  return %a, %b, %c : tensor<3x2xf32>, tensor<3x1xf32>, tensor<3x1xf32>
}

{-#
  dialect_resources: {
    builtin: {
      wa: "0x040000000000803F0000004000004040000080400000A0400000C0400000E04000000041",
      wb: "0x04000000000080BF000000C0000040C0000080C0"
    }
  }
#-}

// -----

// A resource transposed by an earlier pass (sinter-form-linears) stays a
// transposed source of the plan.
// CHECK-LABEL: func.func @external_transposed_source
// CHECK: sinter.pack_weights %{{.+}}, %{{.+}} {axis = 0 : i64, offsets = array<i64: 0, 2>, transpose = array<i1: true, false>}
func.func @external_transposed_source(%x: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %wa = arith.constant dense_resource<wa> : tensor<4x2xf32>
  %wat = sinter.pack_weights %wa {axis = 0 : i64, offsets = array<i64: 0>, transpose = array<i1: true>} : (tensor<4x2xf32>) -> tensor<2x4xf32>
  %wb = arith.constant dense<1.0> : tensor<2x4xf32>
  %a = sinter.linear %x, %wat : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32>
  %b = sinter.linear %x, %wb : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32>
  return %a, %b : tensor<3x2xf32>, tensor<3x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      wa: "0x040000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
    }
  }
#-}

// -----

// A computed bias is concatenated at run time, with zeros for the piece
// that has none.
// CHECK-LABEL: func.func @computed_bias
// CHECK-SAME: (%[[X:.+]]: tensor<2x4xf32>, %[[BA:.+]]: tensor<2xf32>)
// CHECK: %[[Z:.+]] = arith.constant dense<0.0{{.*}}> : tensor<3xf32>
// CHECK: %[[B:.+]] = tensor.concat dim(0) %[[BA]], %[[Z]] : (tensor<2xf32>, tensor<3xf32>) -> tensor<5xf32>
// CHECK: sinter.linear %[[X]], %{{.+}} bias %[[B]]
// REMARK: remark: sinter-fuse-parallel-linears: fused: 2 linears of widths [2, 3] (N = 5, K = 4, f32, 1 of 2 with bias)
func.func @computed_bias(%x: tensor<2x4xf32>, %ba: tensor<2xf32>) -> (tensor<2x2xf32>, tensor<2x3xf32>) {
  %wa = arith.constant dense<1.0> : tensor<2x4xf32>
  %wb = arith.constant dense<2.0> : tensor<3x4xf32>
  %a = sinter.linear %x, %wa bias %ba : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %b = sinter.linear %x, %wb : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  return %a, %b : tensor<2x2xf32>, tensor<2x3xf32>
}

// -----

// Gemm's beta * C, computed after the first piece: moved up to the fused
// linear. A bias computed from another piece's output cannot be.
// CHECK-LABEL: func.func @bias_hoisted
// CHECK-SAME: (%[[X:.+]]: tensor<2x4xf32>, %[[C:.+]]: tensor<3xf32>)
// CHECK: %[[BETA:.+]] = sinter.mul %[[C]]
// CHECK: %[[B:.+]] = tensor.concat dim(0) %{{.+}}, %[[BETA]] : (tensor<2xf32>, tensor<3xf32>) -> tensor<5xf32>
// CHECK: %[[Y:.+]] = sinter.linear %[[X]], %{{.+}} bias %[[B]]
// CHECK: %[[S:.+]]:2 = sinter.split %[[Y]]
// CHECK: sinter.add %[[S]]#0
// CHECK: sinter.linear %[[X]]
// REMARK: remark: sinter-fuse-parallel-linears: refused: its bias is computed after the first linear of the group from values not available there
// REMARK: remark: sinter-fuse-parallel-linears: fused: 2 linears of widths [2, 3] (N = 5, K = 4, f32, 1 of 2 with bias)
func.func @bias_hoisted(%x: tensor<2x4xf32>, %c: tensor<3xf32>) -> (tensor<2x2xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %wa = arith.constant dense<1.0> : tensor<2x4xf32>
  %a = sinter.linear %x, %wa : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %beta = arith.constant dense<0.25> : tensor<f32>
  %bb = sinter.mul %c, %beta : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %wb = arith.constant dense<2.0> : tensor<3x4xf32>
  %b = sinter.linear %x, %wb bias %bb : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %s = sinter.add %a, %a : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %bd = tensor.collapse_shape %s [[0, 1]] : tensor<2x2xf32> into tensor<4xf32>
  %bd3 = tensor.extract_slice %bd[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
  %d = sinter.linear %x, %wb bias %bd3 : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %s, %b, %d : tensor<2x2xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Different dtypes (one piece reads a bf16 cast of x): nothing is fused.
// CHECK-LABEL: func.func @refuse_dtype_mismatch
// CHECK-COUNT-2: sinter.linear
// CHECK-NOT: sinter.split
// REMARK: remark: sinter-fuse-parallel-linears: refused: dtypes differ: input is f32, not bf16 of the 1 other linear reading the same activation
// REMARK: remark: sinter-fuse-parallel-linears: refused: dtypes differ: input is bf16, not f32 of the 1 other linear reading the same activation
func.func @refuse_dtype_mismatch(%x: tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xbf16>) {
  %wa = arith.constant dense<1.0> : tensor<2x4xf32>
  %a = sinter.linear %x, %wa : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %c = sinter.cast %x : (tensor<2x4xf32>) -> tensor<2x4xbf16>
  %wb = arith.constant dense<1.0> : tensor<2x4xbf16>
  %b = sinter.linear %c, %wb : (tensor<2x4xbf16>, tensor<2x4xbf16>) -> tensor<2x2xbf16>
  return %a, %b : tensor<2x2xf32>, tensor<2x2xbf16>
}

// -----

// K differs (one piece reads x reshaped to another last dimension).
// CHECK-LABEL: func.func @refuse_k_mismatch
// CHECK-NOT: sinter.split
// REMARK: remark: sinter-fuse-parallel-linears: refused: K differs: 8, not 4 of the 1 other linear reading the same activation
// REMARK: remark: sinter-fuse-parallel-linears: refused: K differs: 4, not 8 of the 1 other linear reading the same activation
func.func @refuse_k_mismatch(%x: tensor<2x8xf32>) -> (tensor<2x2xf32>, tensor<4x2xf32>) {
  %wa = arith.constant dense<1.0> : tensor<2x8xf32>
  %a = sinter.linear %x, %wa : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x2xf32>
  %r = tensor.expand_shape %x [[0], [1, 2]] output_shape [2, 2, 4] : tensor<2x8xf32> into tensor<2x2x4xf32>
  %r2 = tensor.collapse_shape %r [[0, 1], [2]] : tensor<2x2x4xf32> into tensor<4x4xf32>
  %wb = arith.constant dense<1.0> : tensor<2x4xf32>
  %b = sinter.linear %r2, %wb : (tensor<4x4xf32>, tensor<2x4xf32>) -> tensor<4x2xf32>
  return %a, %b : tensor<2x2xf32>, tensor<4x2xf32>
}

// -----

// A computed weight is refused; the two constant pieces still fuse.
// CHECK-LABEL: func.func @refuse_computed_weight
// CHECK-SAME: (%[[X:.+]]: tensor<2x4xf32>, %[[WD:.+]]: tensor<3x4xf32>)
// CHECK-DAG: sinter.linear %[[X]], %[[WD]] : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
// CHECK-DAG: %[[S:.+]]:2 = sinter.split {{.*}} sizes = array<i64: 2, 1>
// REMARK: remark: sinter-fuse-parallel-linears: refused: weight is not a compile-time constant
// REMARK: remark: sinter-fuse-parallel-linears: fused: 2 linears of widths [2, 1]
func.func @refuse_computed_weight(%x: tensor<2x4xf32>, %wd: tensor<3x4xf32>) -> (tensor<2x2xf32>, tensor<2x3xf32>, tensor<2x1xf32>) {
  %wa = arith.constant dense<1.0> : tensor<2x4xf32>
  %wc = arith.constant dense<1.0> : tensor<1x4xf32>
  %a = sinter.linear %x, %wa : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %d = sinter.linear %x, %wd : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  %c = sinter.linear %x, %wc : (tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<2x1xf32>
  return %a, %d, %c : tensor<2x2xf32>, tensor<2x3xf32>, tensor<2x1xf32>
}

// -----

// With only one constant piece left there is nothing to fuse.
// CHECK-LABEL: func.func @refuse_computed_weight_pair
// CHECK-NOT: sinter.split
// REMARK: remark: sinter-fuse-parallel-linears: refused: weight is not a compile-time constant
// REMARK-NOT: fused
func.func @refuse_computed_weight_pair(%x: tensor<2x4xf32>, %wd: tensor<3x4xf32>) -> (tensor<2x2xf32>, tensor<2x3xf32>) {
  %wa = arith.constant dense<1.0> : tensor<2x4xf32>
  %a = sinter.linear %x, %wa : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %d = sinter.linear %x, %wd : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  return %a, %d : tensor<2x2xf32>, tensor<2x3xf32>
}

// -----

// A lone linear, and linears of different activations, are no candidates.
// CHECK-LABEL: func.func @no_group
// CHECK-NOT: sinter.split
// REMARK-NOT: remark
func.func @no_group(%x: tensor<2x4xf32>, %y: tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %w = arith.constant dense<1.0> : tensor<2x4xf32>
  %a = sinter.linear %x, %w : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %b = sinter.linear %y, %w : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  return %a, %b : tensor<2x2xf32>, tensor<2x2xf32>
}
