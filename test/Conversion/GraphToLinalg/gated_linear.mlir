// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file | FileCheck %s

// One contraction; its body forms silu(gate) * up from the two operand
// elements, then multiply-accumulates with the weight. The accumulator starts
// from the bias. No tensor of the gated product [2, 4, 16] is created.
// CHECK-DAG: #[[$X:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$W:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[$O:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @silu_bias
// CHECK-SAME: (%[[G:.+]]: tensor<2x4x16xf32>, %[[U:.+]]: tensor<2x4x16xf32>, %[[WD:.+]]: tensor<8x16xf32>, %[[B:.+]]: tensor<8xf32>)
// CHECK-NOT: tensor<2x4x16xf32>
// CHECK: %[[ACC:.+]] = linalg.generic {{.*}} ins(%[[B]] : tensor<8xf32>)
// CHECK: %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$X]], #[[$X]], #[[$W]], #[[$O]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[G]], %[[U]], %[[WD]] : tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<8x16xf32>) outs(%[[ACC]] : tensor<2x4x8xf32>)
// CHECK-NEXT: ^bb0(%[[GE:.+]]: f32, %[[UE:.+]]: f32, %[[WE:.+]]: f32, %[[OUT:.+]]: f32):
// CHECK-NEXT:   %[[NEG:.+]] = arith.negf %[[GE]]
// CHECK-NEXT:   %[[E:.+]] = math.exp %[[NEG]]
// CHECK:        %[[DEN:.+]] = arith.addf %{{.+}}, %[[E]]
// CHECK-NEXT:   %[[S:.+]] = arith.divf %[[GE]], %[[DEN]]
// CHECK-NEXT:   %[[P:.+]] = arith.mulf %[[S]], %[[UE]]
// CHECK-NEXT:   %[[PW:.+]] = arith.mulf %[[P]], %[[WE]]
// CHECK-NEXT:   %[[SUM:.+]] = arith.addf %[[OUT]], %[[PW]]
// CHECK-NEXT:   linalg.yield %[[SUM]]
// CHECK: return %[[Y]]
func.func @silu_bias(%g: tensor<2x4x16xf32>, %u: tensor<2x4x16xf32>, %wd: tensor<8x16xf32>, %b: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %y = sinter.gated_linear %g, %u, %wd bias %b {activation = #sinter<gated_activation silu>} : (tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// bf16 computes in f32 (gelu, erf form) and rounds once at the end.
// CHECK-LABEL: func.func @gelu_bf16
// CHECK: linalg.fill {{.*}} -> tensor<1x8xf32>
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[GE:.+]]: bf16, %[[UE:.+]]: bf16, %[[WE:.+]]: bf16, %[[OUT:.+]]: f32):
// CHECK-NEXT:   %[[G32:.+]] = arith.extf %[[GE]] : bf16 to f32
// CHECK:        math.erf
// CHECK:        %[[U32:.+]] = arith.extf %[[UE]] : bf16 to f32
// CHECK:        %[[W32:.+]] = arith.extf %[[WE]] : bf16 to f32
// CHECK:      } -> tensor<1x8xf32>
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// CHECK: -> tensor<1x8xbf16>
func.func @gelu_bf16(%g: tensor<1x16xbf16>, %u: tensor<1x16xbf16>, %wd: tensor<8x16xbf16>) -> tensor<1x8xbf16> {
  %y = sinter.gated_linear %g, %u, %wd {activation = #sinter<gated_activation gelu>} : (tensor<1x16xbf16>, tensor<1x16xbf16>, tensor<8x16xbf16>) -> tensor<1x8xbf16>
  return %y : tensor<1x8xbf16>
}

// -----

// relu and the tanh form of gelu.
// CHECK-LABEL: func.func @relu_and_gelu_tanh
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: linalg.generic
// CHECK: math.tanh
func.func @relu_and_gelu_tanh(%g: tensor<1x16xf32>, %u: tensor<1x16xf32>, %wd: tensor<8x16xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  %y0 = sinter.gated_linear %g, %u, %wd {activation = #sinter<gated_activation relu>} : (tensor<1x16xf32>, tensor<1x16xf32>, tensor<8x16xf32>) -> tensor<1x8xf32>
  %y1 = sinter.gated_linear %g, %u, %wd {activation = #sinter<gated_activation gelu_tanh>} : (tensor<1x16xf32>, tensor<1x16xf32>, tensor<8x16xf32>) -> tensor<1x8xf32>
  return %y0, %y1 : tensor<1x8xf32>, tensor<1x8xf32>
}

// -----

// operand_type: bf16 gate and up compute in f32, the product is rounded to
// bf16 (as a graph casting it before the down projection does) and widened
// again for the f32 multiply-accumulate with the weight.
// CHECK-LABEL: func.func @operand_type_bf16
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[GE:.+]]: bf16, %[[UE:.+]]: bf16, %[[WE:.+]]: bf16, %[[OUT:.+]]: f32):
// CHECK-NEXT:   %[[G32:.+]] = arith.extf %[[GE]] : bf16 to f32
// CHECK:        %[[S:.+]] = arith.divf %[[G32]], %{{.+}} : f32
// CHECK-NEXT:   %[[U32:.+]] = arith.extf %[[UE]] : bf16 to f32
// CHECK-NEXT:   %[[P:.+]] = arith.mulf %[[S]], %[[U32]] : f32
// CHECK-NEXT:   %[[R:.+]] = arith.truncf %[[P]] : f32 to bf16
// CHECK-NEXT:   %[[X:.+]] = arith.extf %[[R]] : bf16 to f32
// CHECK-NEXT:   %[[W32:.+]] = arith.extf %[[WE]] : bf16 to f32
// CHECK-NEXT:   %[[XW:.+]] = arith.mulf %[[X]], %[[W32]] : f32
// CHECK-NEXT:   %[[SUM:.+]] = arith.addf %[[OUT]], %[[XW]] : f32
// CHECK-NEXT:   linalg.yield %[[SUM]]
// CHECK: -> tensor<1x8xbf16>
func.func @operand_type_bf16(%g: tensor<1x16xbf16>, %u: tensor<1x16xbf16>, %wd: tensor<8x16xbf16>) -> tensor<1x8xbf16> {
  %y = sinter.gated_linear %g, %u, %wd {activation = #sinter<gated_activation silu>, operand_type = bf16} : (tensor<1x16xbf16>, tensor<1x16xbf16>, tensor<8x16xbf16>) -> tensor<1x8xbf16>
  return %y : tensor<1x8xbf16>
}

// -----

// operand_type with f32 gate and up: the product is computed in f32 and
// rounded to the bf16 weight's type; no extf of gate or up.
// CHECK-LABEL: func.func @operand_type_f32_gate
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[GE:.+]]: f32, %[[UE:.+]]: f32, %[[WE:.+]]: bf16, %[[OUT:.+]]: f32):
// CHECK-NOT:    arith.extf %[[GE]]
// CHECK:        %[[P:.+]] = arith.mulf %{{.+}}, %[[UE]] : f32
// CHECK-NEXT:   %[[R:.+]] = arith.truncf %[[P]] : f32 to bf16
// CHECK-NEXT:   arith.extf %[[R]] : bf16 to f32
func.func @operand_type_f32_gate(%g: tensor<1x16xf32>, %u: tensor<1x16xf32>, %wd: tensor<8x16xbf16>) -> tensor<1x8xbf16> {
  %y = sinter.gated_linear %g, %u, %wd {activation = #sinter<gated_activation silu>, operand_type = bf16} : (tensor<1x16xf32>, tensor<1x16xf32>, tensor<8x16xbf16>) -> tensor<1x8xbf16>
  return %y : tensor<1x8xbf16>
}
