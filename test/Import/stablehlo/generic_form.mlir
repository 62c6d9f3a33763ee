// The generic form (print_generic_op_form=True) imports like the pretty one.
// RUN: sinterc %s --input-format=stablehlo --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32> {sinter.name = "arg0"}) -> (tensor<4xf32> {sinter.name = "result0"}
// CHECK: %[[B:.+]] = arith.constant dense<0.000000e+00> : tensor<4x8xf32>
// CHECK: %[[C:.+]] = sinter.less %[[X]], %[[B]]
// CHECK: %[[W:.+]] = sinter.where %[[C]]
// CHECK: sinter.reduce_sum %[[W]] {axes = array<i64: 1>}
// CHECK: sinter.matmul
"builtin.module"() <{sym_name = "jit_f"}> ({
  "func.func"() <{arg_attrs = [{}], function_type = (tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4x4xf32>), res_attrs = [{jax.result_info = "result"}, {}], sym_name = "main", sym_visibility = "public"}> ({
  ^bb0(%arg0: tensor<4x8xf32>):
    %0 = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}> : () -> tensor<f32>
    %1 = "stablehlo.broadcast_in_dim"(%0) <{broadcast_dimensions = array<i64>}> : (tensor<f32>) -> tensor<4x8xf32>
    %2 = "stablehlo.compare"(%arg0, %1) <{compare_type = #stablehlo<comparison_type FLOAT>, comparison_direction = #stablehlo<comparison_direction LT>}> : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xi1>
    %3 = "stablehlo.select"(%2, %1, %arg0) : (tensor<4x8xi1>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    %4 = "stablehlo.reduce"(%3, %0) <{dimensions = array<i64: 1>}> ({
    ^bb0(%arg1: tensor<f32>, %arg2: tensor<f32>):
      %6 = "stablehlo.add"(%arg1, %arg2) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%6) : (tensor<f32>) -> ()
    }) : (tensor<4x8xf32>, tensor<f32>) -> tensor<4xf32>
    %5 = "stablehlo.dot_general"(%3, %3) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [1]>, precision_config = [#stablehlo<precision DEFAULT>, #stablehlo<precision DEFAULT>]}> : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
    "func.return"(%4, %5) : (tensor<4xf32>, tensor<4x4xf32>) -> ()
  }) : () -> ()
}) : () -> ()
