// RUN: sinter-opt %s --split-input-file --sinter-cuda-merge-launches | FileCheck %s
// sinter-cuda-merge-launches: consecutive generic launches (no
// sinter.kernel) with static 1-D grids of equal 1-D blocks that share no
// byte one writes and the other touches become one launch: blocks
// [0, G1) run the first body, the rest the second one as block b - G1
// (grid and block sizes inside a body are its own). Views between them
// move above.

// Three independent launches (bench8's start: a copy, a gather, a mask)
// become one of 1 + 8 + 2 blocks (the first two merged first, then that
// one with the third).
// CHECK-LABEL: func.func @three(
// CHECK:       memref.subview
// CHECK:       %[[G:.+]] = arith.constant 11 : index
// CHECK:       gpu.launch blocks(%[[B:[a-z0-9]+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[G]],
// CHECK:         %[[C9:.+]] = arith.constant 9 : index
// CHECK:         arith.cmpi ult, %[[B]], %[[C9]]
// CHECK:           arith.cmpi ult, %[[B]], %{{.+}}
// CHECK:             memref.store %{{.+}}, %arg1[
// CHECK:           } else {
// CHECK:             arith.subi %[[B]], %{{.+}}
// CHECK:             memref.store %{{.+}}, %arg2[
// CHECK:         } else {
// CHECK:           arith.subi %[[B]], %{{.+}}
// CHECK:           memref.store %{{.+}}, %subview[
// CHECK:       } {sinter.merged_launches = 3 : i64}
// CHECK-NOT:   gpu.launch
// CHECK:       return
func.func @three(%x: memref<4xf32> {llvm.noalias}, %a: memref<4xf32> {llvm.noalias},
                 %b: memref<2048xf32> {llvm.noalias}, %c: memref<2x512xi1> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %c4 = arith.constant 4 : index
    %in = arith.cmpi ult, %tx, %c4 : index
    scf.if %in {
      %v = memref.load %x[%tx] : memref<4xf32>
      memref.store %v, %a[%tx] : memref<4xf32>
    }
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c8, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %p0 = arith.muli %bx, %sx : index
    %p = arith.addi %p0, %tx : index
    %f = arith.constant 1.0 : f32
    memref.store %f, %b[%p] : memref<2048xf32>
    gpu.terminator
  }
  %row = memref.subview %c[1, 0] [1, 512] [1, 1] : memref<2x512xi1> to memref<512xi1, strided<[1], offset: 512>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %p0 = arith.muli %bx, %sx : index
    %p = arith.addi %p0, %tx : index
    %t = arith.constant true
    memref.store %t, %row[%p] : memref<512xi1, strided<[1], offset: 512>>
    gpu.terminator
  }
  return
}

// -----

// The second reads what the first writes; a template's launch
// (sinter.kernel) reading what the one before writes and a launch of other
// block size are not merged either.
// CHECK-LABEL: func.func @dependent
// CHECK-COUNT-4: gpu.launch
// CHECK-NOT:   sinter.merged_launches
func.func @dependent(%x: memref<256xf32> {llvm.noalias}, %a: memref<256xf32> {llvm.noalias},
                     %b: memref<256xf32> {llvm.noalias}, %d: memref<256xf32> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %a[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %a[%tx] : memref<256xf32>
    memref.store %v, %b[%tx] : memref<256xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %v = memref.load %b[%tx] : memref<256xf32>
    memref.store %v, %d[%tx] : memref<256xf32>
    gpu.terminator
  } {sinter.kernel = "a template"}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<256xf32>
    memref.store %v, %x[%tx] : memref<256xf32>
    gpu.terminator
  }
  return
}

// -----

// A generic launch before a template's launch that shares no buffer with
// it: its blocks are appended to the template's (grid 4 + 2), which runs
// as before in blocks 0..3 (its own grid size now the constant 4), the
// generic body in blocks 4..5 as blocks 0..1, in threads below its 64.
// CHECK-LABEL: func.func @into_template
// CHECK:       %[[G:.+]] = arith.constant 6 : index
// CHECK:       gpu.launch blocks(%[[B:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[G]],
// CHECK-SAME:    threads(%[[T:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c128
// CHECK:         %[[C4:.+]] = arith.constant 4 : index
// CHECK:         %[[MINE:.+]] = arith.cmpi ult, %[[B]], %[[C4]]
// CHECK:         scf.if %[[MINE]] {
// CHECK:           gpu.barrier
// CHECK:           arith.muli %[[B]], %[[C4]]
// CHECK:           memref.store {{.*}} %[[D:.+]][
// CHECK:         } else {
// CHECK:           arith.cmpi ult, %[[T]], %c64
// CHECK:           arith.subi %[[B]], %[[C4]]
// CHECK:           memref.store {{.*}} %[[A:.+]][
// CHECK:         }
// CHECK:       } {sinter.kernel = "a template", sinter.merged_launches = 2 : i64}
// CHECK-NOT:   gpu.launch
func.func @into_template(%x: memref<128xf32> {llvm.noalias}, %a: memref<128xf32> {llvm.noalias},
                         %y: memref<512xf32> {llvm.noalias}, %d: memref<512xf32> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %i0 = arith.muli %bx, %sx : index
    %i = arith.addi %i0, %tx : index
    %v = memref.load %x[%i] : memref<128xf32>
    memref.store %v, %a[%i] : memref<128xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    gpu.barrier
    %i0 = arith.muli %bx, %gx : index
    %i1 = arith.muli %tx, %c4 : index
    %i = arith.addi %i0, %i1 : index
    %v = memref.load %y[%i] : memref<512xf32>
    memref.store %v, %d[%i] : memref<512xf32>
    gpu.terminator
  } {sinter.kernel = "a template"}
  return
}

// -----

// The template's blocks are narrower than the generic launch's: not
// merged.
// CHECK-LABEL: func.func @template_too_narrow
// CHECK-COUNT-2: gpu.launch
// CHECK-NOT:   sinter.merged_launches
func.func @template_too_narrow(%x: memref<128xf32> {llvm.noalias}, %a: memref<128xf32> {llvm.noalias},
                               %y: memref<512xf32> {llvm.noalias}, %d: memref<512xf32> {llvm.noalias}) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<128xf32>
    memref.store %v, %a[%tx] : memref<128xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %v = memref.load %y[%tx] : memref<512xf32>
    memref.store %v, %d[%tx] : memref<512xf32>
    gpu.terminator
  } {sinter.kernel = "a template"}
  return
}
