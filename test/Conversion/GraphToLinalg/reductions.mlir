// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file | FileCheck %s

// A reduction generic writes the kept dims; keepdims is an expand_shape.
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$KEPT:.+]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-LABEL: func.func @reduce_sum_keepdims
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.0{{.*}} : f32
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<2xf32>)
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$KEPT]]], iterator_types = ["parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[X]] : tensor<2x3x4xf32>) outs(%[[INIT]] : tensor<2xf32>)
// CHECK: arith.addf
// CHECK: %[[R:.+]] = tensor.expand_shape %[[SUM]] {{\[}}[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
// CHECK: return %[[R]]
func.func @reduce_sum_keepdims(%x: tensor<2x3x4xf32>) -> tensor<2x1x1xf32> {
  %r = sinter.reduce_sum %x {axes = array<i64: 1, 2>, keepdims} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  return %r : tensor<2x1x1xf32>
}

// -----

// bf16 accumulates in f32; the mean divides once and rounds once.
// CHECK-LABEL: func.func @reduce_mean_bf16
// CHECK: %[[ACC:.+]] = linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<3xf32>)
// CHECK: ^bb0(%[[V:.+]]: bf16, %[[A:.+]]: f32):
// CHECK: %[[VF:.+]] = arith.extf %[[V]] : bf16 to f32
// CHECK: arith.addf %[[A]], %[[VF]] : f32
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[ACC]] : tensor<3xf32>) outs(%{{.+}} : tensor<3xbf16>)
// CHECK: %[[M:.+]] = arith.divf %{{.+}}, %{{.+}} : f32
// CHECK: arith.truncf %[[M]] : f32 to bf16
func.func @reduce_mean_bf16(%x: tensor<3x8xbf16>) -> tensor<3xbf16> {
  %r = sinter.reduce_mean %x {axes = array<i64: 1>} : (tensor<3x8xbf16>) -> tensor<3xbf16>
  return %r : tensor<3xbf16>
}

// -----

