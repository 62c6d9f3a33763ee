// RUN: sinter-opt %s -sinter-bind-weights -split-input-file -verify-diagnostics | FileCheck %s
// RUN: sinter-opt %s -sinter-bind-weights=device=true -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=DEV

// An external-data weight (listed by the importer) and a pack plan's result
// (listed by the pack_weights lowering) are read through slots; their
// globals go, so their bytes are neither read nor embedded. The plan's
// sources: the external weight (loaded once, also read directly) and an
// inline constant, whose existing global is shared and exported. The
// embedded weight the forward reads directly stays as it is on the CPU.
// CHECK: module attributes {sinter.packs = [{axis = 0 : i64, pieces = [array<i64: 0, 0, 0>, array<i64: 1, 1, 2>]}],
// CHECK-SAME: sinter.weights = [
// CHECK-SAME: {bytes = 32 : i64, file = "w.bin", file_bytes = 96 : i64, name = "wa", offset = 16 : i64, slot = "sinter_weight_slot_0", type = tensor<2x4xf32>},
// CHECK-SAME: {bytes = 48 : i64, data = "sinter_weight_data_1", name = "(inline f32[4,3])", type = tensor<4x3xf32>},
// CHECK-SAME: {bytes = 80 : i64, name = "pack(wa, (inline f32[4,3]))", pack = 0 : i64, slot = "sinter_weight_slot_2", type = tensor<5x4xf32>}]
// CHECK-SAME: sinter.weights_dir = "/models/m"
// CHECK-NOT: sinter.external_data
// CHECK-NOT: sinter.pack_plans
// CHECK-DAG: llvm.mlir.global external @sinter_weight_slot_0() {{.*}}dso_local} : !llvm.ptr
// CHECK-DAG: llvm.mlir.global external @sinter_weight_slot_2() {{.*}}dso_local} : !llvm.ptr
// CHECK-DAG: llvm.mlir.global external constant @sinter_weight_data_1(dense<1.000000e+00> : tensor<4x3xf32>)
// CHECK-DAG: llvm.mlir.global private constant @__constant_bias(dense<2.000000e+00> : tensor<4xf32>)
// CHECK-NOT: @__constant_wa
// CHECK-NOT: @__constant_pack
// CHECK-LABEL: llvm.func @forward
// CHECK: %[[S0:.+]] = llvm.mlir.addressof @sinter_weight_slot_0 : !llvm.ptr
// CHECK: %[[A:.+]] = llvm.load %[[S0]] {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[S2:.+]] = llvm.mlir.addressof @sinter_weight_slot_2 : !llvm.ptr
// CHECK: %[[P:.+]] = llvm.load %[[S2]] {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[C:.+]] = llvm.mlir.addressof @sinter_weight_data_1 : !llvm.ptr
// CHECK: %[[B:.+]] = llvm.mlir.addressof @__constant_bias : !llvm.ptr
// CHECK: llvm.call @use(%[[A]], %[[P]], %[[C]], %[[B]])

