// RUN: sinter-opt %s -sinter-form-expert-linears -split-input-file 2>/dev/null | FileCheck %s
// RUN: sinter-opt %s -sinter-form-expert-linears -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK

// The up projection: one row per token, broadcast over its 2 slots; the
// weight stays the export's [E, K, N] constant (weight_kn: no transpose,
// no second copy) and the gathered copy is gone.
// CHECK-LABEL: func.func @per_token
// CHECK-SAME: (%[[X:.+]]: tensor<3x1x1x2xf32>, %[[I:.+]]: tensor<3x2xi64>)
// CHECK-DAG: %[[W:.+]] = arith.constant dense<{{\[}}{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]], {{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00]]]> : tensor<2x2x3xf32>
// CHECK-DAG: %[[X2:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1, 2], [3]] : tensor<3x1x1x2xf32> into tensor<3x2xf32>
// CHECK: %[[E:.+]] = sinter.expert_linear %[[X2]], %[[W]], %[[I]] {weight_kn} : (tensor<3x2xf32>, tensor<2x2x3xf32>, tensor<3x2xi64>) -> tensor<3x2x3xf32>
// CHECK: %[[Y:.+]] = tensor.expand_shape %[[E]] {{\[}}[0], [1], [2, 3]] output_shape [3, 2, 1, 3]
// CHECK-NOT: sinter.gather
// CHECK: return %[[Y]]
// REMARK: remark: sinter-form-expert-linears: fused: matmul over 2 of 2 gathered experts reads them by index
func.func @per_token(%x: tensor<3x1x1x2xf32>, %idx: tensor<3x2xi64>) -> tensor<3x2x1x3xf32> {
  %w = arith.constant dense<[[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]> : tensor<2x2x3xf32>
  %g = sinter.gather %w, %idx {axis = 0 : i64} : (tensor<2x2x3xf32>, tensor<3x2xi64>) -> tensor<3x2x2x3xf32>
  %y = sinter.matmul %x, %g : (tensor<3x1x1x2xf32>, tensor<3x2x2x3xf32>) -> tensor<3x2x1x3xf32>
  return %y : tensor<3x2x1x3xf32>
}

// -----

// The down projection: one row per slot.
// CHECK-LABEL: func.func @per_slot
// CHECK: %[[X2:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2], [3]] : tensor<1x2x1x4xbf16> into tensor<1x2x4xbf16>
// CHECK: sinter.expert_linear %[[X2]], %{{.+}}, %{{.+}} {weight_kn} : (tensor<1x2x4xbf16>, tensor<8x4x6xbf16>, tensor<1x2xi32>) -> tensor<1x2x6xbf16>
// REMARK: remark: sinter-form-expert-linears: fused: matmul over 2 of 8 gathered experts
func.func @per_slot(%x: tensor<1x2x1x4xbf16>, %idx: tensor<1x2xi32>) -> tensor<1x2x1x6xbf16> {
  %w = arith.constant dense<1.0> : tensor<8x4x6xbf16>
  %g = sinter.gather %w, %idx {axis = 0 : i64} : (tensor<8x4x6xbf16>, tensor<1x2xi32>) -> tensor<1x2x4x6xbf16>
  %y = sinter.matmul %x, %g : (tensor<1x2x1x4xbf16>, tensor<1x2x4x6xbf16>) -> tensor<1x2x1x6xbf16>
  return %y : tensor<1x2x1x6xbf16>
}

// -----

// A computed weight is read by index as well (nothing is transposed).
// CHECK-LABEL: func.func @computed_weight
// CHECK-SAME: %[[W:[^:]+]]: tensor<2x2x3xf32>
// CHECK-NOT: sinter.gather
// CHECK: sinter.expert_linear %{{.+}}, %[[W]], %{{.+}} {weight_kn}
// REMARK: remark: sinter-form-expert-linears: fused: matmul over 2 of 2 gathered experts reads them by index
func.func @computed_weight(%x: tensor<3x1x1x2xf32>, %w: tensor<2x2x3xf32>, %idx: tensor<3x2xi64>) -> tensor<3x2x1x3xf32> {
  %g = sinter.gather %w, %idx {axis = 0 : i64} : (tensor<2x2x3xf32>, tensor<3x2xi64>) -> tensor<3x2x2x3xf32>
  %y = sinter.matmul %x, %g : (tensor<3x1x1x2xf32>, tensor<3x2x2x3xf32>) -> tensor<3x2x1x3xf32>
  return %y : tensor<3x2x1x3xf32>
}

// -----

// External data (the bench's weights.bin): used where it lies, no
// weight-pack plan.
// CHECK-LABEL: func.func @external_weight
// CHECK: %[[W:.+]] = arith.constant dense_resource<blob> : tensor<2x2x1xf32>
// CHECK-NOT: sinter.pack_weights
// CHECK: sinter.expert_linear %{{.+}}, %[[W]], %{{.+}} {weight_kn} : (tensor<1x2xf32>, tensor<2x2x1xf32>, tensor<1x1xi64>) -> tensor<1x1x1xf32>
// REMARK: remark: sinter-form-expert-linears: fused: matmul over 1 of 2 gathered experts
func.func @external_weight(%x: tensor<1x1x1x2xf32>, %idx: tensor<1x1xi64>) -> tensor<1x1x1x1xf32> {
  %w = arith.constant dense_resource<blob> : tensor<2x2x1xf32>
  %g = sinter.gather %w, %idx {axis = 0 : i64} : (tensor<2x2x1xf32>, tensor<1x1xi64>) -> tensor<1x1x2x1xf32>
  %y = sinter.matmul %x, %g : (tensor<1x1x1x2xf32>, tensor<1x1x2x1xf32>) -> tensor<1x1x1x1xf32>
  return %y : tensor<1x1x1x1xf32>
}

{-#
  dialect_resources: {
    builtin: {
      blob: "0x040000000000803F0000004000004040000080400000A0400000C040"
    }
  }
#-}

// -----

// Gathered along another axis: not an expert selection.
// CHECK-LABEL: func.func @other_axis
// CHECK: sinter.matmul
// REMARK: remark: sinter-form-expert-linears: refused: the gather is along axis 1, not the expert axis 0
func.func @other_axis(%x: tensor<2x1x1x1xf32>, %idx: tensor<1x1xi64>) -> tensor<2x1x1x3xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2x3xf32>
  %g = sinter.gather %w, %idx {axis = 1 : i64} : (tensor<2x2x3xf32>, tensor<1x1xi64>) -> tensor<2x1x1x3xf32>
  %y = sinter.matmul %x, %g : (tensor<2x1x1x1xf32>, tensor<2x1x1x3xf32>) -> tensor<2x1x1x3xf32>
  return %y : tensor<2x1x1x3xf32>
}

// -----

// One index per token (top-1 spelled [T]): not the [T, J] form.
// CHECK-LABEL: func.func @rank1_indices
// CHECK: sinter.matmul
// REMARK: remark: sinter-form-expert-linears: refused: the indices are not [tokens, slots] (rank 1)
func.func @rank1_indices(%x: tensor<3x1x2xf32>, %idx: tensor<3xi64>) -> tensor<3x1x3xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2x3xf32>
  %g = sinter.gather %w, %idx {axis = 0 : i64} : (tensor<2x2x3xf32>, tensor<3xi64>) -> tensor<3x2x3xf32>
  %y = sinter.matmul %x, %g : (tensor<3x1x2xf32>, tensor<3x2x3xf32>) -> tensor<3x1x3xf32>
  return %y : tensor<3x1x3xf32>
}

