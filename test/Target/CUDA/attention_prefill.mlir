// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=gpu-arch=sm_90a | FileCheck %s --enable-var-scope
// The prompt attention's products (lib/Target/CUDA/AttentionPrefill.cpp):
// batched contractions become 64 x 64 output tiles staged through shared
// memory, the body cloned per output in reduction order.

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
#v = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// Scores q . k over grouped heads (4 query heads, 2 kv heads), both scaled
// in the body: both operands are read k fastest (their innermost index is
// the reduction); a block per (64 x 64 tile, head).
// CHECK-LABEL: func.func @scores
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}, {{.*}} = %c2{{.*}}, {{.*}} = %c4{{.*}}) threads
// CHECK-SAME: workgroup(%[[A:.+]] : memref<16x65xf32, #gpu.address_space<workgroup>>, %[[B:.+]] : memref<16x65xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for
// CHECK: memref.store %{{.+}}, %[[A]]
// CHECK: memref.store %{{.+}}, %[[B]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK-COUNT-16: arith.addf
// CHECK: gpu.barrier
// CHECK: sinter.kernel = "batched-contraction batch=4 m=128 n=128 k=32 tile=64x64x16 threads=256 a_k_fast=1 b_k_fast=1"
// CHECK-NOT: linalg.generic
func.func @scores(%q: memref<1x4x128x32xf32>, %kc: memref<1x2x128x32xf32>, %s: memref<1x4x128x128xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  %scale = arith.constant 0.420448214 : f32
  linalg.fill ins(%cst : f32) outs(%s : memref<1x4x128x128xf32>)
  linalg.generic {indexing_maps = [#q, #k, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kc : memref<1x4x128x32xf32>, memref<1x2x128x32xf32>) outs(%s : memref<1x4x128x128xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %0 = arith.mulf %in, %scale : f32
    %1 = arith.mulf %in_0, %scale : f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

#p = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#v = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// Probabilities times values: the values are read along their rows (the
// output column is their innermost index).
// CHECK-LABEL: func.func @probs_values
// CHECK: sinter.kernel = "batched-contraction batch=4 m=128 n=64 k=128 tile=64x64x16 threads=256 a_k_fast=1 b_k_fast=0"
// CHECK-NOT: linalg.generic
func.func @probs_values(%p: memref<1x4x128x128xf32>, %vc: memref<1x2x128x64xf32>, %o: memref<1x4x128x64xf32>) {
  linalg.generic {indexing_maps = [#p, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vc : memref<1x4x128x128xf32>, memref<1x2x128x64xf32>) outs(%o : memref<1x4x128x64xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %2 = arith.mulf %in, %in_0 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#w = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// An f32 linear: the weight is shared by every row, not a batched
// contraction; left alone (the generic mapping).
// CHECK-LABEL: func.func @linear
// CHECK-NOT: batched-contraction
// CHECK: linalg.generic
func.func @linear(%x: memref<2x128x64xf32>, %w: memref<128x64xf32>, %y: memref<2x128x128xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<2x128x64xf32>, memref<128x64xf32>) outs(%y : memref<2x128x128xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %2 = arith.mulf %in, %in_0 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// 100 query rows: not a multiple of the 64-row tile; left alone.
// CHECK-LABEL: func.func @ragged
// CHECK-NOT: batched-contraction
// CHECK: linalg.generic
func.func @ragged(%q: memref<1x4x100x32xf32>, %kc: memref<1x4x128x32xf32>, %s: memref<1x4x100x128xf32>) {
  linalg.generic {indexing_maps = [#q, #k, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kc : memref<1x4x100x32xf32>, memref<1x4x128x32xf32>) outs(%s : memref<1x4x100x128xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %2 = arith.mulf %in, %in_0 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  return
}