// On a GPU every weight the host code passes gets a slot; the embedded
// ones keep their bytes (uploaded at load time).
// DEV: {bytes = 16 : i64, data = "sinter_weight_data_3", name = "__constant_bias", slot = "sinter_weight_slot_3", type = tensor<4xf32>}
// DEV-LABEL: llvm.func @forward
// DEV-NOT: llvm.mlir.addressof @__constant
// DEV-NOT: llvm.mlir.addressof @sinter_weight_data
// DEV: llvm.call @use
module attributes {sinter.external_data = {wa_key = {bytes = 32 : i64, file = "w.bin", file_bytes = 96 : i64, name = "wa", offset = 16 : i64}}, sinter.pack_plans = {sinter_pack = {axis = 0 : i64, offsets = array<i64: 0, 2>, sources = [dense_resource<wa_key> : tensor<2x4xf32>, dense<1.0> : tensor<4x3xf32>], transpose = array<i1: false, true>}}, sinter.weights_dir = "/models/m"} {
  llvm.mlir.global private constant @__constant_wa(dense_resource<wa_key> : tensor<2x4xf32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<2 x array<4 x f32>>
  llvm.mlir.global private constant @__constant_pack(dense_resource<sinter_pack> : tensor<5x4xf32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<5 x array<4 x f32>>
  llvm.mlir.global private constant @__constant_c(dense<1.0> : tensor<4x3xf32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<4 x array<3 x f32>>
  llvm.mlir.global private constant @__constant_bias(dense<2.0> : tensor<4xf32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<4 x f32>
  llvm.func @use(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr)
  llvm.func @forward() {
    %0 = llvm.mlir.addressof @__constant_wa : !llvm.ptr
    %1 = llvm.mlir.addressof @__constant_pack : !llvm.ptr
    %2 = llvm.mlir.addressof @__constant_c : !llvm.ptr
    %3 = llvm.mlir.addressof @__constant_bias : !llvm.ptr
    llvm.call @use(%0, %1, %2, %3) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
    llvm.return
  }
}

// -----

// An external weight the forward no longer reads (its plan made a copy) is
// only a pack source: no slot, no global.
// CHECK-LABEL: module attributes
// CHECK-SAME: {bytes = 32 : i64, file = "w.bin", file_bytes = 32 : i64, name = "wb", offset = 0 : i64, type = tensor<4x2xf32>}
// CHECK-SAME: {bytes = 32 : i64, name = "pack(wb)", pack = 0 : i64, slot = "sinter_weight_slot_1", type = tensor<2x4xf32>}
// CHECK-NOT: @__constant_wb
module attributes {sinter.external_data = {wb_key = {bytes = 32 : i64, file = "w.bin", file_bytes = 32 : i64, name = "wb", offset = 0 : i64}}, sinter.pack_plans = {p1 = {axis = 0 : i64, offsets = array<i64: 0>, sources = [dense_resource<wb_key> : tensor<4x2xf32>], transpose = array<i1: true>}}} {
  llvm.mlir.global private constant @__constant_wb(dense_resource<wb_key> : tensor<4x2xf32>) : !llvm.array<4 x array<2 x f32>>
  llvm.mlir.global private constant @__constant_p1(dense_resource<p1> : tensor<2x4xf32>) : !llvm.array<2 x array<4 x f32>>
  llvm.func @use(!llvm.ptr)
  llvm.func @forward() {
    %0 = llvm.mlir.addressof @__constant_p1 : !llvm.ptr
    llvm.call @use(%0) : (!llvm.ptr) -> ()
    llvm.return
  }
}

// -----

// A resource without data that nothing can provide at load time is an
// error naming it, not a crash in the LLVM IR translation.
module {
  // expected-error @+1 {{weight 'lost' has no data and no load-time source (external data or a weight-pack plan)}}
  llvm.mlir.global private constant @__constant_lost(dense_resource<lost> : tensor<2xf32>) : !llvm.array<2 x f32>
  llvm.func @use(!llvm.ptr)
  llvm.func @forward() {
    %0 = llvm.mlir.addressof @__constant_lost : !llvm.ptr
    llvm.call @use(%0) : (!llvm.ptr) -> ()
    llvm.return
  }
}

// -----

// Kernel workspaces (the CUDA templates' scratch, listed in
// sinter.workspaces by zeroWorkspace) are not weights: they move into the
// forward's arena (its last argument), after the memory plan's 1000 bytes,
// each 256-byte aligned: ws_a (400 bytes) at 1024 and ws_b at 1536, its own
// memory though its type and value equal ws_a's. The arena grows to 2048;
// no slot, no table entry, no global is left.
// CHECK-LABEL: module attributes {sinter.arena_bytes = 2048 : i64, sinter.workspace_bytes = 1048 : i64} {
// CHECK-NOT: @ws_
// CHECK: llvm.func @forward(%{{.+}}: !llvm.ptr, %[[ARENA:.+]]: !llvm.ptr) attributes {sinter.arena_bytes = 2048 : i64}
// CHECK: %[[OA:.+]] = llvm.mlir.constant(1024 : i64) : i64
// CHECK: %[[A:.+]] = llvm.getelementptr %[[ARENA]][%[[OA]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: %[[OB:.+]] = llvm.mlir.constant(1536 : i64) : i64
// CHECK: %[[B:.+]] = llvm.getelementptr %[[ARENA]][%[[OB]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: %[[A2:.+]] = llvm.getelementptr %[[ARENA]][%{{.+}}]
// CHECK: llvm.call @use3(%{{.+}}, %[[A]], %[[B]], %[[A2]])
// DEV-LABEL: module attributes {sinter.arena_bytes = 2048 : i64, sinter.workspace_bytes = 1048 : i64} {
// DEV-NOT: sinter_weight
// DEV-NOT: @ws_
module attributes {sinter.workspaces = ["ws_a", "ws_b"]} {
  llvm.mlir.global private constant @ws_a(dense<0.0> : tensor<100xf32>) {addr_space = 0 : i32, alignment = 256 : i64} : !llvm.array<100 x f32>
  llvm.mlir.global private constant @ws_b(dense<0.0> : tensor<100xf32>) {addr_space = 0 : i32, alignment = 256 : i64} : !llvm.array<100 x f32>
  llvm.func @use3(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr)
  llvm.func @forward(%in: !llvm.ptr, %arena: !llvm.ptr) attributes {sinter.arena_bytes = 1000 : i64} {
    %0 = llvm.mlir.addressof @ws_a : !llvm.ptr
    %1 = llvm.mlir.addressof @ws_b : !llvm.ptr
    %2 = llvm.mlir.addressof @ws_a : !llvm.ptr
    llvm.call @use3(%in, %0, %1, %2) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
    llvm.return
  }
}

// -----

// A workspace is reachable only through the forward's arena argument.
module attributes {sinter.workspaces = ["ws"]} {
  llvm.mlir.global private constant @ws(dense<0.0> : tensor<4xf32>) : !llvm.array<4 x f32>
  llvm.func @use(!llvm.ptr)
  llvm.func @helper() {
    // expected-error @+1 {{kernel workspace 'ws' is used outside the forward 'forward', whose last argument is the arena it lives in}}
    %0 = llvm.mlir.addressof @ws : !llvm.ptr
    llvm.call @use(%0) : (!llvm.ptr) -> ()
    llvm.return
  }
  llvm.func @forward(%arena: !llvm.ptr) attributes {sinter.arena_bytes = 64 : i64} {
    llvm.return
  }
}

// -----

module attributes {sinter.workspaces = ["ws"]} {
  // expected-error @+1 {{kernel workspace 'ws' needs the forward's arena, but no function has sinter.arena_bytes (the memory plan did not run)}}
  llvm.mlir.global private constant @ws(dense<0.0> : tensor<4xf32>) : !llvm.array<4 x f32>
  llvm.func @use(!llvm.ptr)
  llvm.func @forward() {
    %0 = llvm.mlir.addressof @ws : !llvm.ptr
    llvm.call @use(%0) : (!llvm.ptr) -> ()
    llvm.return
  }
}
