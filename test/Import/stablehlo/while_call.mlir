// Private functions are inlined at their calls; a while loop with a
// constant trip count (lax.scan) is unrolled, its counter a constant in
// each copy so that indexing by it is static.
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<2x4xf32>
// CHECK-NOT: call
// CHECK: %[[R0:.+]] = tensor.extract_slice %[[X]][0, 0] [1, 4] [1, 1]
// CHECK: %[[A0:.+]] = sinter.add %{{.+}}, %[[R0]]
// CHECK: %[[R1:.+]] = tensor.extract_slice %[[X]][1, 0] [1, 4] [1, 1]
// CHECK: %[[A1:.+]] = sinter.add %[[A0]], %[[R1]]
// CHECK: return %[[A1]]
module @jit_f {
  func.func public @main(%arg0: tensor<2x4xf32>) -> (tensor<1x4xf32>) {
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<1x4xf32>
    %c = stablehlo.constant dense<0> : tensor<i32>
    %0:2 = stablehlo.while(%iterArg = %c, %iterArg_0 = %cst) : tensor<i32>, tensor<1x4xf32>
    cond {
      %c_1 = stablehlo.constant dense<2> : tensor<i32>
      %1 = stablehlo.compare  LT, %iterArg, %c_1,  SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
      stablehlo.return %1 : tensor<i1>
    } do {
      %1 = func.call @step(%arg0, %iterArg, %iterArg_0) : (tensor<2x4xf32>, tensor<i32>, tensor<1x4xf32>) -> tensor<1x4xf32>
      %c_1 = stablehlo.constant dense<1> : tensor<i32>
      %2 = stablehlo.add %iterArg, %c_1 : tensor<i32>
      stablehlo.return %2, %1 : tensor<i32>, tensor<1x4xf32>
    }
    return %0#1 : tensor<1x4xf32>
  }
  func.func private @step(%arg0: tensor<2x4xf32>, %arg1: tensor<i32>, %arg2: tensor<1x4xf32>) -> tensor<1x4xf32> {
    %c = stablehlo.constant dense<0> : tensor<i32>
    %0 = stablehlo.dynamic_slice %arg0, %arg1, %c, sizes = [1, 4] : (tensor<2x4xf32>, tensor<i32>, tensor<i32>) -> tensor<1x4xf32>
    %1 = stablehlo.add %arg2, %0 : tensor<1x4xf32>
    return %1 : tensor<1x4xf32>
  }
}
