// RUN: sinter-opt %s --split-input-file --sinter-cuda-register-accumulators | FileCheck %s
// sinter-cuda-register-accumulators: a reduction loop of the generic mapping
// loads its output element once, carries it in a register and stores it
// once; loops where something else could touch the element are left alone.

// CHECK-LABEL: func.func @row_sum
// CHECK: scf.parallel (%[[I:.+]]) =
// CHECK: %[[INIT:.+]] = memref.load %[[O:.+]][%[[I]]]
// CHECK: %[[R:.+]] = scf.for {{.+}} iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32)
// CHECK-NOT: memref.store
// CHECK: %[[S:.+]] = arith.addf %[[ACC]]
// CHECK: scf.yield %[[S]]
// CHECK: memref.store %[[R]], %[[O]][%[[I]]]
func.func @row_sum(%x: memref<4x8xf32>, %o: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %j = %c0 to %c8 step %c1 {
      %a = memref.load %x[%i, %j] : memref<4x8xf32>
      %acc = memref.load %o[%i] : memref<4xf32>
      %s = arith.addf %acc, %a : f32
      memref.store %s, %o[%i] : memref<4xf32>
    }
    scf.reduce
  }
  return
}

// -----

// Another store in the loop could alias the accumulator: left alone.
// CHECK-LABEL: func.func @other_store
// CHECK: scf.for
// CHECK-NOT: iter_args
// CHECK: memref.load %{{.+}}[%{{.+}}] : memref<4xf32>
// CHECK: memref.store
// CHECK: memref.store
func.func @other_store(%x: memref<4x8xf32>, %o: memref<4xf32>, %p: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %j = %c0 to %c8 step %c1 {
      %a = memref.load %x[%i, %j] : memref<4x8xf32>
      %acc = memref.load %o[%i] : memref<4xf32>
      %s = arith.addf %acc, %a : f32
      memref.store %s, %o[%i] : memref<4xf32>
      memref.store %s, %p[%i, %j] : memref<4x8xf32>
    }
    scf.reduce
  }
  return
}

// -----

// The element depends on the loop's induction variable: not an accumulator.
// CHECK-LABEL: func.func @varying_index
// CHECK: scf.for
// CHECK-NOT: iter_args
func.func @varying_index(%x: memref<8xf32>, %o: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c1) step (%c1) {
    scf.for %j = %c0 to %c8 step %c1 {
      %a = memref.load %x[%j] : memref<8xf32>
      %acc = memref.load %o[%j] : memref<8xf32>
      %s = arith.addf %acc, %a : f32
      memref.store %s, %o[%j] : memref<8xf32>
    }
    scf.reduce
  }
  return
}
