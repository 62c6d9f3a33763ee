// RUN: sinter-opt %s --split-input-file --pass-pipeline='builtin.module(sinter-sink-dynamic-views)' | FileCheck %s

// A launch per iteration on a column picked by the loop (a scan): the
// dynamic-offset subview is rebuilt inside the launch from its static
// source, so the outlined kernel takes a bare pointer and the index.
// CHECK-LABEL: func.func @scan(
// CHECK-SAME:    %[[M:[^:]+]]: memref<4x64xf32>
// CHECK:         scf.for %[[I:.+]] = 
// CHECK:           gpu.launch
// CHECK-NEXT:        %[[S:.+]] = memref.subview %[[M]][0, %[[I]]] [4, 1] [1, 1]
// CHECK:             memref.load %[[S]]
func.func @scan(%m: memref<4x64xf32>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  scf.for %i = %c0 to %c64 step %c1 {
    %s = memref.subview %m[0, %i] [4, 1] [1, 1] : memref<4x64xf32> to memref<4x1xf32, strided<[64, 1], offset: ?>>
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
      %v = memref.load %s[%tx, %c0] : memref<4x1xf32, strided<[64, 1], offset: ?>>
      memref.store %v, %out[%tx] : memref<4xf32>
      gpu.terminator
    }
  }
  return
}

// -----

// Static views stay outside: they are bare pointers already.
// CHECK-LABEL: func.func @static(
// CHECK:         memref.subview
// CHECK:         gpu.launch
// CHECK-NOT:       memref.subview
// CHECK:           gpu.terminator
func.func @static(%m: memref<4x64xf32>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %s = memref.subview %m[0, 3] [4, 1] [1, 1] : memref<4x64xf32> to memref<4x1xf32, strided<[64, 1], offset: 3>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %v = memref.load %s[%tx, %c0] : memref<4x1xf32, strided<[64, 1], offset: 3>>
    memref.store %v, %out[%tx] : memref<4xf32>
    gpu.terminator
  }
  return
}
