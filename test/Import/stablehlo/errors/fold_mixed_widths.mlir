// Integer ops on constants are folded at import; operands of different
// widths (which the generic form can declare) are not folded but reported,
// not compared as APInts of different widths (fuzz_stablehlo finding
// crash-35454e5f8418).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: fold_mixed_widths.mlir:12:9: error: 'sinter.less' op lhs element type 'i32' differs from rhs element type 'i64'
// CHECK-NOT: Assertion
module @jit_f {
  func.func public @main(%arg0: tensor<f32>) -> (tensor<i1>) {
    %c = stablehlo.constant dense<1> : tensor<i32>
    %d = stablehlo.constant dense<2> : tensor<i64>
    %0 = "stablehlo.compare"(%c, %d) {comparison_direction = #stablehlo<comparison_direction LT>} : (tensor<i32>, tensor<i64>) -> tensor<i1>
    return %0 : tensor<i1>
  }
}
