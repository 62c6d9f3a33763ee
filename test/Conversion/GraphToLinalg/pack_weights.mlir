// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file | FileCheck %s

// A weight-pack plan is not computed in the forward: it becomes a constant
// whose data does not exist at compile time (a blobless resource) and the
// plan is recorded in the module under the resource's key, sources as
// their data attributes, for sinter-bind-weights and the runtime (see
// "Weight-pack plan" in docs/architecture.md).
// CHECK: module attributes {sinter.pack_plans = {[[$KEY:sinter_pack[_0-9]*]] = {axis = 0 : i64, offsets = array<i64: 0, 2>, sources = [dense_resource<wa> : tensor<2x4xf32>, dense<1.000000e+00> : tensor<4x3xf32>], transpose = array<i1: false, true>}}}
// CHECK-LABEL: func.func @plan
// CHECK-NOT: linalg.transpose
// CHECK-NOT: tensor.concat
// CHECK: %[[W:.+]] = arith.constant dense_resource<[[$KEY]]> : tensor<5x4xf32>
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

// Two plans get two keys; a plan with one transposed source is a plan too.
// CHECK: module attributes {sinter.pack_plans = {[[$K1:sinter_pack[_0-9]*]] = {axis = 0 : i64, offsets = array<i64: 0>, sources = [dense_resource<wb> : tensor<4x3xf32>], transpose = array<i1: true>}, [[$K2:sinter_pack[_0-9]*]] = {axis = 1 : i64, offsets = array<i64: 0, 3>
// CHECK-LABEL: func.func @two
// CHECK-DAG: arith.constant dense_resource<[[$K1]]> : tensor<3x4xf32>
// CHECK-DAG: arith.constant dense_resource<[[$K2]]> : tensor<4x6xf32>
func.func @two() -> (tensor<3x4xf32>, tensor<4x6xf32>) {
  %b = arith.constant dense_resource<wb> : tensor<4x3xf32>
  %w = sinter.pack_weights %b {axis = 0 : i64, offsets = array<i64: 0>, transpose = array<i1: true>} : (tensor<4x3xf32>) -> tensor<3x4xf32>
  %v = sinter.pack_weights %b, %b {axis = 1 : i64, offsets = array<i64: 0, 3>, transpose = array<i1: false, false>} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x6xf32>
  return %w, %v : tensor<3x4xf32>, tensor<4x6xf32>
}
