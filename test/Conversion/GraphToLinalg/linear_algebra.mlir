// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file | FileCheck %s
// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file \
// RUN:   -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   -convert-linalg-to-loops -lower-affine -convert-scf-to-cf -expand-strided-metadata -lower-affine \
// RUN:   -finalize-memref-to-llvm -convert-math-to-llvm -convert-math-to-libm -convert-arith-to-llvm \
// RUN:   -convert-func-to-llvm -convert-cf-to-llvm -reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// Batch dims broadcast through the indexing maps: lhs batch dim 1 of size 1
// reads index 0, rhs has no leading batch dim.
// CHECK-DAG: #[[$LHS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d2, d4)>
// CHECK-DAG: #[[$RHS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4, d3)>
// CHECK-DAG: #[[$OUT:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @matmul_broadcast
// CHECK-SAME: (%[[A:.+]]: tensor<4x1x8x16xf32>, %[[B:.+]]: tensor<3x16x2xf32>)
// CHECK: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<4x3x8x2xf32>)
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$LHS]], #[[$RHS]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[A]], %[[B]] : {{.*}}) outs(%[[ZERO]] : tensor<4x3x8x2xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: return %[[R]]
// LLVM-LABEL: llvm.func @matmul_broadcast
func.func @matmul_broadcast(%a: tensor<4x1x8x16xf32>, %b: tensor<3x16x2xf32>) -> tensor<4x3x8x2xf32> {
  %r = sinter.matmul %a, %b : (tensor<4x1x8x16xf32>, tensor<3x16x2xf32>) -> tensor<4x3x8x2xf32>
  return %r : tensor<4x3x8x2xf32>
}

// -----

// A 1-D lhs is a row vector whose dim is dropped; f16 accumulates in f32
// and is rounded once.
// CHECK-DAG: #[[$VEC:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[$RHS:.+]] = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
// CHECK-LABEL: func.func @matmul_vector_f16
// CHECK: %[[ACC:.+]] = linalg.generic {indexing_maps = [#[[$VEC]], #[[$RHS]], #{{.+}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%{{.+}} : tensor<3x2xf32>)
// CHECK: arith.extf %{{.+}} : f16 to f32
// CHECK: arith.extf %{{.+}} : f16 to f32
// CHECK: linalg.generic {{.*}} ins(%[[ACC]] : tensor<3x2xf32>) outs(%{{.+}} : tensor<3x2xf16>)
// CHECK: arith.truncf %{{.+}} : f32 to f16
// LLVM-LABEL: llvm.func @matmul_vector_f16
func.func @matmul_vector_f16(%a: tensor<16xf16>, %b: tensor<3x16x2xf16>) -> tensor<3x2xf16> {
  %r = sinter.matmul %a, %b : (tensor<16xf16>, tensor<3x16x2xf16>) -> tensor<3x2xf16>
  return %r : tensor<3x2xf16>
}

// -----

// Integers accumulate in their own type: no conversion generic.
// CHECK-LABEL: func.func @matmul_i32
// CHECK: %[[R:.+]] = linalg.generic
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]] : tensor<2x3xi32>
func.func @matmul_i32(%a: tensor<2x3x4xi32>, %b: tensor<4xi32>) -> tensor<2x3xi32> {
  %r = sinter.matmul %a, %b : (tensor<2x3x4xi32>, tensor<4xi32>) -> tensor<2x3xi32>
  return %r : tensor<2x3xi32>
}

// -----

// The accumulator starts from the broadcast bias; the weight is read
// transposed ([n, k]).
// CHECK-DAG: #[[$BIAS:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[$X:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$W:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-LABEL: func.func @linear_bias
// CHECK-SAME: (%[[X_:.+]]: tensor<1x4x64xf32>, %[[W_:.+]]: tensor<128x64xf32>, %[[B_:.+]]: tensor<128xf32>)
// CHECK: %[[INIT:.+]] = linalg.generic {indexing_maps = [#[[$BIAS]], #{{.+}}]{{.*}} ins(%[[B_]] : tensor<128xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[$X]], #[[$W]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[X_]], %[[W_]] : {{.*}}) outs(%[[INIT]] : tensor<1x4x128xf32>)
// LLVM-LABEL: llvm.func @linear_bias
func.func @linear_bias(%x: tensor<1x4x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> tensor<1x4x128xf32> {
  %y = sinter.linear %x, %w bias %b : (tensor<1x4x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<1x4x128xf32>
  return %y : tensor<1x4x128xf32>
}

// -----

// Grouped, strided, dilated 2-D conv: zero pad, split channels into
// groups, one generic over [n, g, m, oh, ow, c, kh, kw], merge groups back.
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6, d4 + d7 * 2)>
// CHECK-DAG: #[[$WT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-LABEL: func.func @conv2d_grouped
// CHECK: %[[P:.+]] = tensor.pad %{{.+}} low[0, 0, 1, 0] high[0, 0, 2, 1]
// CHECK: tensor<2x4x9x7xf32> to tensor<2x4x12x8xf32>
// CHECK: %[[XG:.+]] = tensor.expand_shape %[[P]] {{\[}}[0], [1, 2], [3], [4]] {{.*}} into tensor<2x2x2x12x8xf32>
// CHECK: %[[WG:.+]] = tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2], [3], [4]] {{.*}} into tensor<2x3x2x3x2xf32>
// CHECK: %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$WT]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[XG]], %[[WG]] :
// CHECK: tensor.collapse_shape %[[Y]] {{\[}}[0], [1, 2], [3], [4]] : tensor<2x2x3x5x6xf32> into tensor<2x6x5x6xf32>
// LLVM-LABEL: llvm.func @conv2d_grouped
func.func @conv2d_grouped(%x: tensor<2x4x9x7xf32>, %w: tensor<6x2x3x2xf32>, %b: tensor<6xf32>) -> tensor<2x6x5x6xf32> {
  %y = sinter.conv %x, %w bias %b {dilations = array<i64: 1, 2>, group = 2 : i64, pads = array<i64: 1, 0, 2, 1>, strides = array<i64: 2, 1>} : (tensor<2x4x9x7xf32>, tensor<6x2x3x2xf32>, tensor<6xf32>) -> tensor<2x6x5x6xf32>
  return %y : tensor<2x6x5x6xf32>
}

// -----

// Without padding there is no tensor.pad.
// CHECK-LABEL: func.func @conv1d_no_pad
// CHECK-NOT: tensor.pad
// CHECK: linalg.generic
func.func @conv1d_no_pad(%x: tensor<1x2x8xbf16>, %w: tensor<4x2x3xbf16>) -> tensor<1x4x6xbf16> {
  %y = sinter.conv %x, %w {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x2x8xbf16>, tensor<4x2x3xbf16>) -> tensor<1x4x6xbf16>
  return %y : tensor<1x4x6xbf16>
}
