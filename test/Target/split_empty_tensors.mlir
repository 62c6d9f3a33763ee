// RUN: sinter-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(sinter-split-empty-tensors))' | FileCheck %s

// One empty shared by three inits (what CSE leaves): every use gets its
// own, next to the original, so no two results alias in bufferization.
// CHECK-LABEL: func.func @shared(
// CHECK:         %[[E0:.+]] = tensor.empty() : tensor<4xf32>
// CHECK:         %[[E1:.+]] = tensor.empty() : tensor<4xf32>
// CHECK:         %[[E2:.+]] = tensor.empty() : tensor<4xf32>
// CHECK-NOT:     tensor.empty
// CHECK-DAG:     linalg.fill ins(%{{.*}} : f32) outs(%[[E0]] : tensor<4xf32>)
// CHECK-DAG:     linalg.fill ins(%{{.*}} : f32) outs(%[[E1]] : tensor<4xf32>)
// CHECK-DAG:     linalg.fill ins(%{{.*}} : f32) outs(%[[E2]] : tensor<4xf32>)
func.func @shared(%x: f32, %y: f32, %z: f32) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %a = linalg.fill ins(%x : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %b = linalg.fill ins(%y : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %a, %b, %c : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A use inside a loop gets its copy outside the loop, where the original
// is: bufferization then allocates once, not per iteration.
// CHECK-LABEL: func.func @loop(
// CHECK:         tensor.empty() : tensor<4xf32>
// CHECK:         tensor.empty() : tensor<4xf32>
// CHECK:         scf.for
// CHECK-NOT:     tensor.empty
// CHECK:         scf.yield
func.func @loop(%x: f32, %n: index) -> (tensor<4xf32>, tensor<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %e = tensor.empty() : tensor<4xf32>
  %a = linalg.fill ins(%x : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%t = %a) -> (tensor<4xf32>) {
    %f = linalg.fill ins(%x : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
    %s = arith.addf %x, %x : f32
    %g = linalg.fill ins(%s : f32) outs(%f : tensor<4xf32>) -> tensor<4xf32>
    scf.yield %g : tensor<4xf32>
  }
  return %a, %r : tensor<4xf32>, tensor<4xf32>
}

// -----

// A single-use empty is left alone.
// CHECK-LABEL: func.func @single(
// CHECK-COUNT-1: tensor.empty
// CHECK-NOT:     tensor.empty
func.func @single(%x: f32) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %a = linalg.fill ins(%x : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %a : tensor<4xf32>
}
