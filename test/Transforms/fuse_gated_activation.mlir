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
