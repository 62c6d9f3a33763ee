// RUN: sinter-opt %s -sinter-recognize-activations -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @silu_x_times_sigmoid
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK-NEXT: %[[Y:.+]] = sinter.silu %[[X]] : tensor<4xf32>
// CHECK-NEXT: return %[[Y]]
func.func @silu_x_times_sigmoid(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = sinter.sigmoid %x : tensor<4xf32>
  %y = sinter.mul %x, %s : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @silu_sigmoid_times_x
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xbf16>)
// CHECK-NEXT: %[[Y:.+]] = sinter.silu %[[X]] : tensor<2x8xbf16>
// CHECK-NEXT: return %[[Y]]
func.func @silu_sigmoid_times_x(%x: tensor<2x8xbf16>) -> tensor<2x8xbf16> {
  %s = sinter.sigmoid %x : tensor<2x8xbf16>
  %y = sinter.mul %s, %x : (tensor<2x8xbf16>, tensor<2x8xbf16>) -> tensor<2x8xbf16>
  return %y : tensor<2x8xbf16>
}

// -----

// The sigmoid has another user: it stays, the product still becomes silu.
// CHECK-LABEL: func.func @silu_sigmoid_shared
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK-DAG: %[[S:.+]] = sinter.sigmoid %[[X]]
// CHECK-DAG: %[[Y:.+]] = sinter.silu %[[X]]
// CHECK: return %[[Y]], %[[S]]
func.func @silu_sigmoid_shared(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %s = sinter.sigmoid %x : tensor<4xf32>
  %y = sinter.mul %x, %s : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y, %s : tensor<4xf32>, tensor<4xf32>
}

// -----

// x * sigmoid(y) is a gate, not an activation of x.
// CHECK-LABEL: func.func @no_silu_of_other_value
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>, %[[G:.+]]: tensor<4xf32>)
// CHECK: %[[S:.+]] = sinter.sigmoid %[[G]]
// CHECK: sinter.mul %[[X]], %[[S]]
// CHECK-NOT: sinter.silu
func.func @no_silu_of_other_value(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %s = sinter.sigmoid %g : tensor<4xf32>
  %y = sinter.mul %x, %s : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// A product that broadcasts x against the sigmoid of a smaller tensor is not
// an elementwise activation either.
// CHECK-LABEL: func.func @no_silu_broadcasting_product
// CHECK-SAME: (%[[X:.+]]: tensor<2x4xf32>, %[[R:.+]]: tensor<4xf32>)
// CHECK: %[[S:.+]] = sinter.sigmoid %[[R]]
// CHECK: sinter.mul %[[X]], %[[S]] : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
// CHECK-NOT: sinter.silu
func.func @no_silu_broadcasting_product(%x: tensor<2x4xf32>, %r: tensor<4xf32>) -> tensor<2x4xf32> {
  %s = sinter.sigmoid %r : tensor<4xf32>
  %y = sinter.mul %x, %s : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @softplus_exp_plus_one
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK-NEXT: %[[Y:.+]] = sinter.softplus %[[X]] : tensor<4xf32>
// CHECK-NEXT: return %[[Y]]
func.func @softplus_exp_plus_one(%x: tensor<4xf32>) -> tensor<4xf32> {
  %one = arith.constant dense<1.0> : tensor<4xf32>
  %e = sinter.exp %x : tensor<4xf32>
  %a = sinter.add %e, %one : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = sinter.log %a : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// The one may come first and be a broadcast scalar.
// CHECK-LABEL: func.func @softplus_one_plus_exp
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf16>)
// CHECK-NEXT: %[[Y:.+]] = sinter.softplus %[[X]] : tensor<2x3xf16>
// CHECK-NEXT: return %[[Y]]
func.func @softplus_one_plus_exp(%x: tensor<2x3xf16>) -> tensor<2x3xf16> {
  %one = arith.constant dense<1.0> : tensor<f16>
  %e = sinter.exp %x : tensor<2x3xf16>
  %a = sinter.add %one, %e : (tensor<f16>, tensor<2x3xf16>) -> tensor<2x3xf16>
  %y = sinter.log %a : tensor<2x3xf16>
  return %y : tensor<2x3xf16>
}

// -----

// CHECK-LABEL: func.func @no_softplus_plus_two
// CHECK: %[[E:.+]] = sinter.exp
// CHECK: %[[A:.+]] = sinter.add %[[E]]
// CHECK: sinter.log %[[A]]
// CHECK-NOT: sinter.softplus
func.func @no_softplus_plus_two(%x: tensor<4xf32>) -> tensor<4xf32> {
  %two = arith.constant dense<2.0> : tensor<4xf32>
  %e = sinter.exp %x : tensor<4xf32>
  %a = sinter.add %e, %two : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = sinter.log %a : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// The addend must be a constant one, not a value that happens to be one.
// CHECK-LABEL: func.func @no_softplus_plus_value
// CHECK: sinter.log
// CHECK-NOT: sinter.softplus
func.func @no_softplus_plus_value(%x: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4xf32> {
  %e = sinter.exp %x : tensor<4xf32>
  %a = sinter.add %e, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = sinter.log %a : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// exp(x) + 1 broadcast to a larger shape is not softplus(x).
// CHECK-LABEL: func.func @no_softplus_broadcasting_add
// CHECK: sinter.add {{.*}} : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK: sinter.log
// CHECK-NOT: sinter.softplus
func.func @no_softplus_broadcasting_add(%x: tensor<4xf32>) -> tensor<2x4xf32> {
  %one = arith.constant dense<1.0> : tensor<2x4xf32>
  %e = sinter.exp %x : tensor<4xf32>
  %a = sinter.add %e, %one : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = sinter.log %a : tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
