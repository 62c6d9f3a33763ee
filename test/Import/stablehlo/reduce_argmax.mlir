// jnp.argmax / jnp.argmin: a reduce over (values, iota along the reduced
// dim) whose body keeps the greater (smaller) value and, on ties, the lower
// index, is sinter.argmax / sinter.argmin (plus the max / min for the value
// result); the i64 index is cast to JAX's i32.
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<4x6xf32>
// CHECK: %[[MAX:.+]] = sinter.reduce_max %[[X]] {axes = array<i64: 1>}
// CHECK: %[[AMAX:.+]] = sinter.argmax %[[X]] {axis = 1 : i64} : (tensor<4x6xf32>) -> tensor<4xi64>
// CHECK: %[[I:.+]] = sinter.cast %[[AMAX]] : (tensor<4xi64>) -> tensor<4xi32>
// CHECK: %[[AMIN:.+]] = sinter.argmin %[[X]] {axis = 0 : i64} : (tensor<4x6xf32>) -> tensor<6xi64>
// CHECK: %[[J:.+]] = sinter.cast %[[AMIN]]
// CHECK: return %[[I]], %[[J]], %[[MAX]]
module @jit_f {
  func.func public @main(%arg0: tensor<4x6xf32>) -> (tensor<4xi32>, tensor<6xi32>, tensor<4xf32>) {
    %0 = stablehlo.iota dim = 1 : tensor<4x6xi32>
    %cst = stablehlo.constant dense<0xFF800000> : tensor<f32>
    %c = stablehlo.constant dense<0> : tensor<i32>
    %1:2 = stablehlo.reduce(%arg0 init: %cst), (%0 init: %c) across dimensions = [1] : (tensor<4x6xf32>, tensor<4x6xi32>, tensor<f32>, tensor<i32>) -> (tensor<4xf32>, tensor<4xi32>)
     reducer(%arg1: tensor<f32>, %arg3: tensor<f32>) (%arg2: tensor<i32>, %arg4: tensor<i32>)  {
      %2 = stablehlo.compare GT, %arg1, %arg3, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %3 = stablehlo.compare NE, %arg1, %arg1, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %4 = stablehlo.or %2, %3 : tensor<i1>
      %5 = stablehlo.compare EQ, %arg1, %arg3, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %6 = stablehlo.compare LT, %arg2, %arg4, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
      %7 = stablehlo.and %5, %6 : tensor<i1>
      %8 = stablehlo.or %4, %7 : tensor<i1>
      %9 = stablehlo.select %4, %arg1, %arg3 : tensor<i1>, tensor<f32>
      %10 = stablehlo.select %8, %arg2, %arg4 : tensor<i1>, tensor<i32>
      stablehlo.return %9, %10 : tensor<f32>, tensor<i32>
    }
    %11 = stablehlo.iota dim = 0 : tensor<4x6xi32>
    %cst_0 = stablehlo.constant dense<0x7F800000> : tensor<f32>
    %12:2 = stablehlo.reduce(%arg0 init: %cst_0), (%11 init: %c) across dimensions = [0] : (tensor<4x6xf32>, tensor<4x6xi32>, tensor<f32>, tensor<i32>) -> (tensor<6xf32>, tensor<6xi32>)
     reducer(%arg1: tensor<f32>, %arg3: tensor<f32>) (%arg2: tensor<i32>, %arg4: tensor<i32>)  {
      %2 = stablehlo.compare LT, %arg1, %arg3, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %3 = stablehlo.compare NE, %arg1, %arg1, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %4 = stablehlo.or %2, %3 : tensor<i1>
      %5 = stablehlo.compare EQ, %arg1, %arg3, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %6 = stablehlo.compare LT, %arg2, %arg4, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
      %7 = stablehlo.and %5, %6 : tensor<i1>
      %8 = stablehlo.or %4, %7 : tensor<i1>
      %9 = stablehlo.select %4, %arg1, %arg3 : tensor<i1>, tensor<f32>
      %10 = stablehlo.select %8, %arg2, %arg4 : tensor<i1>, tensor<i32>
      stablehlo.return %9, %10 : tensor<f32>, tensor<i32>
    }
    return %1#1, %12#1, %1#0 : tensor<4xi32>, tensor<6xi32>, tensor<4xf32>
  }
}
