// A constant whose value starts with a closing bracket: the reader popped an
// empty bracket stack (an assertion, or memory corruption without one;
// found by fuzz_stablehlo).
// RUN: not sinterc %s --compile-to=import 2>&1 | FileCheck %s
// CHECK: unbalanced_constant.mlir:8:{{[0-9]+}}: error: unbalanced brackets

func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {
  %0 = stablehlo.constant >(0.0) : tensor<2xf32>
  return %0 : tensor<2xf32>
}
