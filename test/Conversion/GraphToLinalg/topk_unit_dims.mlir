// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -canonicalize -split-input-file | FileCheck %s

// A row of tensor<1x8x2> along axis 2 has another unit dim, so a
// rank-reducing slice to tensor<1x8> would leave the dropped dim ambiguous:
// once k = 2 folds the loop and the offset becomes a constant, the tensor
// canonicalizer rebuilt it as an invalid slice (sizes [1, 1, 8]). The slices
// keep the axis and a reshape names the dropped dim. (Rows of 1100: shorter
// ones take the rank form, which has no slices.)
// CHECK-LABEL: func.func @topk_unit_dims
// CHECK-NOT: tensor.extract_slice {{.+}} to tensor<1x8xf32>
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2]] output_shape [1, 8, 1] : tensor<1x8xf32> into tensor<1x8x1xf32>
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 0] [1, 8, 1] [1, 1, 1] : tensor<1x8x1xf32> into tensor<1x8x2xf32>
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 1] [1, 8, 1] [1, 1, 1] : tensor<1x8x1xf32> into tensor<1x8x2xf32>
func.func @topk_unit_dims(%x: tensor<1x8x1100xf32>) -> (tensor<1x8x2xf32>, tensor<1x8x2xi64>) {
  %v, %i = sinter.topk %x {axis = 2 : i64, k = 2 : i64, largest} : (tensor<1x8x1100xf32>) -> (tensor<1x8x2xf32>, tensor<1x8x2xi64>)
  return %v, %i : tensor<1x8x2xf32>, tensor<1x8x2xi64>
}

// -----

// The same for cumsum over a unit axis of tensor<1x3x1x5>.
// CHECK-LABEL: func.func @cumsum_unit_dims
// CHECK-NOT: tensor.extract_slice {{.+}} to tensor<1x3x5xf32>
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2], [3]] : tensor<1x3x1x5xf32> into tensor<1x3x5xf32>
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2], [3]] output_shape [1, 3, 1, 5] : tensor<1x3x5xf32> into tensor<1x3x1x5xf32>
// CHECK: return
func.func @cumsum_unit_dims(%x: tensor<1x3x1x5xf32>) -> tensor<1x3x1x5xf32> {
  %r = sinter.cumsum %x {axis = 2 : i64} : tensor<1x3x1x5xf32>
  return %r : tensor<1x3x1x5xf32>
}
