// RUN: sinter-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(sinter-plan-memory))' | FileCheck %s

// Buffers that are never live together share bytes; %a and %b overlap, %c
// starts after %a's last use and reuses its offset. Offsets are 64-aligned,
// the largest buffer placed first.
// CHECK-LABEL: func.func @reuse(
// CHECK-SAME:    %[[ARENA:[a-z0-9]+]]: memref<1088xi8> {sinter.arena})
// CHECK-SAME:    sinter.arena_bytes = 1088 : i64
// CHECK-SAME:    sinter.unplanned_allocs = 0 : i64
// CHECK-DAG:   %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:   %[[C1024:.+]] = arith.constant 1024 : index
// CHECK:       memref.view %[[ARENA]][%[[C0]]][] : memref<1088xi8> to memref<256xf32>
// CHECK:       memref.view %[[ARENA]][%[[C1024]]][] : memref<1088xi8> to memref<3xf32>
// CHECK:       memref.view %[[ARENA]][%[[C0]]][] : memref<1088xi8> to memref<16xf32>
// CHECK-NOT:   memref.alloc
// CHECK-NOT:   memref.dealloc
func.func @reuse(%in: memref<256xf32>, %out: memref<16xf32>) attributes {sinter.entry} {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %in, %a : memref<256xf32> to memref<256xf32>
  %b = memref.alloc() : memref<3xf32>
  %sv = memref.subview %a[0] [3] [1] : memref<256xf32> to memref<3xf32, strided<[1]>>
  memref.copy %sv, %b : memref<3xf32, strided<[1]>> to memref<3xf32>
  memref.dealloc %a : memref<256xf32>
  %c = memref.alloc() : memref<16xf32>
  %sb = memref.subview %c[0] [3] [1] : memref<16xf32> to memref<3xf32, strided<[1]>>
  memref.copy %b, %sb : memref<3xf32> to memref<3xf32, strided<[1]>>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  memref.dealloc %b : memref<3xf32>
  memref.dealloc %c : memref<16xf32>
  return
}

// -----

// A view keeps its buffer alive: %a's lifetime runs to the last use of %v
// (inside the loop, which counts as a use by the loop), so %b cannot share it.
// CHECK-LABEL: func.func @alias_and_loop(
// CHECK-SAME:    sinter.arena_bytes = 128 : i64
// CHECK-DAG:   %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:   %[[C64:.+]] = arith.constant 64 : index
// CHECK:       memref.view %{{.+}}[%[[C0]]][] : memref<128xi8> to memref<16xf32>
// CHECK:       memref.view %{{.+}}[%[[C64]]][] : memref<128xi8> to memref<4x4xf32>
func.func @alias_and_loop(%in: memref<16xf32>, %out: memref<16xf32>) attributes {sinter.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %a = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %v = memref.expand_shape %a [[0, 1]] output_shape [4, 4] : memref<16xf32> into memref<4x4xf32>
  %b = memref.alloc() : memref<4x4xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %in[%i] : memref<16xf32>
    %ci = arith.remui %i, %c1 : index
    memref.store %x, %v[%ci, %ci] : memref<4x4xf32>
    memref.store %x, %b[%ci, %ci] : memref<4x4xf32>
  }
  %f = memref.collapse_shape %b [[0, 1]] : memref<4x4xf32> into memref<16xf32>
  memref.copy %f, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// Allocations the plan cannot place stay: dynamic shapes, and a loop's
// buffer that an iteration yields to the next. One that lives within its
// iteration is placed, its bytes reused by every iteration (no dealloc
// left). The arena argument is added all the same.
// CHECK-LABEL: func.func @unplanned(
// CHECK-SAME:    %{{.+}}: memref<64xi8> {sinter.arena})
// CHECK-SAME:    sinter.arena_bytes = 64 : i64
// CHECK-SAME:    sinter.unplanned_allocs = 2 : i64
// CHECK:       memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK:       scf.for
// CHECK:         memref.view %{{.+}}[%{{.+}}][] : memref<64xi8> to memref<4xf32>
// CHECK-NOT:     memref.dealloc
// CHECK:       scf.for
// CHECK:         memref.alloc() : memref<4xf32>
// CHECK:         scf.yield
func.func @unplanned(%n: index, %out: memref<4xf32>) attributes {sinter.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %d : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    %t = memref.alloc() : memref<4xf32>
    memref.copy %t, %out : memref<4xf32> to memref<4xf32>
    memref.dealloc %t : memref<4xf32>
  }
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %out) -> (memref<4xf32>) {
    %t = memref.alloc() : memref<4xf32>
    memref.copy %acc, %t : memref<4xf32> to memref<4xf32>
    scf.yield %t : memref<4xf32>
  }
  memref.copy %r, %out : memref<4xf32> to memref<4xf32>
  return
}

// Only the entry function is planned.
// CHECK-LABEL: func.func @not_entry(
// CHECK-SAME:    %{{.+}}: memref<4xf32>) {
// CHECK:       memref.alloc
func.func @not_entry(%out: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %a, %out : memref<4xf32> to memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  return
}
