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
