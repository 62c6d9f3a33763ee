// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file | FileCheck %s

// The CPU target computes the weight-pack plan in the forward: a transpose
// per flagged source, then one concat (see "Weight-pack plan" in
// docs/architecture.md).
// CHECK-LABEL: func.func @plan
// CHECK-DAG: %[[A:.+]] = arith.constant dense_resource<wa> : tensor<2x4xf32>
// CHECK-DAG: %[[B:.+]] = arith.constant dense<1.0{{.*}}> : tensor<4x3xf32>
// CHECK: %[[T:.+]] = linalg.transpose ins(%[[B]] : tensor<4x3xf32>) {{.*}} permutation = [1, 0]
// CHECK: %[[W:.+]] = tensor.concat dim(0) %[[A]], %[[T]] : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>
// CHECK: return %[[W]]
func.func @plan() -> tensor<5x4xf32> {
  %a = arith.constant dense_resource<wa> : tensor<2x4xf32>
  %b = arith.constant dense<1.0> : tensor<4x3xf32>
  %w = sinter.pack_weights %a, %b {axis = 0 : i64, offsets = array<i64: 0, 2>, transpose = array<i1: false, true>} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<5x4xf32>
  return %w : tensor<5x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      wa: "0x040000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
    }
  }
#-}

// -----

// One transposed source: just the transpose.
// CHECK-LABEL: func.func @single
// CHECK: %[[T:.+]] = linalg.transpose
// CHECK-NOT: tensor.concat
// CHECK: return %[[T]]
func.func @single() -> tensor<3x4xf32> {
  %b = arith.constant dense<1.0> : tensor<4x3xf32>
  %w = sinter.pack_weights %b {axis = 0 : i64, offsets = array<i64: 0>, transpose = array<i1: true>} : (tensor<4x3xf32>) -> tensor<3x4xf32>
  return %w : tensor<3x4xf32>
}
