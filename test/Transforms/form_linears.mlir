// RUN: sinter-opt %s -split-input-file -sinter-form-linears | FileCheck %s

// MatMul with an inline constant: the weight is transposed at compile time.
// CHECK-LABEL: func.func @matmul_inline
// CHECK-SAME: (%[[X:.+]]: tensor<1x3x2xf32>)
// CHECK: %[[W:.+]] = arith.constant dense<{{\[}}[1.0{{.*}}, 3.0{{.*}}], [2.0{{.*}}, 4.0{{.*}}]]> : tensor<2x2xf32>
// CHECK: %[[Y:.+]] = sinter.linear %[[X]], %[[W]] : (tensor<1x3x2xf32>, tensor<2x2xf32>) -> tensor<1x3x2xf32>
// CHECK-NEXT: return %[[Y]]
func.func @matmul_inline(%x: tensor<1x3x2xf32>) -> tensor<1x3x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %y = sinter.matmul %x, %w : (tensor<1x3x2xf32>, tensor<2x2xf32>) -> tensor<1x3x2xf32>
  return %y : tensor<1x3x2xf32>
}

// -----

// Gemm with transB = 0 imports as linear(x, transpose(B)): folded too.
// CHECK-LABEL: func.func @gemm_transpose_inline
// CHECK: %[[W:.+]] = arith.constant dense<{{\[}}[1.0{{.*}}, 4.0{{.*}}], [2.0{{.*}}, 5.0{{.*}}], [3.0{{.*}}, 6.0{{.*}}]]> : tensor<3x2xbf16>
// CHECK: sinter.linear %{{.+}}, %[[W]] bias
// CHECK-NOT: sinter.transpose
func.func @gemm_transpose_inline(%x: tensor<4x2xbf16>, %b: tensor<3xbf16>) -> tensor<4x3xbf16> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xbf16>
  %t = sinter.transpose %w {perm = array<i64: 1, 0>} : (tensor<2x3xbf16>) -> tensor<3x2xbf16>
  %y = sinter.linear %x, %t bias %b : (tensor<4x2xbf16>, tensor<3x2xbf16>, tensor<3xbf16>) -> tensor<4x3xbf16>
  return %y : tensor<4x3xbf16>
}

// -----

// External data is not read: the transpose becomes a pack-plan entry.
// CHECK-LABEL: func.func @matmul_external
// CHECK: %[[C:.+]] = arith.constant dense_resource<w> : tensor<4x2xf32>
// CHECK: %[[W:.+]] = sinter.pack_weights %[[C]] {axis = 0 : i64, offsets = array<i64: 0>, transpose = array<i1: true>} : (tensor<4x2xf32>) -> tensor<2x4xf32>
// CHECK: sinter.linear %{{.+}}, %[[W]] : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32>
func.func @matmul_external(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<4x2xf32>
  %y = sinter.matmul %x, %w : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
    }
  }
#-}

// -----

// transpose(transpose(W)) is W: no plan needed.
// CHECK-LABEL: func.func @gemm_external_double_transpose
// CHECK: %[[C:.+]] = arith.constant dense_resource<w> : tensor<2x4xf32>
// CHECK: sinter.linear %{{.+}}, %[[C]] :
// CHECK-NOT: pack_weights
func.func @gemm_external_double_transpose(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x4xf32>
  %t = sinter.transpose %w {perm = array<i64: 1, 0>} : (tensor<2x4xf32>) -> tensor<4x2xf32>
  %t2 = sinter.transpose %t {perm = array<i64: 1, 0>} : (tensor<4x2xf32>) -> tensor<2x4xf32>
  %y = sinter.linear %x, %t2 : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
    }
  }
#-}

// -----

// Computed right operands, batched ones and integer ones stay matmuls.
// CHECK-LABEL: func.func @not_linears
// CHECK-COUNT-3: sinter.matmul
// CHECK-NOT: sinter.linear
func.func @not_linears(%x: tensor<3x4xf32>, %w: tensor<4x2xf32>, %xb: tensor<2x3x4xf32>, %xi: tensor<3x4xi32>) -> (tensor<3x2xf32>, tensor<2x3x2xf32>, tensor<3x2xi32>) {
  %a = sinter.matmul %x, %w : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %wb = arith.constant dense<1.0> : tensor<2x4x2xf32>
  %b = sinter.matmul %xb, %wb : (tensor<2x3x4xf32>, tensor<2x4x2xf32>) -> tensor<2x3x2xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi32>
  %c = sinter.matmul %xi, %wi : (tensor<3x4xi32>, tensor<4x2xi32>) -> tensor<3x2xi32>
  return %a, %b, %c : tensor<3x2xf32>, tensor<2x3x2xf32>, tensor<3x2xi32>
}
