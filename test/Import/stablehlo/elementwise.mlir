// Elementwise ops, convert, compare and select map one to one; JAX's
// decomposed sigmoid 1 / (1 + exp(-x)) becomes sinter.sigmoid.
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32> {sinter.name = "arg0"}, %[[Y:.+]]: tensor<4xf32> {sinter.name = "arg1"})
// CHECK-SAME: {sinter.name = "result0"}
// CHECK: %[[A:.+]] = sinter.add %[[X]], %[[Y]]
// CHECK: %[[S:.+]] = sinter.sub %[[A]], %[[Y]]
// CHECK: %[[M:.+]] = sinter.mul %[[S]], %[[X]]
// CHECK: %[[D:.+]] = sinter.div %[[M]], %[[Y]]
// CHECK: sinter.neg %[[D]]
// CHECK: sinter.exp
// CHECK: sinter.log
// CHECK: sinter.sqrt
// CHECK: sinter.rsqrt
// CHECK: sinter.sigmoid
// CHECK: sinter.tanh
// CHECK: sinter.pow
// CHECK: sinter.max
// CHECK: sinter.min
// CHECK: %[[B:.+]] = sinter.cast %{{.+}} : (tensor<4xf32>) -> tensor<4xbf16>
// CHECK: sinter.cast %[[B]] : (tensor<4xbf16>) -> tensor<4xf32>
// CHECK: %[[C:.+]] = sinter.greater %[[X]], %[[Y]]
// CHECK: sinter.where %[[C]], %[[X]], %[[Y]]
// CHECK: %[[SIG:.+]] = sinter.sigmoid %[[X]]
// CHECK: sinter.mul %[[X]], %[[SIG]]
module @jit_f {
  func.func public @main(%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> (tensor<4xf32> {jax.result_info = "result[0]"}, tensor<4xf32>, tensor<4xf32>) {
    %0 = stablehlo.add %arg0, %arg1 : tensor<4xf32>
    %1 = stablehlo.subtract %0, %arg1 : tensor<4xf32>
    %2 = stablehlo.multiply %1, %arg0 : tensor<4xf32>
    %3 = stablehlo.divide %2, %arg1 : tensor<4xf32>
    %4 = stablehlo.negate %3 : tensor<4xf32>
    %5 = stablehlo.exponential %4 : tensor<4xf32>
    %6 = stablehlo.log %5 : tensor<4xf32>
    %7 = stablehlo.sqrt %6 : tensor<4xf32>
    %8 = stablehlo.rsqrt %7 : tensor<4xf32>
    %9 = stablehlo.logistic %8 : tensor<4xf32>
    %10 = stablehlo.tanh %9 : tensor<4xf32>
    %11 = stablehlo.power %10, %arg0 : tensor<4xf32>
    %12 = stablehlo.maximum %11, %arg0 : tensor<4xf32>
    %13 = stablehlo.minimum %12, %arg1 : tensor<4xf32>
    %14 = stablehlo.convert %13 : (tensor<4xf32>) -> tensor<4xbf16>
    %15 = stablehlo.convert %14 : (tensor<4xbf16>) -> tensor<4xf32>
    %16 = stablehlo.compare  GT, %arg0, %arg1,  FLOAT : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
    %17 = stablehlo.select %16, %arg0, %arg1 : tensor<4xi1>, tensor<4xf32>
    %18 = stablehlo.negate %arg0 : tensor<4xf32>
    %19 = stablehlo.exponential %18 : tensor<4xf32>
    %cst = stablehlo.constant dense<1.000000e+00> : tensor<4xf32>
    %20 = stablehlo.add %cst, %19 : tensor<4xf32>
    %21 = stablehlo.divide %cst, %20 : tensor<4xf32>
    %22 = stablehlo.multiply %arg0, %21 : tensor<4xf32>
    return %15, %17, %22 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
  }
}