// -----

// Several rows per slot (M = 4): not a per-token projection.
// CHECK-LABEL: func.func @many_rows
// CHECK: sinter.matmul
// REMARK: remark: sinter-form-expert-linears: refused: the matmul's lhs is not [3, 1 or 2, 1, 2] (one row per token or per slot)
func.func @many_rows(%x: tensor<3x1x4x2xf32>, %idx: tensor<3x2xi64>) -> tensor<3x2x4x3xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2x3xf32>
  %g = sinter.gather %w, %idx {axis = 0 : i64} : (tensor<2x2x3xf32>, tensor<3x2xi64>) -> tensor<3x2x2x3xf32>
  %y = sinter.matmul %x, %g : (tensor<3x1x4x2xf32>, tensor<3x2x2x3xf32>) -> tensor<3x2x4x3xf32>
  return %y : tensor<3x2x4x3xf32>
}

// -----

// HF transformers' experts as torch.onnx writes them (batched_mm): the
// router's [T, J] indices flattened and clipped to [0, E - 1], the token
// rows repeated over the slots and flattened to M = T * J columns, and
// matmul(gather_nd(W [E, out, in], idx [M, 1]), x [M, in, 1]). The clip
// of moe_router's indices is read through, the up projection reads one
// row per token (the repeat dies), the down projection one per slot; the
// weights keep their [E, out, in] layout (no weight_kn).
// CHECK-LABEL: func.func @hf_batched_mm
// CHECK-SAME: (%[[X:.+]]: tensor<3x4xf32>, %{{.+}}: tensor<3x4xf32>)
// CHECK-DAG: %[[WGU:.+]] = arith.constant dense<1.000000e+00> : tensor<4x4x4xf32>
// CHECK-DAG: %[[WD:.+]] = arith.constant dense<2.000000e+00> : tensor<4x4x2xf32>
// CHECK: %{{.+}}, %[[I:.+]] = sinter.moe_router
// CHECK-NOT: sinter.clip
// CHECK-NOT: sinter.expand %
// CHECK-NOT: sinter.gather_nd
// CHECK: sinter.expert_linear %{{.+}}, %[[WGU]], %[[I]] : (tensor<3x4xf32>, tensor<4x4x4xf32>, tensor<3x2xi64>) -> tensor<3x2x4xf32>
// CHECK-NOT: sinter.gather_nd
// CHECK: sinter.expert_linear %{{.+}}, %[[WD]], %[[I]] : (tensor<3x2x2xf32>, tensor<4x4x2xf32>, tensor<3x2xi64>) -> tensor<3x2x4xf32>
// CHECK-NOT: sinter.gather_nd
// CHECK-NOT: sinter.matmul
// REMARK: remark: sinter-form-expert-linears: fused: matmul of gather_nd-selected experts (HF's batched_mm) reads 4 experts by index (3 tokens x 2 slots, one input row per token)
// REMARK: remark: sinter-form-expert-linears: fused: matmul of gather_nd-selected experts (HF's batched_mm) reads 4 experts by index (3 tokens x 2 slots, one input row per slot)
func.func @hf_batched_mm(%x: tensor<3x4xf32>, %logits: tensor<3x4xf32>) -> tensor<6x4x1xf32> {
  %wgu = arith.constant dense<1.0> : tensor<4x4x4xf32>
  %wd = arith.constant dense<2.0> : tensor<4x4x2xf32>
  %lo = arith.constant dense<0> : tensor<i64>
  %hi = arith.constant dense<3> : tensor<i64>
  %w, %i = sinter.moe_router %logits {k = 2 : i64} : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  %if = tensor.collapse_shape %i [[0, 1]] : tensor<3x2xi64> into tensor<6xi64>
  %ic = sinter.clip %if min %lo max %hi : (tensor<6xi64>, tensor<i64>, tensor<i64>) -> tensor<6xi64>
  %i2 = tensor.expand_shape %ic [[0, 1]] output_shape [6, 1] : tensor<6xi64> into tensor<6x1xi64>
  %x3 = tensor.expand_shape %x [[0], [1, 2]] output_shape [3, 1, 4] : tensor<3x4xf32> into tensor<3x1x4xf32>
  %xe = sinter.expand %x3 : (tensor<3x1x4xf32>) -> tensor<3x2x4xf32>
  %xf = tensor.collapse_shape %xe [[0, 1], [2]] : tensor<3x2x4xf32> into tensor<6x4xf32>
  %xc = tensor.expand_shape %xf [[0], [1, 2]] output_shape [6, 4, 1] : tensor<6x4xf32> into tensor<6x4x1xf32>
  %g = sinter.gather_nd %wgu, %i2 {batch_dims = 0 : i64} : (tensor<4x4x4xf32>, tensor<6x1xi64>) -> tensor<6x4x4xf32>
  %gu = sinter.matmul %g, %xc : (tensor<6x4x4xf32>, tensor<6x4x1xf32>) -> tensor<6x4x1xf32>
  %gu2 = tensor.collapse_shape %gu [[0], [1, 2]] : tensor<6x4x1xf32> into tensor<6x4xf32>
  %s:2 = sinter.split %gu2 {axis = 1 : i64, sizes = array<i64: 2, 2>} : (tensor<6x4xf32>) -> (tensor<6x2xf32>, tensor<6x2xf32>)
  %a = sinter.silu %s#0 : tensor<6x2xf32>
  %p = sinter.mul %a, %s#1 : (tensor<6x2xf32>, tensor<6x2xf32>) -> tensor<6x2xf32>
  %pc = tensor.expand_shape %p [[0], [1, 2]] output_shape [6, 2, 1] : tensor<6x2xf32> into tensor<6x2x1xf32>
  %gd = sinter.gather_nd %wd, %i2 {batch_dims = 0 : i64} : (tensor<4x4x2xf32>, tensor<6x1xi64>) -> tensor<6x4x2xf32>
  %d = sinter.matmul %gd, %pc : (tensor<6x4x2xf32>, tensor<6x2x1xf32>) -> tensor<6x4x1xf32>
  return %d : tensor<6x4x1xf32>
}

