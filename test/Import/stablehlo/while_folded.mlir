// fori_loop as JAX writes it when the bound is a value that folds to a
// constant: the bound is a loop-carried value computed from constants, the
// counter is stepped in the body. The condition folds in every iteration
// (ConstantFolding.cpp), so the loop is unrolled: three multiplies, each
// adding the counter as a constant.
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<4x6xf32>
// CHECK: %[[M0:.+]] = sinter.mul %[[X]], %{{.+}}
// CHECK: %[[A0:.+]] = sinter.add %[[M0]], %{{.+}}
// CHECK: %[[M1:.+]] = sinter.mul %[[A0]], %{{.+}}
// CHECK: %[[A1:.+]] = sinter.add %[[M1]], %{{.+}}
// CHECK: %[[M2:.+]] = sinter.mul %[[A1]], %{{.+}}
// CHECK: %[[A2:.+]] = sinter.add %[[M2]], %{{.+}}
// CHECK-NOT: sinter.mul
// CHECK: return %[[A2]]
module @jit_f {
  func.func public @main(%arg0: tensor<4x6xf32>) -> (tensor<4x6xf32>) {
    %c = stablehlo.constant dense<1> : tensor<i32>
    %c_0 = stablehlo.constant dense<2> : tensor<i32>
    %0 = stablehlo.add %c, %c_0 : tensor<i32>
    %c_1 = stablehlo.constant dense<0> : tensor<i32>
    %1:3 = stablehlo.while(%iterArg = %c_1, %iterArg_2 = %0, %iterArg_3 = %arg0) : tensor<i32>, tensor<i32>, tensor<4x6xf32>
    cond {
      %2 = stablehlo.compare LT, %iterArg, %iterArg_2, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
      stablehlo.return %2 : tensor<i1>
    } do {
      %c_4 = stablehlo.constant dense<1> : tensor<i32>
      %2 = stablehlo.add %iterArg, %c_4 : tensor<i32>
      %cst = stablehlo.constant dense<2.000000e+00> : tensor<f32>
      %3 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<4x6xf32>
      %4 = stablehlo.multiply %iterArg_3, %3 : tensor<4x6xf32>
      %5 = stablehlo.convert %iterArg : (tensor<i32>) -> tensor<f32>
      %6 = stablehlo.broadcast_in_dim %5, dims = [] : (tensor<f32>) -> tensor<4x6xf32>
      %7 = stablehlo.add %4, %6 : tensor<4x6xf32>
      stablehlo.return %2, %iterArg_2, %7 : tensor<i32>, tensor<i32>, tensor<4x6xf32>
    }
    return %1#2 : tensor<4x6xf32>
  }
}
