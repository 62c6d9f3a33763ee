// RUN: sinter-opt %s --split-input-file --sinter-cuda-grid-dependency | FileCheck %s
// RUN: sinter-opt %s --split-input-file --sinter-cuda-grid-dependency=early-trigger=true | FileCheck %s --check-prefix=EARLY
// RUN: sinter-opt %s --split-input-file --sinter-cuda-grid-dependency=weights-first=true | FileCheck %s --check-prefix=WEIGHTS
// RUN: sinter-opt %s --split-input-file --sinter-cuda-grid-dependency="weights-first=true late-trigger=true" | FileCheck %s --check-prefix=LATE
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

// -----

// weights-first: a kernel argument that every launch binds to a constant
// global is written by no kernel, so the kernel's leading ops that only
// compute and read it stay above the wait (here the load of %w), which
// goes before the first op that reads anything else. The first kernel a
// function launches (@first) keeps its wait first: the stream's operation
// before it may be the load-time kernel that packed the weights. An
// argument bound to a constant at one launch and to an arena buffer at
// another (@mixed's %w) is not a weight. late-trigger: launch_dependents
// after the last top-level op that reads a weight (the loop), or after the
// wait when every weight read came before it (@all_before).
// WEIGHTS-LABEL: gpu.func @first
// WEIGHTS-NEXT: llvm.inline_asm has_side_effects "griddepcontrol.wait;"
// WEIGHTS-LABEL: gpu.func @gemv
// WEIGHTS-NEXT: gpu.thread_id x
// WEIGHTS-NEXT: memref.load %arg0
// WEIGHTS-NEXT: llvm.inline_asm has_side_effects "griddepcontrol.wait;"
// WEIGHTS-NEXT: memref.load %arg1
// WEIGHTS: scf.for
// WEIGHTS-NOT: launch_dependents
// WEIGHTS-LABEL: gpu.func @mixed
// WEIGHTS-NEXT: llvm.inline_asm has_side_effects "griddepcontrol.wait;"
// WEIGHTS-LABEL: gpu.func @all_before
// WEIGHTS-NEXT: gpu.thread_id x
// WEIGHTS-NEXT: memref.load %arg0
// WEIGHTS-NEXT: llvm.inline_asm has_side_effects "griddepcontrol.wait;"
// LATE-LABEL: gpu.func @first
// LATE-NOT: launch_dependents
// LATE-LABEL: gpu.func @gemv
// LATE: llvm.inline_asm has_side_effects "griddepcontrol.wait;"
// LATE: scf.for
// LATE: scf.yield
// LATE-NEXT: }
// LATE-NEXT: llvm.inline_asm has_side_effects "griddepcontrol.launch_dependents;"
// LATE-NEXT: memref.store
// LATE-LABEL: gpu.func @mixed
// LATE-NOT: launch_dependents
// LATE-LABEL: gpu.func @all_before
// LATE: memref.load %arg0
// LATE-NEXT: llvm.inline_asm has_side_effects "griddepcontrol.wait;"
// LATE-NEXT: llvm.inline_asm has_side_effects "griddepcontrol.launch_dependents;"
// LATE-NEXT: memref.load %arg1
module attributes {gpu.container_module} {
  memref.global "private" constant @w : memref<64xf32> = dense<1.0>
  memref.global "private" @state : memref<64xf32> = dense<0.0>
  func.func @forward(%x: memref<64xf32>, %y: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %w = memref.get_global @w : memref<64xf32>
    %s = memref.get_global @state : memref<64xf32>
    gpu.launch_func @k::@first blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%w : memref<64xf32>, %x : memref<64xf32>)
    gpu.launch_func @k::@gemv blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%w : memref<64xf32>, %x : memref<64xf32>, %y : memref<64xf32>)
    gpu.launch_func @k::@mixed blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%w : memref<64xf32>, %x : memref<64xf32>)
    gpu.launch_func @k::@mixed blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%s : memref<64xf32>, %x : memref<64xf32>)
    gpu.launch_func @k::@all_before blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%w : memref<64xf32>, %x : memref<64xf32>)
    return
  }
  gpu.module @k {
    gpu.func @first(%w: memref<64xf32>, %x: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %v = memref.load %w[%i] : memref<64xf32>
      memref.store %v, %x[%i] : memref<64xf32>
      gpu.return
    }
    gpu.func @gemv(%w: memref<64xf32>, %x: memref<64xf32>, %y: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %w0 = memref.load %w[%i] : memref<64xf32>
      %x0 = memref.load %x[%i] : memref<64xf32>
      %c0 = arith.constant 0 : index
      %c8 = arith.constant 8 : index
      %c64 = arith.constant 64 : index
      %p0 = arith.mulf %w0, %x0 : f32
      %acc = scf.for %k = %c8 to %c64 step %c8 iter_args(%a = %p0) -> (f32) {
        %wk = memref.load %w[%k] : memref<64xf32>
        %xk = memref.load %x[%k] : memref<64xf32>
        %p = arith.mulf %wk, %xk : f32
        %s = arith.addf %a, %p : f32
        scf.yield %s : f32
      }
      memref.store %acc, %y[%i] : memref<64xf32>
      gpu.return
    }
    gpu.func @mixed(%w: memref<64xf32>, %x: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %v = memref.load %w[%i] : memref<64xf32>
      memref.store %v, %x[%i] : memref<64xf32>
      gpu.return
    }
    gpu.func @all_before(%w: memref<64xf32>, %x: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %v = memref.load %w[%i] : memref<64xf32>
      %u = memref.load %x[%i] : memref<64xf32>
      %s = arith.addf %u, %v : f32
      memref.store %s, %x[%i] : memref<64xf32>
      gpu.return
    }
  }
}
