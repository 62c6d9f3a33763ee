// RUN: sinter-opt %s --split-input-file --verify-diagnostics --sinter-cuda-form-kernels=remarks=1 | FileCheck %s
// A launch right after a one-row GEMV whose thread p reads only the GEMV's
// column p runs at the end of the GEMV's blocks (ColumnConsumer.cpp): a
// barrier, then the owner of column p (lane c of the group's first warp)
// runs the consumer's body with p = the column; the consumer launch goes.
// The GEMV template sets sinter.gemv_owner (columns a warp, split-K, warps
// a block, N) and sinter.gemv_column on its column stores; here they are
// written by hand on a stand-in (column = block id: 1 column a warp, one
// warp a block). Both marks are dropped whether or not a merge happens.

// CHECK-LABEL: func.func @merged
// CHECK:       memref.subview
// CHECK:       gpu.launch
// CHECK:         memref.store %{{.+}}, %arg1[%{{.+}}] : memref<8xf32>
// CHECK:         gpu.barrier
// CHECK:         scf.if
// CHECK:           memref.load %arg1[
// CHECK:           memref.store %{{.+}}, %arg3[
// CHECK:       sinter.kernel = "gemv stand-in column_consumer=conv_window"
// CHECK-NOT:   gpu.launch
// CHECK-NOT:   sinter.gemv
// CHECK:       return
func.func @merged(%w: memref<8xf32> {llvm.noalias}, %out: memref<8xf32> {llvm.noalias}, %s: memref<8x2xf32> {llvm.noalias}, %y: memref<8xf32> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c8, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %is0 = arith.cmpi eq, %tx, %c0 : index
    scf.if %is0 {
      %v = memref.load %w[%bx] : memref<8xf32>
      memref.store %v, %out[%bx] {sinter.gemv_column} : memref<8xf32>
    }
    gpu.terminator
  } {sinter.gemv_owner = array<i64: 1, 1, 1, 8>, sinter.kernel = "gemv stand-in"}
  %col = memref.subview %s[0, 1] [8, 1] [1, 1] : memref<8x2xf32> to memref<8xf32, strided<[2], offset: 1>>
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %p0 = arith.muli %bx, %c256 : index
    %p = arith.addi %p0, %tx : index
    %in = arith.cmpi ult, %p, %c8 : index
    scf.if %in {
      %x = memref.load %out[%p] : memref<8xf32>
      %old = memref.load %col[%p] : memref<8xf32, strided<[2], offset: 1>>
      %r = arith.addf %x, %old : f32
      memref.store %x, %col[%p] : memref<8xf32, strided<[2], offset: 1>>
      memref.store %r, %y[%p] : memref<8xf32>
    }
    gpu.terminator
  } {sinter.kernel = "conv_window stand-in"}
  return
}

// -----

// Thread p reads column p + 1, which another block of the GEMV stores:
// two launches stay.
// CHECK-LABEL: func.func @other_column
// CHECK:       gpu.launch
// CHECK-NOT:   gpu.barrier
// CHECK:       sinter.kernel = "gemv stand-in"
// CHECK:       gpu.launch
// CHECK:       sinter.kernel = "consumer stand-in"
func.func @other_column(%w: memref<9xf32> {llvm.noalias}, %out: memref<9xf32> {llvm.noalias}, %y: memref<8xf32> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c9 = arith.constant 9 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c9, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %is0 = arith.cmpi eq, %tx, %c0 : index
    scf.if %is0 {
      %v = memref.load %w[%bx] : memref<9xf32>
      memref.store %v, %out[%bx] {sinter.gemv_column} : memref<9xf32>
    }
    gpu.terminator
  } {sinter.gemv_owner = array<i64: 1, 1, 1, 9>, sinter.kernel = "gemv stand-in"}
  // expected-remark @below {{launch not merged into the GEMV before it: consumer thread 0 reads what the GEMV writes other than its column}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %in = arith.cmpi ult, %tx, %c8 : index
    scf.if %in {
      %q = arith.addi %tx, %c1 : index
      %x = memref.load %out[%q] : memref<9xf32>
      memref.store %x, %y[%tx] : memref<8xf32>
    }
    gpu.terminator
  } {sinter.kernel = "consumer stand-in"}
  return
}

// -----

