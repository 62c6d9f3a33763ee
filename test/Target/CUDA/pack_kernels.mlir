// RUN: sinter-opt %s --sinter-cuda-pack-kernels --split-input-file --verify-diagnostics | FileCheck %s --enable-var-scope

// Plans that transpose bf16 and f32 sources get one kernel per element
// size, in the module of the forward's kernels; a copied source (i8 here)
// needs none: the runtime copies it with cuMemcpy2D.
// CHECK-LABEL: gpu.module @sinter_kernels
// CHECK: gpu.func @sinter_forward_kernel
// CHECK-LABEL: gpu.func @sinter_pack_transpose_2(
// CHECK-SAME: %[[DST:.+]]: !llvm.ptr<1>, %[[SRC:.+]]: !llvm.ptr<1>, %[[ROWS:.+]]: i64, %[[COLS:.+]]: i64, %[[LD:.+]]: i64)
// CHECK-SAME: workgroup(%[[TILE:.+]] : memref<32x33xi16, #gpu.address_space<workgroup>>)
// CHECK-SAME: kernel
// CHECK-SAME: known_block_size = array<i32: 32, 8, 1>
// CHECK: scf.for
// CHECK: %[[V:.+]] = llvm.load %{{.+}} : !llvm.ptr<1> -> i16
// CHECK: memref.store %[[V]], %[[TILE]]
// CHECK: gpu.barrier
// CHECK: %[[T:.+]] = memref.load %[[TILE]]
// CHECK: llvm.store %[[T]], %{{.+}} : i16, !llvm.ptr<1>
// CHECK: gpu.barrier
// CHECK: gpu.return
// CHECK-LABEL: gpu.func @sinter_pack_transpose_4(
// CHECK-SAME: memref<32x33xi32, #gpu.address_space<workgroup>>
// CHECK-NOT: sinter_pack_transpose_1
module attributes {gpu.container_module, sinter.pack_plans = {
    sinter_pack = {axis = 0 : i64, offsets = array<i64: 0, 3>, sources = [dense<1.0> : tensor<6x3xbf16>, dense<2.0> : tensor<2x6xbf16>], transpose = array<i1: true, false>},
    sinter_pack_1 = {axis = 1 : i64, offsets = array<i64: 0>, sources = [dense<1.0> : tensor<4x3xf32>], transpose = array<i1: true>},
    sinter_pack_2 = {axis = 0 : i64, offsets = array<i64: 0>, sources = [dense<1> : tensor<4x3xi8>], transpose = array<i1: false>}}} {
  gpu.module @sinter_kernels {
    gpu.func @sinter_forward_kernel() kernel {
      gpu.return
    }
  }
}

// -----

// Only copies: no kernel, and no module of kernels is made for none.
// CHECK-LABEL: module attributes {sinter.pack_plans
// CHECK-NOT: gpu.module
// CHECK-NOT: gpu.func
module attributes {sinter.pack_plans = {
    sinter_pack = {axis = 1 : i64, offsets = array<i64: 0, 3>, sources = [dense<1.0> : tensor<4x3xf32>, dense<2.0> : tensor<4x2xf32>], transpose = array<i1: false, false>}}} {
}

// -----

// A forward without kernels: the module of kernels is made (a container
// module, so that it is compiled and loaded like any other).
// CHECK-LABEL: module attributes {gpu.container_module
// CHECK: gpu.module @sinter_kernels
// CHECK: gpu.func @sinter_pack_transpose_1(
// CHECK-SAME: memref<32x33xi8, #gpu.address_space<workgroup>>
// CHECK: gpu.func @sinter_pack_transpose_8(
// CHECK-SAME: memref<32x33xi64, #gpu.address_space<workgroup>>
module attributes {sinter.pack_plans = {
    sinter_pack = {axis = 0 : i64, offsets = array<i64: 0>, sources = [dense<1.0> : tensor<4x3xf64>], transpose = array<i1: true>},
    sinter_pack_1 = {axis = 0 : i64, offsets = array<i64: 0>, sources = [dense<true> : tensor<4x3xi1>], transpose = array<i1: true>}}} {
}

// -----

// Elements the kernels cannot move are refused, naming the plan.
// expected-error @below {{weight-pack plan 'sinter_pack' transposes 'i128' elements (16 bytes); the CUDA target's pack kernels move 1, 2, 4 or 8 bytes}}
module attributes {sinter.pack_plans = {
    sinter_pack = {axis = 0 : i64, offsets = array<i64: 0>, sources = [dense<1> : tensor<4x3xi128>], transpose = array<i1: true>}}} {
}

// -----

// expected-error @below {{weight-pack plan 'sinter_pack' is malformed (no sources, or not one transpose flag per source)}}
module attributes {sinter.pack_plans = {
    sinter_pack = {axis = 0 : i64, offsets = array<i64: 0>, sources = [dense<1.0> : tensor<4x3xf32>], transpose = array<i1: true, false>}}} {
}
