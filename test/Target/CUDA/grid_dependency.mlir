// RUN: sinter-opt %s --split-input-file --sinter-cuda-grid-dependency | FileCheck %s
// RUN: sinter-opt %s --split-input-file --sinter-cuda-grid-dependency=early-trigger=true | FileCheck %s --check-prefix=EARLY
// sinter-cuda-grid-dependency: every kernel starts with griddepcontrol.wait
// (with early-trigger, also griddepcontrol.launch_dependents), ahead of its
// first memory access, as inline PTX with a memory clobber (nothing may be
// scheduled above it);
// a gpu.func that is not a kernel is left alone; the module is marked for
// the runtime (SinterModel launch_flags).

// CHECK: module attributes {gpu.container_module, sinter.programmatic_launch}
// CHECK-LABEL: gpu.func @scale
// CHECK-NEXT: llvm.inline_asm has_side_effects "griddepcontrol.wait;", "~{memory}"  : () -> ()
// EARLY: llvm.inline_asm has_side_effects "griddepcontrol.wait;\0A\09griddepcontrol.launch_dependents;", "~{memory}"  : () -> ()
// CHECK-NEXT: gpu.thread_id x
// CHECK-NEXT: memref.load
// CHECK-LABEL: gpu.func @helper
// CHECK-NOT: griddepcontrol
// CHECK: gpu.return
module attributes {gpu.container_module} {
  gpu.module @sinter_kernels {
    gpu.func @scale(%m: memref<4xf32>) kernel {
      %i = gpu.thread_id x
      %v = memref.load %m[%i] : memref<4xf32>
      %c = arith.constant 2.0 : f32
      %r = arith.mulf %v, %c : f32
      memref.store %r, %m[%i] : memref<4xf32>
      gpu.return
    }
    gpu.func @helper(%x: f32) -> f32 {
      gpu.return %x : f32
    }
  }
}

// -----

// A module without kernels is not marked.
// CHECK-LABEL: module attributes {gpu.container_module} {
// CHECK-NOT: sinter.programmatic_launch
// CHECK: gpu.func @only_helper
module attributes {gpu.container_module} {
  gpu.module @sinter_kernels {
    gpu.func @only_helper(%x: f32) -> f32 {
      gpu.return %x : f32
    }
  }
}