// The consumer stores into what the GEMV reads (its weight): other blocks
// of the GEMV may not have read it yet.
// CHECK-LABEL: func.func @writes_gemv_input
// CHECK:       sinter.kernel = "gemv stand-in"
// CHECK:       gpu.launch
// CHECK:       sinter.kernel = "consumer stand-in"
func.func @writes_gemv_input(%w: memref<8xf32> {llvm.noalias}, %out: memref<8xf32> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c8, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %is0 = arith.cmpi eq, %tx, %c0 : index
    scf.if %is0 {
      %v = memref.load %w[%bx] : memref<8xf32>
      memref.store %v, %out[%bx] {sinter.gemv_column} : memref<8xf32>
    }
    gpu.terminator
  } {sinter.gemv_owner = array<i64: 1, 1, 1, 8>, sinter.kernel = "gemv stand-in"}
  // expected-remark @below {{launch not merged into the GEMV before it: the consumer stores into a buffer the GEMV reads or writes}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %in = arith.cmpi ult, %tx, %c8 : index
    scf.if %in {
      %x = memref.load %out[%tx] : memref<8xf32>
      memref.store %x, %w[%tx] : memref<8xf32>
    }
    gpu.terminator
  } {sinter.kernel = "consumer stand-in"}
  return
}

// -----

// Consumer threads past the GEMV's N access memory (their work would be
// lost), and a consumer with a barrier: neither is merged.
// CHECK-LABEL: func.func @past_n
// CHECK:       sinter.kernel = "gemv stand-in"
// CHECK:       gpu.launch
// CHECK:       sinter.kernel = "consumer stand-in"
// CHECK-LABEL: func.func @barrier
// CHECK:       sinter.kernel = "gemv stand-in"
// CHECK:       gpu.launch
// CHECK:       gpu.barrier
// CHECK:       sinter.kernel = "consumer stand-in"
func.func @past_n(%w: memref<8xf32> {llvm.noalias}, %out: memref<8xf32> {llvm.noalias}, %y: memref<16xf32> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c8, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %is0 = arith.cmpi eq, %tx, %c0 : index
    scf.if %is0 {
      %v = memref.load %w[%bx] : memref<8xf32>
      memref.store %v, %out[%bx] {sinter.gemv_column} : memref<8xf32>
    }
    gpu.terminator
  } {sinter.gemv_owner = array<i64: 1, 1, 1, 8>, sinter.kernel = "gemv stand-in"}
  // expected-remark @below {{launch not merged into the GEMV before it: consumer thread 8 accesses memory but the GEMV has 8 columns}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %in = arith.cmpi ult, %tx, %c16 : index
    scf.if %in {
      %f = arith.constant 1.0 : f32
      memref.store %f, %y[%tx] : memref<16xf32>
    }
    gpu.terminator
  } {sinter.kernel = "consumer stand-in"}
  return
}
func.func @barrier(%w: memref<8xf32> {llvm.noalias}, %out: memref<8xf32> {llvm.noalias}, %y: memref<8xf32> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c8, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %is0 = arith.cmpi eq, %tx, %c0 : index
    scf.if %is0 {
      %v = memref.load %w[%bx] : memref<8xf32>
      memref.store %v, %out[%bx] {sinter.gemv_column} : memref<8xf32>
    }
    gpu.terminator
  } {sinter.gemv_owner = array<i64: 1, 1, 1, 8>, sinter.kernel = "gemv stand-in"}
  // expected-remark @below {{launch not merged into the GEMV before it: the consumer launch has an op other than loads, stores, scf.if and arithmetic: gpu.barrier}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %in = arith.cmpi ult, %tx, %c8 : index
    gpu.barrier
    scf.if %in {
      %x = memref.load %out[%tx] : memref<8xf32>
      memref.store %x, %y[%tx] : memref<8xf32>
    }
    gpu.terminator
  } {sinter.kernel = "consumer stand-in"}
  return
}

// -----

// A consumer grid of fewer threads than the GEMV has columns: only the
// columns that are consumer threads (4 of 8) run its body.
// CHECK-LABEL: func.func @fewer_threads
// CHECK:       gpu.launch
// CHECK:         gpu.barrier
// CHECK:         %[[C4:.+]] = arith.constant 4 : index
// CHECK:         arith.cmpi ult, %{{.+}}, %[[C4]] : index
// CHECK:         scf.if
// CHECK:           memref.store %{{.+}}, %arg2[
// CHECK:       column_consumer=consumer
// CHECK-NOT:   gpu.launch
func.func @fewer_threads(%w: memref<8xf32> {llvm.noalias}, %out: memref<8xf32> {llvm.noalias}, %y: memref<4xf32> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c8, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %c0 = arith.constant 0 : index
    %is0 = arith.cmpi eq, %tx, %c0 : index
    scf.if %is0 {
      %v = memref.load %w[%bx] : memref<8xf32>
      memref.store %v, %out[%bx] {sinter.gemv_column} : memref<8xf32>
    }
    gpu.terminator
  } {sinter.gemv_owner = array<i64: 1, 1, 1, 8>, sinter.kernel = "gemv stand-in"}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %x = memref.load %out[%tx] : memref<8xf32>
    memref.store %x, %y[%tx] : memref<4xf32>
    gpu.terminator
  } {sinter.kernel = "consumer stand-in"}
  return
}
