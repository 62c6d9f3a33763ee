// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file | FileCheck %s

// One contraction over (t, j, n, k): x and the index are operands, the
// weight element of expert idx[t, j] is a tensor.extract in the body (no
// gathered [4, 2, 32, 64] copy); bf16 accumulates in f32 and rounds once.
// CHECK-DAG: #[[$X:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-DAG: #[[$I:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG: #[[$O:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @per_token_bf16
// CHECK-SAME: (%[[X:.+]]: tensor<4x64xbf16>, %[[W:.+]]: tensor<8x32x64xbf16>, %[[I:.+]]: tensor<4x2xi64>)
// CHECK-NOT: tensor<4x2x32x64xbf16>
// CHECK: %[[ACC:.+]] = linalg.fill {{.*}} -> tensor<4x2x32xf32>
// CHECK: %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$X]], #[[$I]], #[[$O]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]], %[[I]] : tensor<4x64xbf16>, tensor<4x2xi64>) outs(%[[ACC]] : tensor<4x2x32xf32>)
// CHECK-NEXT: ^bb0(%[[XE:.+]]: bf16, %[[IE:.+]]: i64, %[[OUT:.+]]: f32):
// CHECK:        %[[E:.+]] = arith.select
// CHECK-DAG:    %[[N:.+]] = linalg.index 2
// CHECK-DAG:    %[[K:.+]] = linalg.index 3
// CHECK:        %[[WE:.+]] = tensor.extract %[[W]][%[[E]], %[[N]], %[[K]]] : tensor<8x32x64xbf16>
// CHECK-DAG:    %[[XF:.+]] = arith.extf %[[XE]] : bf16 to f32
// CHECK-DAG:    %[[WF:.+]] = arith.extf %[[WE]] : bf16 to f32
// CHECK:        %[[P:.+]] = arith.mulf %[[XF]], %[[WF]]
// CHECK-NEXT:   %[[S:.+]] = arith.addf %[[OUT]], %[[P]]
// CHECK-NEXT:   linalg.yield %[[S]]
// CHECK: arith.truncf %{{.+}} : f32 to bf16
func.func @per_token_bf16(%x: tensor<4x64xbf16>, %w: tensor<8x32x64xbf16>, %i: tensor<4x2xi64>) -> tensor<4x2x32xbf16> {
  %y = sinter.expert_linear %x, %w, %i : (tensor<4x64xbf16>, tensor<8x32x64xbf16>, tensor<4x2xi64>) -> tensor<4x2x32xbf16>
  return %y : tensor<4x2x32xbf16>
}

// -----

// One row per slot; the accumulator starts from the selected expert's bias.
// CHECK-DAG: #[[$XS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @per_slot_bias
// CHECK-SAME: (%[[X:.+]]: tensor<4x2x64xf32>, %[[W:.+]]: tensor<8x32x64xf32>, %[[I:.+]]: tensor<4x2xi32>, %[[B:.+]]: tensor<8x32xf32>)
// CHECK: %[[ACC:.+]] = linalg.generic {{.*}} ins(%[[I]] : tensor<4x2xi32>)
// CHECK: tensor.extract %[[B]][%{{.+}}, %{{.+}}] : tensor<8x32xf32>
// CHECK: %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$XS]], {{.*}} ins(%[[X]], %[[I]] : tensor<4x2x64xf32>, tensor<4x2xi32>) outs(%[[ACC]] : tensor<4x2x32xf32>)
// CHECK: tensor.extract %[[W]]
// CHECK: return %[[Y]]
func.func @per_slot_bias(%x: tensor<4x2x64xf32>, %w: tensor<8x32x64xf32>, %i: tensor<4x2xi32>, %b: tensor<8x32xf32>) -> tensor<4x2x32xf32> {
  %y = sinter.expert_linear %x, %w, %i bias %b : (tensor<4x2x64xf32>, tensor<8x32x64xf32>, tensor<4x2xi32>, tensor<8x32xf32>) -> tensor<4x2x32xf32>
  return %y : tensor<4x2x32xf32>
}

// -----

// weight_kn ([E, K, N], the export's layout): the same loops, the weight
// element extracted at [expert, k, n].
// CHECK-LABEL: func.func @weight_kn
// CHECK-SAME: %[[W:[^:]+]]: tensor<8x64x32xbf16>
// CHECK: linalg.generic
// CHECK-DAG:    %[[N:.+]] = linalg.index 2
// CHECK-DAG:    %[[K:.+]] = linalg.index 3
// CHECK:        tensor.extract %[[W]][%{{.+}}, %[[K]], %[[N]]] : tensor<8x64x32xbf16>
func.func @weight_kn(%x: tensor<1x2x64xbf16>, %w: tensor<8x64x32xbf16>, %i: tensor<1x2xi64>) -> tensor<1x2x32xbf16> {
  %y = sinter.expert_linear %x, %w, %i {weight_kn} : (tensor<1x2x64xbf16>, tensor<8x64x32xbf16>, tensor<1x2xi64>) -> tensor<1x2x32xbf16>
  return %y : tensor<1x2x32xbf16>
}