// -----

// Indices that are not moe_router's: the clip may change them, so the op
// reads the clipped indices viewed as [T, J].
// CHECK-LABEL: func.func @hf_clip_kept
// CHECK: %[[C:.+]] = sinter.clip
// CHECK: %[[TJ:.+]] = tensor.expand_shape %[[C]] {{.+}} into tensor<3x2xi64>
// CHECK: sinter.expert_linear %{{.+}}, %{{.+}}, %[[TJ]] : (tensor<3x2x4xf32>, tensor<4x4x4xf32>, tensor<3x2xi64>) -> tensor<3x2x4xf32>
// REMARK: remark: sinter-form-expert-linears: fused: matmul of gather_nd-selected experts (HF's batched_mm) reads 4 experts by index (3 tokens x 2 slots, one input row per slot)
func.func @hf_clip_kept(%xc: tensor<6x4x1xf32>, %i: tensor<3x2xi64>) -> tensor<6x4x1xf32> {
  %wgu = arith.constant dense<1.0> : tensor<4x4x4xf32>
  %lo = arith.constant dense<0> : tensor<i64>
  %hi = arith.constant dense<3> : tensor<i64>
  %if = tensor.collapse_shape %i [[0, 1]] : tensor<3x2xi64> into tensor<6xi64>
  %ic = sinter.clip %if min %lo max %hi : (tensor<6xi64>, tensor<i64>, tensor<i64>) -> tensor<6xi64>
  %i2 = tensor.expand_shape %ic [[0, 1]] output_shape [6, 1] : tensor<6xi64> into tensor<6x1xi64>
  %g = sinter.gather_nd %wgu, %i2 {batch_dims = 0 : i64} : (tensor<4x4x4xf32>, tensor<6x1xi64>) -> tensor<6x4x4xf32>
  %gu = sinter.matmul %g, %xc : (tensor<6x4x4xf32>, tensor<6x4x1xf32>) -> tensor<6x4x1xf32>
  return %gu : tensor<6x4x1xf32>
}

