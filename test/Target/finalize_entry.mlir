// RUN: sinter-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(sinter-finalize-entry))' | FileCheck %s

// The compiler's own argument attributes go, llvm.* ones stay, and every
// memref argument of the entry gets llvm.noalias.
// CHECK-LABEL: func.func @sinter_forward(
// CHECK-SAME:    %{{.+}}: memref<2xf32> {llvm.noalias},
// CHECK-SAME:    %{{.+}}: memref<2xf32> {llvm.align = 64 : i64, llvm.noalias},
// CHECK-SAME:    %{{.+}}: memref<64xi8> {llvm.noalias})
func.func @sinter_forward(%x: memref<2xf32> {sinter.name = "x"}, %y: memref<2xf32> {sinter.name = "y", llvm.align = 64 : i64}, %arena: memref<64xi8> {sinter.arena}) attributes {sinter.entry} {
  return
}

// -----

// Other functions are left alone.
// CHECK-LABEL: func.func @other(
// CHECK-SAME:    %{{.+}}: memref<2xf32> {sinter.name = "x"})
func.func @other(%x: memref<2xf32> {sinter.name = "x"}) {
  return
}

// -----

// A donated output is its input's buffer at run time: no noalias on it.
// CHECK-LABEL: func.func @donated(
// CHECK-SAME:    %{{.+}}: memref<2xf32> {llvm.noalias},
// CHECK-SAME:    %{{.+}}: memref<2xf32>,
// CHECK-SAME:    %{{.+}}: memref<64xi8> {llvm.noalias})
func.func @donated(%s: memref<2xf32> {sinter.name = "state_in", sinter.donate_to = 0 : i64}, %o: memref<2xf32> {sinter.name = "state_out", sinter.donated_from = 0 : i64}, %arena: memref<64xi8> {sinter.arena}) attributes {sinter.entry} {
  return
}
