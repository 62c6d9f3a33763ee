// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file | FileCheck %s
// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file \
// RUN:   -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   -convert-linalg-to-loops -lower-affine -convert-scf-to-cf -expand-strided-metadata -lower-affine \
// RUN:   -finalize-memref-to-llvm -convert-math-to-llvm -convert-math-to-libm -convert-arith-to-llvm \
// RUN:   -convert-func-to-llvm -convert-cf-to-llvm -reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
// CHECK: %[[E:.+]] = tensor.empty() : tensor<4x2x3xf32>
// CHECK: linalg.transpose ins(%[[X]] : tensor<2x3x4xf32>) outs(%[[E]] : tensor<4x2x3xf32>) permutation = [2, 0, 1]
// LLVM-LABEL: llvm.func @transpose
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %r = sinter.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  return %r : tensor<4x2x3xf32>
}

// -----

// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func.func @expand
// CHECK: linalg.generic {indexing_maps = [#[[$IN]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: outs(%{{.+}} : tensor<2x3x4xf32>)
// LLVM-LABEL: llvm.func @expand
func.func @expand(%x: tensor<3x1xf32>) -> tensor<2x3x4xf32> {
  %r = sinter.expand %x : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
  return %r : tensor<2x3x4xf32>
}

// -----

// CHECK-DAG: #[[$REV:.+]] = affine_map<(d0, d1, d2) -> (-d0 + 1, d1, -d2 + 3)>
// CHECK-LABEL: func.func @reverse
// CHECK: linalg.generic {indexing_maps = [#[[$REV]], #{{.+}}]
// LLVM-LABEL: llvm.func @reverse
func.func @reverse(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %r = sinter.reverse %x {axes = array<i64: 0, 2>} : tensor<2x3x4xf32>
  return %r : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @split
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>)
// CHECK: %[[A:.+]] = tensor.extract_slice %[[X]][0, 0] [4, 2] [1, 1]
// CHECK: %[[B:.+]] = tensor.extract_slice %[[X]][0, 2] [4, 6] [1, 1]
// CHECK: return %[[A]], %[[B]]
func.func @split(%x: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x6xf32>) {
  %a, %b = sinter.split %x {axis = 1 : i64, sizes = array<i64: 2, 6>} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x6xf32>)
  return %a, %b : tensor<4x2xf32>, tensor<4x6xf32>
}

// -----

