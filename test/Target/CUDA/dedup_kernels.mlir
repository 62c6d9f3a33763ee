// RUN: sinter-opt %s --sinter-cuda-dedup-kernels | FileCheck %s
// sinter-cuda-dedup-kernels: kernels with identical bodies (two layers of
// the same kind) become one and both launches use it; a kernel that differs
// in a constant stays.

// CHECK-LABEL: gpu.module @sinter_kernels
// CHECK: gpu.func @scale_a
// CHECK-NOT: gpu.func @scale_b
// CHECK: gpu.func @scale_c
// CHECK-NOT: gpu.func @scale_b
// CHECK-LABEL: func.func @forward
// CHECK: gpu.launch_func @sinter_kernels::@scale_a {{.*}} args(%[[X:.+]] : memref<4xf32>)
// CHECK: gpu.launch_func @sinter_kernels::@scale_a {{.*}} args(%[[Y:.+]] : memref<4xf32>)
// CHECK: gpu.launch_func @sinter_kernels::@scale_c
module attributes {gpu.container_module} {
  gpu.module @sinter_kernels {
    gpu.func @scale_a(%m: memref<4xf32>) kernel {
      %i = gpu.thread_id x
      %v = memref.load %m[%i] : memref<4xf32>
      %c = arith.constant 2.0 : f32
      %r = arith.mulf %v, %c : f32
      memref.store %r, %m[%i] : memref<4xf32>
      gpu.return
    }
    gpu.func @scale_b(%m: memref<4xf32>) kernel {
      %i = gpu.thread_id x
      %v = memref.load %m[%i] : memref<4xf32>
      %c = arith.constant 2.0 : f32
      %r = arith.mulf %v, %c : f32
      memref.store %r, %m[%i] : memref<4xf32>
      gpu.return
    }
    gpu.func @scale_c(%m: memref<4xf32>) kernel {
      %i = gpu.thread_id x
      %v = memref.load %m[%i] : memref<4xf32>
      %c = arith.constant 3.0 : f32
      %r = arith.mulf %v, %c : f32
      memref.store %r, %m[%i] : memref<4xf32>
      gpu.return
    }
  }
  func.func @forward(%x: memref<4xf32>, %y: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    gpu.launch_func @sinter_kernels::@scale_a blocks in (%c1, %c1, %c1) threads in (%c4, %c1, %c1) args(%x : memref<4xf32>)
    gpu.launch_func @sinter_kernels::@scale_b blocks in (%c1, %c1, %c1) threads in (%c4, %c1, %c1) args(%y : memref<4xf32>)
    gpu.launch_func @sinter_kernels::@scale_c blocks in (%c1, %c1, %c1) threads in (%c4, %c1, %c1) args(%y : memref<4xf32>)
    return
  }
}
