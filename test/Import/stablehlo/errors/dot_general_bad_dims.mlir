// dot_general dimension numbers out of range, repeated or of unequal sizes
// are errors at the op (a fuzzer found the out-of-range case asserting).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}dot_general_bad_dims.mlir:8:9: error: dot_general: a batching or contracting dimension is out of range or repeated
module @jit_f {
  func.func public @main(%q: tensor<2x3x5x8xf32>, %k: tensor<2x3x7x8xf32>) -> (tensor<2x3x5x7xf32>) {
    // rhs batching dim 4 does not exist in a rank-4 operand.
    %0 = "stablehlo.dot_general"(%q, %k) {lhs_batching_dimensions = array<i64: 0, 1>, lhs_contracting_dimensions = array<i64: 3>, rhs_batching_dimensions = array<i64: 4, 1>, rhs_contracting_dimensions = array<i64: 3>} : (tensor<2x3x5x8xf32>, tensor<2x3x7x8xf32>) -> tensor<2x3x5x7xf32>
    return %0 : tensor<2x3x5x7xf32>
  }
}
