// The generic form lets a file give an op any number of operands and
// results; the importer checks them before a handler indexes them
// (fuzz_stablehlo finding crash-3ba0095fee7e: a one-operand add).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: {{.*}}operand_count.mlir:8:9: error: 'stablehlo.add' with 1 operands
module @jit_f {
  func.func public @main(%arg0: tensor<4xf32>) -> (tensor<4xf32>) {
    %0 = "stablehlo.add"(%arg0) : (tensor<4xf32>) -> tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}
