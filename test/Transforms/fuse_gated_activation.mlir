// RUN: sinter-opt %s -sinter-fuse-gated-activation -split-input-file 2>/dev/null | FileCheck %s
// RUN: sinter-opt %s -sinter-fuse-gated-activation -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK

// SwiGLU: down(silu(gate(x)) * up(x)) -> one gated_linear reading gate and up.
// CHECK-LABEL: func.func @swiglu
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>, %[[WG:.+]]: tensor<16x8xf32>, %[[WU:.+]]: tensor<16x8xf32>, %[[WD:.+]]: tensor<8x16xf32>)
// CHECK-DAG: %[[G:.+]] = sinter.linear %[[X]], %[[WG]]
// CHECK-DAG: %[[U:.+]] = sinter.linear %[[X]], %[[WU]]
// CHECK-NOT: sinter.silu
// CHECK-NOT: sinter.mul
// CHECK: %[[Y:.+]] = sinter.gated_linear %[[G]], %[[U]], %[[WD]] {activation = #sinter<gated_activation silu>} : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
// CHECK: return %[[Y]]
// REMARK: remark: sinter-fuse-gated-activation: fused: silu(gate) * up (feature dim 16) formed in the operand load of the down projection
func.func @swiglu(%x: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<8x16xf32>) -> tensor<4x8xf32> {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = sinter.linear %x, %wu : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = sinter.silu %g : tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = sinter.linear %m, %wd : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// The multiply's other operand order, a down bias, and a 3-D input.
// CHECK-LABEL: func.func @swapped_with_bias
// CHECK-SAME: %[[B:[^:]+]]: tensor<8xf32>)
// CHECK: %[[G:.+]] = sinter.linear
// CHECK: %[[U:.+]] = sinter.linear
// CHECK: sinter.gated_linear %[[G]], %[[U]], %{{.+}} bias %[[B]] {activation = #sinter<gated_activation silu>} : (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
// REMARK: remark: sinter-fuse-gated-activation: fused: silu(gate) * up
func.func @swapped_with_bias(%x: tensor<1x4x8xf32>, %wg: tensor<8x8xf32>, %wu: tensor<8x8xf32>, %wd: tensor<8x8xf32>, %b: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %g = sinter.linear %x, %wg : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %u = sinter.linear %x, %wu : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %a = sinter.silu %g : tensor<1x4x8xf32>
  %m = sinter.mul %u, %a : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %y = sinter.linear %m, %wd bias %b : (tensor<1x4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

// SiLU spelled out as gate * sigmoid(gate) (sigmoid on the left).
// CHECK-LABEL: func.func @silu_spelled_out
// CHECK-NOT: sinter.sigmoid
// CHECK-NOT: sinter.mul
// CHECK: sinter.gated_linear {{.*}}activation = #sinter<gated_activation silu>
// REMARK: remark: sinter-fuse-gated-activation: fused: silu(gate) * up
func.func @silu_spelled_out(%x: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<8x16xf32>) -> tensor<4x8xf32> {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = sinter.linear %x, %wu : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %s = sinter.sigmoid %g : tensor<4x16xf32>
  %a = sinter.mul %s, %g : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = sinter.linear %m, %wd : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// GeGLU in both gelu forms, and ReGLU.
// CHECK-LABEL: func.func @gelu_forms_and_relu
// CHECK: sinter.gated_linear {{.*}}activation = #sinter<gated_activation gelu>
// CHECK: sinter.gated_linear {{.*}}activation = #sinter<gated_activation gelu_tanh>
// CHECK: sinter.gated_linear {{.*}}activation = #sinter<gated_activation relu>
// CHECK-NOT: sinter.mul
// REMARK: remark: sinter-fuse-gated-activation: fused: gelu(gate) * up
// REMARK: remark: sinter-fuse-gated-activation: fused: gelu_tanh(gate) * up
// REMARK: remark: sinter-fuse-gated-activation: fused: relu(gate) * up
func.func @gelu_forms_and_relu(%x: tensor<4x8xf16>, %wg: tensor<16x8xf16>, %wu: tensor<16x8xf16>, %wd: tensor<8x16xf16>) -> (tensor<4x8xf16>, tensor<4x8xf16>, tensor<4x8xf16>) {
  %g = sinter.linear %x, %wg : (tensor<4x8xf16>, tensor<16x8xf16>) -> tensor<4x16xf16>
  %u = sinter.linear %x, %wu : (tensor<4x8xf16>, tensor<16x8xf16>) -> tensor<4x16xf16>
  %a0 = sinter.gelu %g : tensor<4x16xf16>
  %m0 = sinter.mul %a0, %u : (tensor<4x16xf16>, tensor<4x16xf16>) -> tensor<4x16xf16>
  %y0 = sinter.linear %m0, %wd : (tensor<4x16xf16>, tensor<8x16xf16>) -> tensor<4x8xf16>
  %a1 = sinter.gelu %g {tanh_approximation} : tensor<4x16xf16>
  %m1 = sinter.mul %a1, %u : (tensor<4x16xf16>, tensor<4x16xf16>) -> tensor<4x16xf16>
  %y1 = sinter.linear %m1, %wd : (tensor<4x16xf16>, tensor<8x16xf16>) -> tensor<4x8xf16>
  %a2 = sinter.relu %g : tensor<4x16xf16>
  %m2 = sinter.mul %u, %a2 : (tensor<4x16xf16>, tensor<4x16xf16>) -> tensor<4x16xf16>
  %y2 = sinter.linear %m2, %wd : (tensor<4x16xf16>, tensor<8x16xf16>) -> tensor<4x8xf16>
  return %y0, %y1, %y2 : tensor<4x8xf16>, tensor<4x8xf16>, tensor<4x8xf16>
}

// -----

// After sinter-fuse-parallel-linears: gate and up are the halves of one split.
// CHECK-LABEL: func.func @split_halves
// CHECK: %[[GU:.+]] = sinter.linear
// CHECK: %[[P:.+]]:2 = sinter.split %[[GU]]
// CHECK: sinter.gated_linear %[[P]]#0, %[[P]]#1, %{{.+}} {activation = #sinter<gated_activation silu>} : (tensor<1x16xbf16>, tensor<1x16xbf16>, tensor<8x16xbf16>) -> tensor<1x8xbf16>
// REMARK: remark: sinter-fuse-gated-activation: fused: silu(gate) * up
func.func @split_halves(%x: tensor<1x8xbf16>, %wgu: tensor<32x8xbf16>, %wd: tensor<8x16xbf16>) -> tensor<1x8xbf16> {
  %gu = sinter.linear %x, %wgu : (tensor<1x8xbf16>, tensor<32x8xbf16>) -> tensor<1x32xbf16>
  %g, %u = sinter.split %gu {axis = 1 : i64, sizes = array<i64: 16, 16>} : (tensor<1x32xbf16>) -> (tensor<1x16xbf16>, tensor<1x16xbf16>)
  %a = sinter.silu %g : tensor<1x16xbf16>
  %m = sinter.mul %a, %u : (tensor<1x16xbf16>, tensor<1x16xbf16>) -> tensor<1x16xbf16>
  %y = sinter.linear %m, %wd : (tensor<1x16xbf16>, tensor<8x16xbf16>) -> tensor<1x8xbf16>
  return %y : tensor<1x8xbf16>
}

// -----

// Refused: the multiply broadcasts up across the rows.
// CHECK-LABEL: func.func @broadcasting_mul
// CHECK: sinter.silu
// CHECK: sinter.mul
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: the multiply broadcasts (gate tensor<4x16xf32>, up tensor<1x16xf32>, product tensor<4x16xf32>)
func.func @broadcasting_mul(%x: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %u: tensor<1x16xf32>, %wd: tensor<8x16xf32>) -> tensor<4x8xf32> {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = sinter.silu %g : tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<1x16xf32>) -> tensor<4x16xf32>
  %y = sinter.linear %m, %wd : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Refused: silu(gate) is also returned, so the fused kernel would compute it
// a second time.
// CHECK-LABEL: func.func @activation_has_other_users
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: the activation has other users ('sinter.silu'); fusing would compute it twice
func.func @activation_has_other_users(%x: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<8x16xf32>) -> (tensor<4x8xf32>, tensor<4x16xf32>) {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = sinter.linear %x, %wu : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = sinter.silu %g : tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = sinter.linear %m, %wd : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %y, %a : tensor<4x8xf32>, tensor<4x16xf32>
}

// -----

// Refused: the gated product is also returned.
// CHECK-LABEL: func.func @product_has_other_users
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: the gated product has 2 users; only a single linear can load it
func.func @product_has_other_users(%x: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<8x16xf32>) -> (tensor<4x8xf32>, tensor<4x16xf32>) {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = sinter.linear %x, %wu : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = sinter.silu %g : tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = sinter.linear %m, %wd : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %y, %m : tensor<4x8xf32>, tensor<4x16xf32>
}

// -----

// Refused: the product is a linear's weight, not its input.
// CHECK-LABEL: func.func @product_not_a_linear_input
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: the gated product feeds 'sinter.linear', not the input of a sinter.linear
func.func @product_not_a_linear_input(%x: tensor<16x8xf32>, %wg: tensor<8x8xf32>, %wu: tensor<8x8xf32>, %in: tensor<2x8xf32>) -> tensor<2x16xf32> {
  %g = sinter.linear %x, %wg : (tensor<16x8xf32>, tensor<8x8xf32>) -> tensor<16x8xf32>
  %u = sinter.linear %x, %wu : (tensor<16x8xf32>, tensor<8x8xf32>) -> tensor<16x8xf32>
  %a = sinter.silu %g : tensor<16x8xf32>
  %m = sinter.mul %a, %u : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  %y = sinter.linear %in, %m : (tensor<2x8xf32>, tensor<16x8xf32>) -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// Refused: gate and up project different inputs (as in GatedDeltaNet's
// norm(o) * silu(z) before out_proj).
// CHECK-LABEL: func.func @different_inputs
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: gate and up are not linears of one input, nor two parts of one split linear
func.func @different_inputs(%x: tensor<4x8xf32>, %z: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<8x16xf32>) -> tensor<4x8xf32> {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = sinter.linear %z, %wu : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = sinter.silu %g : tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = sinter.linear %m, %wd : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Not a candidate (no activation operand): no remark at all.
// CHECK-LABEL: func.func @plain_mul
// CHECK: sinter.mul
// REMARK-NOT: remark
func.func @plain_mul(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %m = sinter.mul %x, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = sinter.linear %m, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// The bf16 shared expert as exported: the split halves are widened to f32,
// silu and the product run in f32, and the product is rounded to bf16 before
// the down projection. The casts fold into the gated_linear: it reads the
// bf16 halves and rounds the product to bf16 in its operand load.
// CHECK-LABEL: func.func @bf16_rounding_cast
// CHECK: %[[P:.+]]:2 = sinter.split
// CHECK-NOT: sinter.cast
// CHECK-NOT: sinter.mul
// CHECK: %[[Y:.+]] = sinter.gated_linear %[[P]]#0, %[[P]]#1, %{{.+}} {activation = #sinter<gated_activation silu>, operand_type = bf16} : (tensor<1x16xbf16>, tensor<1x16xbf16>, tensor<8x16xbf16>) -> tensor<1x8xbf16>
// CHECK: return %[[Y]]
// REMARK: remark: sinter-fuse-gated-activation: fused: silu(gate) * up (feature dim 16) formed in the operand load of the down projection, rounded to bf16 there as the graph's cast rounds it; gate and up read as bf16 (their casts to f32 looked through); no tensor of the gated product remains
func.func @bf16_rounding_cast(%x: tensor<1x8xbf16>, %wgu: tensor<32x8xbf16>, %wd: tensor<8x16xbf16>) -> tensor<1x8xbf16> {
  %gu = sinter.linear %x, %wgu : (tensor<1x8xbf16>, tensor<32x8xbf16>) -> tensor<1x32xbf16>
  %g, %u = sinter.split %gu {axis = 1 : i64, sizes = array<i64: 16, 16>} : (tensor<1x32xbf16>) -> (tensor<1x16xbf16>, tensor<1x16xbf16>)
  %g32 = sinter.cast %g : (tensor<1x16xbf16>) -> tensor<1x16xf32>
  %u32 = sinter.cast %u : (tensor<1x16xbf16>) -> tensor<1x16xf32>
  %a = sinter.silu %g32 : tensor<1x16xf32>
  %m = sinter.mul %a, %u32 : (tensor<1x16xf32>, tensor<1x16xf32>) -> tensor<1x16xf32>
  %mb = sinter.cast %m : (tensor<1x16xf32>) -> tensor<1x16xbf16>
  %y = sinter.linear %mb, %wd : (tensor<1x16xbf16>, tensor<8x16xbf16>) -> tensor<1x8xbf16>
  return %y : tensor<1x8xbf16>
}

// -----

// f32 gate and up (no casts to look through), the product rounded to the
// bf16 weight's type: gate and up stay f32, operand_type says the rounding.
// CHECK-LABEL: func.func @f32_product_bf16_linear
// CHECK-DAG: %[[G:.+]] = sinter.linear %{{.+}}, %{{.+}} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK-DAG: %[[U:.+]] = sinter.linear %{{.+}}, %{{.+}} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK-NOT: sinter.cast
// CHECK: sinter.gated_linear %[[G]], %[[U]], %{{.+}} {activation = #sinter<gated_activation silu>, operand_type = bf16} : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<8x16xbf16>) -> tensor<4x8xbf16>
// REMARK: remark: sinter-fuse-gated-activation: fused: silu(gate) * up (feature dim 16) formed in the operand load of the down projection, rounded to bf16 there as the graph's cast rounds it; no tensor
func.func @f32_product_bf16_linear(%x: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<8x16xbf16>) -> tensor<4x8xbf16> {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = sinter.linear %x, %wu : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = sinter.silu %g : tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %mb = sinter.cast %m : (tensor<4x16xf32>) -> tensor<4x16xbf16>
  %y = sinter.linear %mb, %wd : (tensor<4x16xbf16>, tensor<8x16xbf16>) -> tensor<4x8xbf16>
  return %y : tensor<4x8xbf16>
}

// -----

// Per-head gate and up [2, 4, 8] whose product is flattened into the
// linear's feature dim 32 (merging the trailing dims), then rounded: gate
// and up are flattened instead (bf16, after the widening casts are looked
// through), and the cast becomes operand_type.
// CHECK-LABEL: func.func @collapse_feature_dims
// CHECK: %[[P:.+]]:2 = sinter.split %{{.+}} {axis = 2 : i64
// CHECK-DAG: %[[G:.+]] = tensor.collapse_shape %[[P]]#0 {{\[}}[0], [1, 2]] : tensor<2x4x8xbf16> into tensor<2x32xbf16>
// CHECK-DAG: %[[U:.+]] = tensor.collapse_shape %[[P]]#1 {{\[}}[0], [1, 2]] : tensor<2x4x8xbf16> into tensor<2x32xbf16>
// CHECK-NOT: sinter.cast
// CHECK: sinter.gated_linear %[[G]], %[[U]], %{{.+}} {activation = #sinter<gated_activation silu>, operand_type = bf16} : (tensor<2x32xbf16>, tensor<2x32xbf16>, tensor<8x32xbf16>) -> tensor<2x8xbf16>
// REMARK: remark: sinter-fuse-gated-activation: fused: silu(gate) * up (feature dim 32) formed in the operand load of the down projection, rounded to bf16 there as the graph's cast rounds it; gate and up reshaped as the product was (tensor.collapse_shape); gate and up read as bf16
func.func @collapse_feature_dims(%x: tensor<2x4x8xbf16>, %wgu: tensor<16x8xbf16>, %wd: tensor<8x32xbf16>) -> tensor<2x8xbf16> {
  %gu = sinter.linear %x, %wgu : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
  %g, %u = sinter.split %gu {axis = 2 : i64, sizes = array<i64: 8, 8>} : (tensor<2x4x16xbf16>) -> (tensor<2x4x8xbf16>, tensor<2x4x8xbf16>)
  %g32 = sinter.cast %g : (tensor<2x4x8xbf16>) -> tensor<2x4x8xf32>
  %u32 = sinter.cast %u : (tensor<2x4x8xbf16>) -> tensor<2x4x8xf32>
  %a = sinter.silu %g32 : tensor<2x4x8xf32>
  %m = sinter.mul %a, %u32 : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %c = tensor.collapse_shape %m [[0], [1, 2]] : tensor<2x4x8xf32> into tensor<2x32xf32>
  %mb = sinter.cast %c : (tensor<2x32xf32>) -> tensor<2x32xbf16>
  %y = sinter.linear %mb, %wd : (tensor<2x32xbf16>, tensor<8x32xbf16>) -> tensor<2x8xbf16>
  return %y : tensor<2x8xbf16>
}

// -----

// A split of the rows (expand_shape of the leading dim) and a tensor.reshape
// that merges them back: both keep the feature dim apart, f32 throughout, so
// no operand_type.
// CHECK-LABEL: func.func @reshape_rows
// CHECK-DAG: %[[G:.+]] = sinter.linear %{{.+}}, %{{.+}} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
// CHECK-DAG: %[[U:.+]] = sinter.linear %{{.+}}, %{{.+}} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
// CHECK-DAG: %[[GE:.+]] = tensor.expand_shape %[[G]] {{\[}}[0, 1], [2]] output_shape [2, 4, 16] : tensor<8x16xf32> into tensor<2x4x16xf32>
// CHECK-DAG: %[[UE:.+]] = tensor.expand_shape %[[U]] {{\[}}[0, 1], [2]] output_shape [2, 4, 16] : tensor<8x16xf32> into tensor<2x4x16xf32>
// CHECK-DAG: %[[GR:.+]] = tensor.reshape %[[GE]](%{{.+}}) : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<8x16xf32>
// CHECK-DAG: %[[UR:.+]] = tensor.reshape %[[UE]](%{{.+}}) : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<8x16xf32>
// CHECK: sinter.gated_linear %[[GR]], %[[UR]], %{{.+}} {activation = #sinter<gated_activation silu>} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x8xf32>
// REMARK: remark: sinter-fuse-gated-activation: fused: silu(gate) * up (feature dim 16) formed in the operand load of the down projection; gate and up reshaped as the product was (tensor.expand_shape, tensor.reshape); no tensor
func.func @reshape_rows(%x: tensor<8x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<8x16xf32>, %shape: tensor<2xi64>) -> tensor<8x8xf32> {
  %g = sinter.linear %x, %wg : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
  %u = sinter.linear %x, %wu : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
  %a = sinter.silu %g : tensor<8x16xf32>
  %m = sinter.mul %a, %u : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %e = tensor.expand_shape %m [[0, 1], [2]] output_shape [2, 4, 16] : tensor<8x16xf32> into tensor<2x4x16xf32>
  %r = tensor.reshape %e(%shape) : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<8x16xf32>
  %y = sinter.linear %r, %wd : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

// Refused: the reshape moves part of each row into the feature dim
// ([4, 16] -> [2, 32]), which is not a merge of trailing dims.
// CHECK-LABEL: func.func @reshape_mixes_rows
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: the gated product's reshape from tensor<4x16xf32> to tensor<2x32xf32> mixes rows and features (the linear's K is not a merge of the product's trailing dims)
func.func @reshape_mixes_rows(%x: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<8x32xf32>, %shape: tensor<2xi64>) -> tensor<2x8xf32> {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = sinter.linear %x, %wu : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = sinter.silu %g : tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %r = tensor.reshape %m(%shape) : (tensor<4x16xf32>, tensor<2xi64>) -> tensor<2x32xf32>
  %y = sinter.linear %r, %wd : (tensor<2x32xf32>, tensor<8x32xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Refused: the product is rounded to bf16 and widened back to f32 before an
// f32 linear; one operand_type cannot say both.
// CHECK-LABEL: func.func @cast_twice
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: the gated product is cast twice (to bf16, then to f32) before the linear
func.func @cast_twice(%x: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<8x16xf32>) -> tensor<4x8xf32> {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = sinter.linear %x, %wu : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = sinter.silu %g : tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %b = sinter.cast %m : (tensor<4x16xf32>) -> tensor<4x16xbf16>
  %f = sinter.cast %b : (tensor<4x16xbf16>) -> tensor<4x16xf32>
  %y = sinter.linear %f, %wd : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Refused: a bf16 product widened to f32: the graph rounds the product (and
// the activation) to bf16, which the fused op's f32 product would skip.
// CHECK-LABEL: func.func @bf16_product_widened
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: the gated product is bf16 before its cast to f32; the fused op would not round it to bf16 first
func.func @bf16_product_widened(%x: tensor<4x8xbf16>, %wg: tensor<16x8xbf16>, %wu: tensor<16x8xbf16>, %wd: tensor<8x16xf32>) -> tensor<4x8xf32> {
  %g = sinter.linear %x, %wg : (tensor<4x8xbf16>, tensor<16x8xbf16>) -> tensor<4x16xbf16>
  %u = sinter.linear %x, %wu : (tensor<4x8xbf16>, tensor<16x8xbf16>) -> tensor<4x16xbf16>
  %a = sinter.silu %g : tensor<4x16xbf16>
  %m = sinter.mul %a, %u : (tensor<4x16xbf16>, tensor<4x16xbf16>) -> tensor<4x16xbf16>
  %f = sinter.cast %m : (tensor<4x16xbf16>) -> tensor<4x16xf32>
  %y = sinter.linear %f, %wd : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Refused: the rounded product has a second user.
// CHECK-LABEL: func.func @cast_has_other_users
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: the gated product's 'sinter.cast' has 2 users; only a single linear can load it
func.func @cast_has_other_users(%x: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<8x16xbf16>) -> (tensor<4x8xbf16>, tensor<4x16xbf16>) {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = sinter.linear %x, %wu : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = sinter.silu %g : tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %b = sinter.cast %m : (tensor<4x16xf32>) -> tensor<4x16xbf16>
  %y = sinter.linear %b, %wd : (tensor<4x16xbf16>, tensor<8x16xbf16>) -> tensor<4x8xbf16>
  return %y, %b : tensor<4x8xbf16>, tensor<4x16xbf16>
}

// -----

// Refused, naming what stands between: the rounded, reshaped product feeds a
// matmul (HF's batched expert spelling), not a linear.
// CHECK-LABEL: func.func @cast_then_matmul
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: the gated product feeds 'sinter.matmul' (after sinter.cast, tensor.expand_shape), not the input of a sinter.linear
func.func @cast_then_matmul(%x: tensor<4x8xf32>, %wg: tensor<16x8xf32>, %wu: tensor<16x8xf32>, %wd: tensor<1x16x8xbf16>) -> tensor<1x4x8xbf16> {
  %g = sinter.linear %x, %wg : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %u = sinter.linear %x, %wu : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = sinter.silu %g : tensor<4x16xf32>
  %m = sinter.mul %a, %u : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %b = sinter.cast %m : (tensor<4x16xf32>) -> tensor<4x16xbf16>
  %e = tensor.expand_shape %b [[0, 1], [2]] output_shape [1, 4, 16] : tensor<4x16xbf16> into tensor<1x4x16xbf16>
  %y = sinter.matmul %e, %wd : (tensor<1x4x16xbf16>, tensor<1x16x8xbf16>) -> tensor<1x4x8xbf16>
  return %y : tensor<1x4x8xbf16>
}

// -----

// Refused: the routed experts' product (bench8's shape: per slot, rounded
// to bf16, the slot dims merged) feeds the down expert_linear, which has no
// gated form; the CUDA expert GEMV fuses it at the kernel level.
// CHECK-LABEL: func.func @routed_experts
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: the gated product feeds the input of 'sinter.expert_linear' (after sinter.cast, tensor.collapse_shape): there is no gated expert_linear; the CUDA expert GEMV forms act(gate) * up (and its rounding) in that projection's operand load instead
func.func @routed_experts(%x: tensor<1x8xbf16>, %wgu: tensor<4x8x32xbf16>, %wd: tensor<4x16x8xbf16>, %idx: tensor<1x2xi64>) -> tensor<1x2x8xbf16> {
  %gu = sinter.expert_linear %x, %wgu, %idx {weight_kn} : (tensor<1x8xbf16>, tensor<4x8x32xbf16>, tensor<1x2xi64>) -> tensor<1x2x32xbf16>
  %e = tensor.expand_shape %gu [[0], [1], [2, 3]] output_shape [1, 2, 1, 32] : tensor<1x2x32xbf16> into tensor<1x2x1x32xbf16>
  %f = sinter.cast %e : (tensor<1x2x1x32xbf16>) -> tensor<1x2x1x32xf32>
  %g, %u = sinter.split %f {axis = 3 : i64, sizes = array<i64: 16, 16>} : (tensor<1x2x1x32xf32>) -> (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>)
  %a = sinter.silu %g : tensor<1x2x1x16xf32>
  %m = sinter.mul %a, %u : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x1x16xf32>
  %b = sinter.cast %m : (tensor<1x2x1x16xf32>) -> tensor<1x2x1x16xbf16>
  %c = tensor.collapse_shape %b [[0], [1, 2], [3]] : tensor<1x2x1x16xbf16> into tensor<1x2x16xbf16>
  %y = sinter.expert_linear %c, %wd, %idx {weight_kn} : (tensor<1x2x16xbf16>, tensor<4x16x8xbf16>, tensor<1x2xi64>) -> tensor<1x2x8xbf16>
  return %y : tensor<1x2x8xbf16>
}

// -----

// Refused, now for its real reason: GatedDeltaNet's gated norm
// rms_norm(o) * silu(z), flattened and rounded before out_proj, reaches the
// linear through the reshape and the cast, but up is a norm, not a projection
// of the gate's input (not SEED rewrite 1's SwiGLU).
// CHECK-LABEL: func.func @gdn_gated_norm
// CHECK-NOT: sinter.gated_linear
// REMARK: remark: sinter-fuse-gated-activation: refused: gate and up are not linears of one input, nor two parts of one split linear (gate from 'tensor.expand_shape', up from 'sinter.rms_norm')
func.func @gdn_gated_norm(%x: tensor<1x8xbf16>, %wz: tensor<8x8xbf16>, %o: tensor<1x2x4xf32>, %nw: tensor<4xf32>, %wd: tensor<8x8xbf16>) -> tensor<1x8xbf16> {
  %zz = sinter.linear %x, %wz : (tensor<1x8xbf16>, tensor<8x8xbf16>) -> tensor<1x8xbf16>
  %z = tensor.expand_shape %zz [[0], [1, 2]] output_shape [1, 2, 4] : tensor<1x8xbf16> into tensor<1x2x4xbf16>
  %z32 = sinter.cast %z : (tensor<1x2x4xbf16>) -> tensor<1x2x4xf32>
  %s = sinter.silu %z32 : tensor<1x2x4xf32>
  %n = sinter.rms_norm %o, %nw {axis = 2 : i64, epsilon = 1.0e-6 : f32} : (tensor<1x2x4xf32>, tensor<4xf32>) -> tensor<1x2x4xf32>
  %m = sinter.mul %n, %s : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %c = tensor.collapse_shape %m [[0], [1, 2]] : tensor<1x2x4xf32> into tensor<1x8xf32>
  %b = sinter.cast %c : (tensor<1x8xf32>) -> tensor<1x8xbf16>
  %y = sinter.linear %b, %wd : (tensor<1x8xbf16>, tensor<8x8xbf16>) -> tensor<1x8xbf16>
  return %y : tensor<1x8xbf16>
}
