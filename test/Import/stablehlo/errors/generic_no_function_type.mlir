// A generic-form func.func without its function_type: the converter read the
// missing type and crashed (found by fuzz_stablehlo); the parsed module is
// now verified first.
// RUN: not sinterc %s --input-format=stablehlo --compile-to=import 2>&1 | FileCheck %s
// CHECK: generic_no_function_type.mlir:8:3: error: 'func.func' op requires attribute 'function_type'

"builtin.module"() ({
  "func.func"() <{sym_name = "main"}> ({
  ^bb0(%arg0: tensor<4xf32>):
    "func.return"(%arg0) : (tensor<4xf32>) -> ()
  }) : () -> ()
}) : () -> ()