// Negative pads crop first; the constant mode is then a tensor.pad.
// CHECK-LABEL: func.func @pad_constant_crop
// CHECK-SAME: (%[[X:.+]]: tensor<3x4xf32>, %[[V:.+]]: tensor<f32>)
// CHECK: %[[C:.+]] = tensor.extract_slice %[[X]][1, 0] [2, 2] [1, 1]
// CHECK: %[[S:.+]] = tensor.extract %[[V]][] : tensor<f32>
// CHECK: tensor.pad %[[C]] low[0, 2] high[1, 0]
// CHECK: tensor.yield %[[S]]
// LLVM-LABEL: llvm.func @pad_constant_crop
func.func @pad_constant_crop(%x: tensor<3x4xf32>, %v: tensor<f32>) -> tensor<3x4xf32> {
  %r = sinter.pad %x, %v {mode = #sinter<pad_mode constant>, pads = array<i64: -1, 2, 1, -2>} : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
  return %r : tensor<3x4xf32>
}

// -----

// Other modes read each output's source position: reflect folds the index
// into [0, n) with a triangle wave of period 2(n-1).
// CHECK-LABEL: func.func @pad_reflect
// CHECK-SAME: (%[[X:.+]]: tensor<3x4xf32>, %{{.+}}: tensor<f32>)
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<3x8xf32>)
// CHECK: %[[J:.+]] = linalg.index 1 : index
// CHECK: %[[SH:.+]] = arith.subi %[[J]], %{{.+}} : index
// CHECK: arith.remsi %[[SH]]
// CHECK: %[[E:.+]] = tensor.extract %[[X]][%{{.+}}, %{{.+}}] : tensor<3x4xf32>
// CHECK: linalg.yield %[[E]]
// LLVM-LABEL: llvm.func @pad_reflect
func.func @pad_reflect(%x: tensor<3x4xf32>, %v: tensor<f32>) -> tensor<3x8xf32> {
  %r = sinter.pad %x, %v {mode = #sinter<pad_mode reflect>, pads = array<i64: 0, 2, 0, 2>} : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x8xf32>
  return %r : tensor<3x8xf32>
}

// -----

// CHECK-LABEL: func.func @pad_edge_wrap
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: arith.remsi
// LLVM-LABEL: llvm.func @pad_edge_wrap
func.func @pad_edge_wrap(%x: tensor<3x4xi64>, %v: tensor<i64>) -> (tensor<5x4xi64>, tensor<3x9xi64>) {
  %a = sinter.pad %x, %v {mode = #sinter<pad_mode edge>, pads = array<i64: 1, 0, 1, 0>} : (tensor<3x4xi64>, tensor<i64>) -> tensor<5x4xi64>
  %b = sinter.pad %x, %v {mode = #sinter<pad_mode wrap>, pads = array<i64: 0, 5, 0, 0>} : (tensor<3x4xi64>, tensor<i64>) -> tensor<3x9xi64>
  return %a, %b : tensor<5x4xi64>, tensor<3x9xi64>
}

// -----

// CHECK-LABEL: func.func @trilu_upper
// CHECK: %[[I:.+]] = linalg.index 1 : index
// CHECK: %[[J:.+]] = linalg.index 2 : index
// CHECK: %[[D:.+]] = arith.subi %[[J]], %[[I]] : index
// CHECK: %[[K:.+]] = arith.constant 1 : index
// CHECK: %[[KEEP:.+]] = arith.cmpi sge, %[[D]], %[[K]] : index
// CHECK: arith.select %[[KEEP]], %{{.+}}, %{{.+}} : f32
// LLVM-LABEL: llvm.func @trilu_upper
func.func @trilu_upper(%x: tensor<2x4x4xf32>) -> tensor<2x4x4xf32> {
  %r = sinter.trilu %x {k = 1 : i64, upper} : tensor<2x4x4xf32>
  return %r : tensor<2x4x4xf32>
}

// -----

// The index tensor is a generic input; negative indices wrap.
// CHECK-DAG: #[[$IDS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @gather_embedding
// CHECK-SAME: (%[[T:.+]]: tensor<256x64xf32>, %[[IDS:.+]]: tensor<1x4xi64>)
// CHECK: linalg.generic {indexing_maps = [#[[$IDS]], #{{.+}}]{{.*}} ins(%[[IDS]] : tensor<1x4xi64>)
// CHECK: ^bb0(%[[IN:.+]]: i64, %{{.+}}: f32):
// CHECK: %[[COL:.+]] = linalg.index 2 : index
// CHECK: %[[I:.+]] = arith.index_cast %[[IN]] : i64 to index
// CHECK: %[[NEG:.+]] = arith.cmpi slt, %[[I]]
// CHECK: %[[UP:.+]] = arith.addi %[[I]], %{{.+}} : index
// CHECK: %[[ROW:.+]] = arith.select %[[NEG]], %[[UP]], %[[I]] : index
// CHECK: tensor.extract %[[T]][%[[ROW]], %[[COL]]] : tensor<256x64xf32>
// LLVM-LABEL: llvm.func @gather_embedding
func.func @gather_embedding(%t: tensor<256x64xf32>, %ids: tensor<1x4xi64>) -> tensor<1x4x64xf32> {
  %r = sinter.gather %t, %ids {axis = 0 : i64} : (tensor<256x64xf32>, tensor<1x4xi64>) -> tensor<1x4x64xf32>
  return %r : tensor<1x4x64xf32>
}

// -----

// CHECK-LABEL: func.func @gather_elements
// CHECK-SAME: (%[[D:.+]]: tensor<2x3xf32>, %[[I:.+]]: tensor<2x2xi32>)
// CHECK: linalg.generic {{.*}} ins(%[[I]] : tensor<2x2xi32>)
// CHECK: %[[R:.+]] = linalg.index 0 : index
// CHECK: arith.index_cast %{{.+}} : i32 to index
// CHECK: tensor.extract %[[D]][%[[R]], %{{.+}}] : tensor<2x3xf32>
// LLVM-LABEL: llvm.func @gather_elements
func.func @gather_elements(%d: tensor<2x3xf32>, %i: tensor<2x2xi32>) -> tensor<2x2xf32> {
  %r = sinter.gather_elements %d, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

// -----

// Each index tuple component is read from the indices tensor in the body.
// CHECK-LABEL: func.func @gather_nd_batch
// CHECK-SAME: (%[[D:.+]]: tensor<2x3x4xf32>, %[[I:.+]]: tensor<2x5x1xi64>)
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<2x5x4xf32>)
// CHECK: %[[B:.+]] = linalg.index 0 : index
// CHECK: %[[Q:.+]] = linalg.index 1 : index
// CHECK: %[[T:.+]] = linalg.index 2 : index
// CHECK: tensor.extract %[[I]][%[[B]], %[[Q]], %{{.+}}] : tensor<2x5x1xi64>
// CHECK: tensor.extract %[[D]][%[[B]], %{{.+}}, %[[T]]] : tensor<2x3x4xf32>
// LLVM-LABEL: llvm.func @gather_nd_batch
func.func @gather_nd_batch(%d: tensor<2x3x4xf32>, %i: tensor<2x5x1xi64>) -> tensor<2x5x4xf32> {
  %r = sinter.gather_nd %d, %i {batch_dims = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x1xi64>) -> tensor<2x5x4xf32>
  return %r : tensor<2x5x4xf32>
}

// -----

// One generic over the data, in place on it: each element visits the
// updates of its column in order (axis 0) and combines the ones whose index
// addresses it; the indices are read inside the body.
// CHECK-LABEL: func.func @scatter_elements_add
// CHECK-SAME: (%[[D:.+]]: tensor<3x3xf32>, %[[I:.+]]: tensor<2x3xi64>, %[[U:.+]]: tensor<2x3xf32>)
// CHECK: %[[R:.+]] = linalg.generic {{.*}} outs(%[[D]] : tensor<3x3xf32>)
// CHECK-NEXT: ^bb0(%[[OLD:.+]]: f32):
// CHECK: %[[ROW:.+]] = linalg.index 0
// CHECK: %[[COL:.+]] = linalg.index 1
// CHECK: scf.for %[[J:[^ ]+]] = %{{.+}} iter_args(%[[ACC:[^ ]+]] = %[[OLD]]) -> (f32)
// CHECK: tensor.extract %[[I]][%[[J]], %[[COL]]]
// CHECK: %[[HIT:.+]] = arith.cmpi eq, %{{.+}}, %[[ROW]] : index
// CHECK: %[[UV:.+]] = tensor.extract %[[U]][%[[J]], %[[COL]]]
// CHECK: %[[NEW:.+]] = arith.addf %[[ACC]], %[[UV]]
// CHECK: arith.select %{{.+}}, %[[NEW]], %[[ACC]]
// CHECK: return %[[R]]
// LLVM-LABEL: llvm.func @scatter_elements_add
func.func @scatter_elements_add(%d: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %r = sinter.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = #sinter<reduction add>} : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return %r : tensor<3x3xf32>
}

// -----

// A KV-cache style write: each element of the data compares its leading
// coordinate with every index tuple, in order, and takes the last match's
// update element.
// CHECK-LABEL: func.func @scatter_nd_rows
// CHECK-SAME: (%[[D:.+]]: tensor<4x4xf32>, %[[I:.+]]: tensor<2x1xi64>, %[[U:.+]]: tensor<2x4xf32>)
// CHECK: linalg.generic {{.*}} outs(%[[D]] : tensor<4x4xf32>)
// CHECK-NEXT: ^bb0(%[[OLD:.+]]: f32):
// CHECK: %[[ROW:.+]] = linalg.index 0
// CHECK: %[[COL:.+]] = linalg.index 1
// CHECK: scf.for %[[N:[^ ]+]] = %{{.+}} iter_args(%[[ACC:[^ ]+]] = %[[OLD]]) -> (f32)
// CHECK: tensor.extract %[[I]][%[[N]], %{{.+}}] : tensor<2x1xi64>
// CHECK: arith.cmpi eq, %{{.+}}, %[[ROW]] : index
// CHECK: %[[UV:.+]] = tensor.extract %[[U]][%[[N]], %[[COL]]]
// CHECK: arith.select %{{.+}}, %[[UV]], %[[ACC]] : f32
// LLVM-LABEL: llvm.func @scatter_nd_rows
func.func @scatter_nd_rows(%d: tensor<4x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4xf32>) -> tensor<4x4xf32> {
  %r = sinter.scatter_nd %d, %i, %u {reduction = #sinter<reduction none>} : (tensor<4x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

// With a reduction the matching updates are combined in order.
// CHECK-LABEL: func.func @scatter_nd_max
// CHECK: scf.for %{{.+}} iter_args(%[[ACC:[^ ]+]] = %{{.+}}) -> (f32)
// CHECK: %[[UV:.+]] = tensor.extract %{{.+}} : tensor<2x4xf32>
// CHECK: %[[NEW:.+]] = arith.maximumf %[[ACC]], %[[UV]] : f32
// CHECK: arith.select %{{.+}}, %[[NEW]], %[[ACC]] : f32
// LLVM-LABEL: llvm.func @scatter_nd_max
func.func @scatter_nd_max(%d: tensor<4x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4xf32>) -> tensor<4x4xf32> {
  %r = sinter.scatter_nd %d, %i, %u {reduction = #sinter<reduction max>} : (tensor<4x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

// Linear mode: one generic over the cache, in place on it; each element
// reads its batch's write index inside the body (no index read outside the
// kernel) and takes update[p - start] inside the window.
// CHECK-LABEL: func.func @tensor_scatter_linear
// CHECK-SAME: (%[[C:.+]]: tensor<2x2x16x8xf32>, %[[U:.+]]: tensor<2x2x3x8xf32>, %[[P:.+]]: tensor<2xi64>)
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[C]] : tensor<2x2x16x8xf32>)
// CHECK-NEXT: ^bb0(%[[OLD:.+]]: f32):
// CHECK: %[[B:.+]] = linalg.index 0
// CHECK: %[[T:.+]] = linalg.index 2
// CHECK: %[[POS:.+]] = tensor.extract %[[P]][%[[B]]]
// CHECK: %[[AT:.+]] = arith.index_cast %[[POS]] : i64 to index
// CHECK: %[[J:.+]] = arith.subi %[[T]], %[[AT]] : index
// CHECK: %[[IN:.+]] = arith.andi
// CHECK: %[[JC:.+]] = arith.maxsi
// CHECK: %[[V:.+]] = tensor.extract %[[U]][%[[B]], %{{.+}}, %[[JC]], %{{.+}}]
// CHECK: arith.select %[[IN]], %[[V]], %[[OLD]] : f32
// LLVM-LABEL: llvm.func @tensor_scatter_linear
func.func @tensor_scatter_linear(%c: tensor<2x2x16x8xf32>, %u: tensor<2x2x3x8xf32>, %p: tensor<2xi64>) -> tensor<2x2x16x8xf32> {
  %r = sinter.tensor_scatter %c, %u, %p {axis = 2 : i64, mode = #sinter<cache_mode linear>} : (tensor<2x2x16x8xf32>, tensor<2x2x3x8xf32>, tensor<2xi64>) -> tensor<2x2x16x8xf32>
  return %r : tensor<2x2x16x8xf32>
}

// -----

// Circular mode: the update position is (p - start) mod the cache length.
// CHECK-LABEL: func.func @tensor_scatter_circular
// CHECK: linalg.generic
// CHECK: %[[T:.+]] = linalg.index 2
// CHECK: %[[J:.+]] = arith.subi %[[T]], %{{.+}} : index
// CHECK: %[[N:.+]] = arith.constant 16 : index
// CHECK: arith.remsi %[[J]], %[[N]] : index
// CHECK: arith.select
// LLVM-LABEL: llvm.func @tensor_scatter_circular
func.func @tensor_scatter_circular(%c: tensor<2x2x16x8xf32>, %u: tensor<2x2x3x8xf32>, %p: tensor<2xi64>) -> tensor<2x2x16x8xf32> {
  %r = sinter.tensor_scatter %c, %u, %p {axis = 2 : i64, mode = #sinter<cache_mode circular>} : (tensor<2x2x16x8xf32>, tensor<2x2x3x8xf32>, tensor<2xi64>) -> tensor<2x2x16x8xf32>
  return %r : tensor<2x2x16x8xf32>
}