// -----

// [M, 1] indices of unknown origin: one slot per row (T = M, J = 1).
// CHECK-LABEL: func.func @hf_rows_only
// CHECK-SAME: (%[[X:.+]]: tensor<6x4x1xf32>, %[[I:.+]]: tensor<6x1xi64>)
// CHECK: sinter.expert_linear %{{.+}}, %{{.+}}, %[[I]] : (tensor<6x1x4xf32>, tensor<4x4x4xf32>, tensor<6x1xi64>) -> tensor<6x1x4xf32>
// REMARK: remark: sinter-form-expert-linears: fused: matmul of gather_nd-selected experts (HF's batched_mm) reads 4 experts by index (6 tokens x 1 slots, one input row per slot)
func.func @hf_rows_only(%xc: tensor<6x4x1xf32>, %i2: tensor<6x1xi64>) -> tensor<6x4x1xf32> {
  %wgu = arith.constant dense<1.0> : tensor<4x4x4xf32>
  %g = sinter.gather_nd %wgu, %i2 {batch_dims = 0 : i64} : (tensor<4x4x4xf32>, tensor<6x1xi64>) -> tensor<6x4x4xf32>
  %gu = sinter.matmul %g, %xc : (tensor<6x4x4xf32>, tensor<6x4x1xf32>) -> tensor<6x4x1xf32>
  return %gu : tensor<6x4x1xf32>
}

// -----

// Refused: index pairs address single rows of the experts, not matrices.
// CHECK-LABEL: func.func @hf_index_pairs
// CHECK: sinter.gather_nd
// REMARK: remark: sinter-form-expert-linears: refused: the gather_nd's indices are [6, 2], not [rows, 1] (one expert per row)
func.func @hf_index_pairs(%x: tensor<6x4x1xf32>, %i2: tensor<6x2xi64>) -> tensor<6x1xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4x4xf32>
  %g = sinter.gather_nd %w, %i2 {batch_dims = 0 : i64} : (tensor<4x4x4xf32>, tensor<6x2xi64>) -> tensor<6x4xf32>
  %x2 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<6x4x1xf32> into tensor<24x1xf32>
  %x3 = tensor.extract_slice %x2[0, 0] [4, 1] [1, 1] : tensor<24x1xf32> to tensor<4x1xf32>
  %y = sinter.matmul %g, %x3 : (tensor<6x4xf32>, tensor<4x1xf32>) -> tensor<6x1xf32>
  return %y : tensor<6x1xf32>
}

// -----

// Refused: several columns per row (the matmul is not a projection of one
// input row).
// CHECK-LABEL: func.func @hf_many_columns
// CHECK: sinter.gather_nd
// REMARK: remark: sinter-form-expert-linears: refused: the matmul's rhs is [6, 4, 3], not [6, 4, 1] (one input column per row)
func.func @hf_many_columns(%x: tensor<6x4x3xf32>, %i2: tensor<6x1xi64>) -> tensor<6x4x3xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4x4xf32>
  %g = sinter.gather_nd %w, %i2 {batch_dims = 0 : i64} : (tensor<4x4x4xf32>, tensor<6x1xi64>) -> tensor<6x4x4xf32>
  %y = sinter.matmul %g, %x : (tensor<6x4x4xf32>, tensor<6x4x3xf32>) -> tensor<6x4x3xf32>
  return %y : tensor<6x4x3xf32>
}
