// RUN: sinter-opt %s --split-input-file --pass-pipeline='builtin.module(sinter-outline-loops{min-loops=2})' | FileCheck %s
// RUN: sinter-opt %s --split-input-file --pass-pipeline='builtin.module(sinter-outline-loops{min-loops=3})' | FileCheck %s --check-prefix=FEW

// Two loop nests reach min-loops: each becomes a noinline internal function
// of its captured memrefs; the constants are cloned in, not passed.
// CHECK-LABEL: func.func @sinter_forward(
// CHECK-SAME:    %[[A:[^:]+]]: memref<4xf32>, %[[B:[^:]+]]: memref<4xf32>
// CHECK-NEXT:    call @sinter_forward_loop_0(%[[A]]) : (memref<4xf32>) -> ()
// CHECK-NEXT:    call @sinter_forward_loop_1(%[[A]], %[[B]]) : (memref<4xf32>, memref<4xf32>) -> ()
// CHECK-NEXT:    return
// CHECK:       func.func private @sinter_forward_loop_1(
// CHECK-SAME:    llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]
// CHECK:         arith.constant 4 : index
// CHECK:         scf.for
// CHECK:       func.func private @sinter_forward_loop_0(
// CHECK:         scf.for
// FEW-LABEL:   func.func @sinter_forward(
// FEW-NOT:       call
// FEW-COUNT-2:   scf.for
func.func @sinter_forward(%a: memref<4xf32>, %b: memref<4xf32>) attributes {sinter.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %one, %a[%i] : memref<4xf32>
  }
  scf.for %i = %c0 to %c4 step %c1 {
    %v = memref.load %a[%i] : memref<4xf32>
    memref.store %v, %b[%i] : memref<4xf32>
  }
  return
}

// -----

// A view with a dynamic offset cannot be a bare pointer: the subview is
// rebuilt inside from its source and the offset, which are passed. A
// loop over a dynamic-layout memref that is no view (here an argument)
// stays in the entry.
// CHECK-LABEL: func.func @sinter_forward(
// CHECK-SAME:    %[[S:[^:]+]]: memref<8xf32>, %[[O:[^:]+]]: index, %[[D:[^:]+]]: memref<4xf32, strided<[1], offset: ?>>
// CHECK-NOT:     memref.subview
// CHECK:         call @sinter_forward_loop_0(%[[S]], %[[O]]) : (memref<8xf32>, index) -> ()
// CHECK-NEXT:    scf.for
// CHECK:       func.func private @sinter_forward_loop_0(%[[S2:[^:]+]]: memref<8xf32>, %[[O2:[^:]+]]: index)
// CHECK:         memref.subview %[[S2]][%[[O2]]] [4] [1]
// CHECK:         scf.for
func.func @sinter_forward(%src: memref<8xf32>, %off: index,
                          %dyn: memref<4xf32, strided<[1], offset: ?>>) attributes {sinter.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  %view = memref.subview %src[%off] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1], offset: ?>>
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %one, %view[%i] : memref<4xf32, strided<[1], offset: ?>>
  }
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %one, %dyn[%i] : memref<4xf32, strided<[1], offset: ?>>
  }
  return
}
