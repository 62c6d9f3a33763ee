// RUN: sinter-opt %s --split-input-file --sinter-cuda-map-loops=iterations-per-thread=4 | FileCheck %s --enable-var-scope
// RUN: sinter-opt %s --split-input-file --sinter-cuda-map-loops | FileCheck %s --check-prefix=OFF
// The generic mapping (sinter-cuda-map-loops, lib/Target/CUDA/CUDATarget.cpp)
// with iterations-per-thread=4 (off by default; without the option, one iteration per
// thread everywhere): from 2^20 iterations on, when 256 x 4 divides the count and the body is
// straight-line with its loads before its first store, each thread runs 4
// iterations 256 apart, the 4 copies' loads first, then their arithmetic
// and stores; the grid divides exactly (no guard).

// [512, 8192] bf16 -> f32 (the prefill's GatedDeltaNet conversions):
// 4194304 iterations, 4096 blocks of 256 threads.
// CHECK-LABEL: func.func @extf_coarsened
// OFF-LABEL: func.func @extf_coarsened
// OFF: scf.if
// OFF-COUNT-1: memref.store
// OFF-NOT: memref.store
// CHECK-DAG: %[[C4096:.+]] = arith.constant 4096 : index
// CHECK-DAG: %[[C256:.+]] = arith.constant 256 : index
// CHECK: gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in ({{.*}} = %[[C4096]], {{.*}}) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in ({{.*}} = %[[C256]],
// CHECK-NOT: scf.if
// CHECK: memref.load
// CHECK: memref.load
// CHECK: memref.load
// CHECK: memref.load
// CHECK-NOT: memref.load
// CHECK: arith.extf
// CHECK: memref.store
// CHECK: arith.extf
// CHECK: memref.store
// CHECK: arith.extf
// CHECK: memref.store
// CHECK: arith.extf
// CHECK: memref.store
// CHECK-NOT: memref.store
// CHECK: gpu.terminator
func.func @extf_coarsened(%x: memref<512x8192xbf16>, %y: memref<512x8192xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c512 = arith.constant 512 : index
  %c8192 = arith.constant 8192 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c512, %c8192) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<512x8192xbf16>
    %e = arith.extf %v : bf16 to f32
    memref.store %e, %y[%i, %j] : memref<512x8192xf32>
    scf.reduce
  }
  return
}

// -----

// A fill: no loads, 4 stores per thread.
// CHECK-LABEL: func.func @fill_coarsened
// OFF-LABEL: func.func @fill_coarsened
// OFF: scf.if
// CHECK-DAG: %[[C8192:.+]] = arith.constant 8192 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C8192]],
// CHECK-COUNT-4: memref.store
// CHECK-NOT: memref.store
// CHECK: gpu.terminator
func.func @fill_coarsened(%y: memref<512x8x2048xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c512 = arith.constant 512 : index
  %c2048 = arith.constant 2048 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c512, %c8, %c2048) step (%c1, %c1, %c1) {
    memref.store %zero, %y[%i, %j, %k] : memref<512x8x2048xf32>
    scf.reduce
  }
  return
}

// -----

// Below 2^20 iterations (decode's loops): one iteration per thread, guarded.
// CHECK-LABEL: func.func @small_kept
// CHECK: arith.ceildivui
// CHECK: gpu.launch
// CHECK: scf.if
// CHECK-COUNT-1: memref.store
// CHECK-NOT: memref.store
func.func @small_kept(%y: memref<512x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c512 = arith.constant 512 : index
  %c1024 = arith.constant 1024 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c512, %c1024) step (%c1, %c1) {
    memref.store %zero, %y[%i, %j] : memref<512x1024xf32>
    scf.reduce
  }
  return
}

// -----

// A load after a store (a read-modify-write chain): another iteration's
// load must not move above this store; not coarsened.
// CHECK-LABEL: func.func @load_after_store
// CHECK: scf.if
// CHECK-COUNT-1: memref.store
func.func @load_after_store(%x: memref<1024x1024xf32>, %y: memref<1024x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1024 = arith.constant 1024 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c1024, %c1024) step (%c1, %c1) {
    memref.store %zero, %y[%i, %j] : memref<1024x1024xf32>
    %v = memref.load %x[%i, %j] : memref<1024x1024xf32>
    memref.store %v, %y[%i, %j] : memref<1024x1024xf32>
    scf.reduce
  }
  return
}

// -----

// A reduction loop inside the body (not straight-line): not coarsened.
// CHECK-LABEL: func.func @nested_loop_kept
// CHECK: scf.if
// CHECK: scf.for
func.func @nested_loop_kept(%x: memref<1024x1024x8xf32>, %y: memref<1024x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c1024 = arith.constant 1024 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c1024, %c1024) step (%c1, %c1) {
    scf.for %k = %c0 to %c8 step %c1 {
      %v = memref.load %x[%i, %j, %k] : memref<1024x1024x8xf32>
      %o = memref.load %y[%i, %j] : memref<1024x1024xf32>
      %s = arith.addf %v, %o : f32
      memref.store %s, %y[%i, %j] : memref<1024x1024xf32>
    }
    scf.reduce
  }
  return
}
