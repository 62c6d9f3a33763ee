// RUN: sinter-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(sinter-bind-donated-outputs))' | FileCheck %s

// The out-param of a donated output gets a copy of its input after
// buffer-results-to-out-params: the copy goes, the out-param stays (the
// runtime passes the input's buffer there), the pairs are recorded.
// CHECK-LABEL: func.func @bind(
// CHECK-SAME:    sinter.donations = {{\[}}[0, 1]]
// CHECK:         memref.copy %arg1, %{{.*}} : memref<1x8xf32> to memref<1x8xf32, strided<[8, 1], offset: 8>>
// CHECK:         memref.copy %arg1, %arg2 : memref<1x8xf32> to memref<1x8xf32>
// CHECK-NOT:     memref.copy
// CHECK:         return
func.func @bind(%past: memref<4x8xf32> {sinter.donate_to = 1 : i64, sinter.name = "past_key"},
                %x: memref<1x8xf32> {sinter.name = "x"},
                %y: memref<1x8xf32> {sinter.name = "y"},
                %present: memref<4x8xf32> {sinter.donated_from = 0 : i64, sinter.name = "present_key"})
    attributes {sinter.entry, sinter.num_inputs = 2 : i64} {
  %sv = memref.subview %past[1, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1], offset: 8>>
  memref.copy %x, %sv : memref<1x8xf32> to memref<1x8xf32, strided<[8, 1], offset: 8>>
  memref.copy %x, %y : memref<1x8xf32> to memref<1x8xf32>
  memref.copy %past, %present : memref<4x8xf32> to memref<4x8xf32>
  return
}

// -----

// A bufferized scatter: a loop that carries the input's buffer unchanged
// (it yields its iter_arg) is that buffer. The loop stays even when nothing
// else reads the updated state: it is the update.
// CHECK-LABEL: func.func @through_loop(
// CHECK-SAME:    sinter.donations = {{\[}}[0, 0]]
// CHECK:         scf.for
// CHECK:           memref.copy %arg1
// CHECK-NOT:     memref.copy %{{.*}}, %arg2
func.func @through_loop(%past: memref<2x8xf32> {sinter.donate_to = 0 : i64, sinter.name = "past_value"},
                        %x: memref<8xf32> {sinter.name = "x"},
                        %present: memref<2x8xf32> {sinter.donated_from = 0 : i64, sinter.name = "present_value"})
    attributes {sinter.entry, sinter.num_inputs = 2 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %past) -> (memref<2x8xf32>) {
    %sv = memref.subview %acc[%i, 0] [1, 8] [1, 1] : memref<2x8xf32> to memref<8xf32, strided<[1], offset: ?>>
    memref.copy %x, %sv : memref<8xf32> to memref<8xf32, strided<[1], offset: ?>>
    scf.yield %acc : memref<2x8xf32>
  }
  memref.copy %r, %present : memref<2x8xf32> to memref<2x8xf32>
  return
}

// -----

// Bufferization wrote the update into a buffer of its own after all: the
// compile fails rather than copy the whole state silently.
// expected-error @below {{donated output 'present_key' is not written in place into input 'past_key' after bufferization}}
func.func @not_in_place(%past: memref<4x8xf32> {sinter.donate_to = 0 : i64, sinter.name = "past_key"},
                        %present: memref<4x8xf32> {sinter.donated_from = 0 : i64, sinter.name = "present_key"})
    attributes {sinter.entry, sinter.num_inputs = 1 : i64} {
  %a = memref.alloc() : memref<4x8xf32>
  memref.copy %past, %a : memref<4x8xf32> to memref<4x8xf32>
  memref.copy %a, %present : memref<4x8xf32> to memref<4x8xf32>
  return
}