// max starts from -inf and propagates NaN.
// CHECK-LABEL: func.func @reduce_max_all
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<f32>)
// CHECK: arith.maximumf
func.func @reduce_max_all(%x: tensor<2x3xf32>) -> tensor<f32> {
  %r = sinter.reduce_max %x {axes = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// argmax: one generic carrying (value, index); index -1 marks "none yet" and
// ties go to the lower index, so the result does not depend on loop order.
// CHECK-LABEL: func.func @argmax
// CHECK: %[[NONE:.+]] = arith.constant -1 : i64
// CHECK: %[[IDX0:.+]] = linalg.fill ins(%[[NONE]] : i64)
// CHECK: %[[R:.+]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: outs(%{{.+}}, %[[IDX0]] : tensor<2xf32>, tensor<2xi64>)
// CHECK: ^bb0(%[[V:.+]]: bf16, %[[BV:.+]]: f32, %[[BI:.+]]: i64):
// CHECK: %[[J:.+]] = linalg.index 1 : index
// CHECK: %[[JI:.+]] = arith.index_cast %[[J]] : index to i64
// CHECK: arith.cmpi slt, %[[JI]], %[[BI]] : i64
// CHECK: arith.cmpf ogt
// CHECK: arith.select %[[TAKE:.+]], %{{.+}}, %[[BV]] : f32
// CHECK: arith.select %[[TAKE]], %[[JI]], %[[BI]] : i64
// CHECK: tensor.expand_shape %[[R]]#1 {{\[}}[0, 1]] output_shape [2, 1]
func.func @argmax(%x: tensor<2x8xbf16>) -> tensor<2x1xi64> {
  %r = sinter.argmax %x {axis = 1 : i64, keepdims} : (tensor<2x8xbf16>) -> tensor<2x1xi64>
  return %r : tensor<2x1xi64>
}

// CHECK-LABEL: func.func @argmin_last
// CHECK: arith.cmpi sgt
// CHECK: arith.cmpi slt, %{{.+}}, %{{.+}} : i32
func.func @argmin_last(%x: tensor<2x8xi32>) -> tensor<2xi64> {
  %r = sinter.argmin %x {axis = 1 : i64, select_last_index} : (tensor<2x8xi32>) -> tensor<2xi64>
  return %r : tensor<2xi64>
}

// -----

// softmax: max, then sum of exp(x - max), then exp(x - max) / sum.
// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
// CHECK: %[[MAX:.+]] = linalg.generic {{.+}} ins(%[[X]] : tensor<2x8xf32>)
// CHECK: arith.maximumf
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} ins(%[[X]], %[[MAX]] : tensor<2x8xf32>, tensor<2xf32>)
// CHECK: %[[D:.+]] = arith.subf
// CHECK: %[[E:.+]] = math.exp %[[D]]
// CHECK: arith.addf %{{.+}}, %[[E]]
// CHECK: %[[Y:.+]] = linalg.generic {indexing_maps = [#[[FULL:[^,]+]], #[[ROW:[^,]+]], #[[ROW]], #[[FULL]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]], %[[MAX]], %[[SUM]] : tensor<2x8xf32>, tensor<2xf32>, tensor<2xf32>)
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: return %[[Y]]
func.func @softmax(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %r = sinter.softmax %x {axis = 1 : i64} : tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @log_softmax
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: %[[D:.+]] = arith.subf
// CHECK: %[[L:.+]] = math.log
// CHECK: arith.subf %[[D]], %[[L]]
func.func @log_softmax(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %r = sinter.log_softmax %x {axis = 1 : i64} : tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

// rms_norm: sum of squares in f32, rms per row, then x / rms * scale with
// the scale broadcast over the trailing dim.
// CHECK-DAG: #[[$SCALE:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @rms_norm_bf16
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: math.sqrt
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}, #[[$SCALE]], #{{.+}}]
// CHECK: arith.divf
// CHECK: arith.mulf
// CHECK: arith.truncf %{{.+}} : f32 to bf16
func.func @rms_norm_bf16(%x: tensor<2x8xbf16>, %w: tensor<8xbf16>) -> tensor<2x8xbf16> {
  %r = sinter.rms_norm %x, %w {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xbf16>, tensor<8xbf16>) -> tensor<2x8xbf16>
  return %r : tensor<2x8xbf16>
}

// -----

// layer_norm: the statistics are results too, with the normalized dims kept.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>, %[[W:.+]]: tensor<8xf32>, %[[B:.+]]: tensor<8xf32>)
// CHECK: %[[Y:.+]] = linalg.generic {{.+}} ins(%[[X]], %[[MEAN:[0-9]+]], %[[INV:[0-9]+]], %[[W]], %[[B]] :
// CHECK: %[[M:.+]] = tensor.expand_shape %[[MEAN]] {{\[}}[0, 1]] output_shape [2, 1] : tensor<2xf32> into tensor<2x1xf32>
// CHECK: %[[S:.+]] = tensor.expand_shape %[[INV]] {{\[}}[0, 1]] output_shape [2, 1] : tensor<2xf32> into tensor<2x1xf32>
// CHECK: return %[[Y]], %[[M]], %[[S]]
func.func @layer_norm(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>) {
  %y, %m, %s = sinter.layer_norm %x, %w bias %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return %y, %m, %s : tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>
}

// -----

// cumsum walks the axis; the running sum is updated in place. Slices keep
// the axis as a unit dim and a reshape drops it (see topk_unit_dims.mlir).
// CHECK-LABEL: func.func @cumsum_exclusive_reverse
// CHECK: %[[R:.+]]:2 = scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[OUT:.+]] = %{{.+}}, %[[ACC:.+]] = %{{.+}}) -> (tensor<2x8xf32>, tensor<2xf32>)
// CHECK: %[[POS:.+]] = arith.subi %{{.+}}, %[[I]] : index
// CHECK: %[[SL:.+]] = tensor.extract_slice %{{.+}}[0, %[[POS]]] [2, 1] [1, 1] : tensor<2x8xf32> to tensor<2x1xf32>
// CHECK: %[[ROW:.+]] = tensor.collapse_shape %[[SL]] {{\[}}[0, 1]] : tensor<2x1xf32> into tensor<2xf32>
// CHECK: %[[G:.+]]:2 = linalg.generic {{.+}} ins(%[[ROW]] : tensor<2xf32>) outs(%[[ACC]], %{{.+}} : tensor<2xf32>, tensor<2xf32>)
// CHECK: ^bb0(%[[V:.+]]: f32, %[[A:.+]]: f32, %{{.+}}: f32):
// CHECK: %[[N:.+]] = arith.addf %[[A]], %[[V]]
// CHECK: linalg.yield %[[N]], %[[A]]
// CHECK: %[[EXP:.+]] = tensor.expand_shape %[[G]]#1 {{\[}}[0, 1]] output_shape [2, 1] : tensor<2xf32> into tensor<2x1xf32>
// CHECK: %[[INS:.+]] = tensor.insert_slice %[[EXP]] into %[[OUT]][0, %[[POS]]] [2, 1] [1, 1] : tensor<2x1xf32> into tensor<2x8xf32>
// CHECK: scf.yield %[[INS]], %[[G]]#0
// CHECK: return %[[R]]#0
func.func @cumsum_exclusive_reverse(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %r = sinter.cumsum %x {axis = 1 : i64, exclusive, reverse} : tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

// topk over rows longer than 1024: round 0 picks the best, each later
// round the best after the previous pick, read back from the results.
// CHECK-LABEL: func.func @topk
// CHECK: %[[FIRST:.+]]:2 = linalg.generic
// CHECK: %[[E0:.+]] = tensor.expand_shape %[[FIRST]]#0
// CHECK: tensor.insert_slice %[[E0]]
// CHECK: %[[E1:.+]] = tensor.expand_shape %[[FIRST]]#1
// CHECK: tensor.insert_slice %[[E1]]
// k <= 16: the rounds are unrolled, every slice at a constant offset (the
// CUDA target's bare-pointer kernels need static view offsets; the
// constants fold in the canonicalizer).
// CHECK-NOT: scf.for
// CHECK: tensor.extract_slice {{.+}} : tensor<2x3xf32> to tensor<2x1xf32>
// CHECK: tensor.extract_slice {{.+}} : tensor<2x3xi64> to tensor<2x1xi64>
// CHECK: linalg.generic
// CHECK: tensor.insert_slice {{.+}}[0, %c1{{(_[0-9]+)?}}] [2, 1] [1, 1]
// CHECK: linalg.generic
// CHECK: tensor.insert_slice {{.+}}[0, %c2{{(_[0-9]+)?}}] [2, 1] [1, 1]
// CHECK-NOT: scf.for
func.func @topk(%x: tensor<2x1025xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>) {
  %v, %i = sinter.topk %x {axis = 1 : i64, k = 3 : i64, largest} : (tensor<2x1025xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>)
  return %v, %i : tensor<2x3xf32>, tensor<2x3xi64>
}

// -----

// topk over short rows (<= 1024, k <= 16): every element's rank counted
// against its row (a thread per element on the GPU, not k single-thread
// rounds), then the element of each rank 0..k-1.
// CHECK-DAG: #[[$OWN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$OTHER:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @topk_by_rank
// CHECK-NOT: scf.for
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$OWN]], #[[$OTHER]], #[[$OWN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X:.+]], %[[X]] : tensor<2x8xf32>, tensor<2x8xf32>) outs(%{{.+}} : tensor<2x8xi64>)
// CHECK: linalg.index 1
// CHECK: linalg.index 2
// CHECK: arith.extui
// CHECK: arith.addi
// CHECK: %[[P:.+]]:2 = linalg.generic {indexing_maps = [#[[$OTHER]], #[[$OTHER]], #[[$OWN]], #[[$OWN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[R]] : tensor<2x8xf32>, tensor<2x8xi64>) outs(%{{.+}}, %{{.+}} : tensor<2x3xf32>, tensor<2x3xi64>)
// CHECK: arith.cmpi eq
// CHECK: arith.select
// CHECK: arith.select
// CHECK: return %[[P]]#0, %[[P]]#1
func.func @topk_by_rank(%x: tensor<2x8xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>) {
  %v, %i = sinter.topk %x {axis = 1 : i64, k = 3 : i64, largest} : (tensor<2x8xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>)
  return %v, %i : tensor<2x3xf32>, tensor<2x3xi64>
}
