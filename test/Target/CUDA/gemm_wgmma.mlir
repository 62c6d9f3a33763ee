// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=gpu-arch=sm_90a | FileCheck %s --enable-var-scope
// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=gpu-arch=sm_80 | FileCheck %s --check-prefix=SM80
// The tensor-core GEMM template's sm_90a path (lib/Target/CUDA/Gemm.cpp):
// cp.async into 128-byte swizzled stages, wgmma.mma_async from shared
// memory descriptors, one warpgroup per 64 rows; fewer than 64 rows and
// other architectures keep mma.sync (gemm.mlir).

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// The bench shape 512 x 2048 x 9216: 128 x 144 tiles (two warpgroups of
// m64n144), 64 x 4 = 256 blocks of 256 threads, 2 per SM (one wave on 132
// SMs), 3 stages of 34 KiB + 1 KiB alignment slack in dynamic shared
// memory. Per K slice of 64: wait for the slice's copies, proxy fence,
// barrier, the copies of slice k + 2, then 4 wgmma (k16 steps) as one
// group, waited before the next slice.
// CHECK-LABEL: func.func @bench_shape
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG: %[[C256:.+]] = arith.constant 256 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C4]], {{.*}} = %[[C64]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[C256]],
// CHECK-SAME: dynamic_shared_memory_size %{{.+}} {
// CHECK: gpu.dynamic_shared_memory
// CHECK: %[[RAW:.+]] = llvm.ptrtoint %{{.+}} : !llvm.ptr<3> to i32
// CHECK: %[[BUMP:.+]] = arith.addi %[[RAW]], %c1023
// CHECK: arith.andi %[[BUMP]], %c-1024
// CHECK: arith.constant 4611686293305360384 : i64
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.cp.async.shared.global
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: llvm.inline_asm has_side_effects "{ .reg .pred p; setp.ne.b32 p, $74, 0; wgmma.mma_async.sync.aligned.m64n144k16.f32.bf16.bf16 {$0, {{.*}}, $71}, $72, $73, p, 1, 1, 0, 0; }"
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: scf.yield
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: llvm.inline_asm has_side_effects "", "=f,
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: llvm.store {{.*}} {alignment = 4 : i64} : vector<2xbf16>, !llvm.ptr<3>
// CHECK: gpu.barrier
// CHECK: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<1>
// CHECK: } {sinter.kernel = "gemm m=512 n=9216 k=2048 tile=128x144x64 warps=8x1 stages=3 grid=4x64(m fastest) shared=105472(dynamic) fused_epilogue=1 mma=wgmma.m64n144k16 inflight=0"}
// SM80-LABEL: func.func @bench_shape
// SM80-NOT: wgmma
// SM80: nvvm.mma.sync
// SM80: mma=mma.sync.m16n8k16"}
func.func @bench_shape(%x: memref<512x2048xbf16>, %w: memref<9216x2048xbf16>, %y: memref<512x9216xbf16>, %arena: memref<18874368xi8>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %acc = memref.view %arena[%c0][] : memref<18874368xi8> to memref<512x9216xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<512x9216xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<512x2048xbf16>, memref<9216x2048xbf16>) outs(%acc : memref<512x9216xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc : memref<512x9216xf32>) outs(%y : memref<512x9216xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// M = 64, f16: one warpgroup (128 threads, BM = 64). N = 72: five 64 x 16
// tiles on five SMs (one wave either way, and the cost is the busiest
// SM's). K = 72 leaves a partial second slice (zero-filled copies). 4
// stages fit the static 48 KiB.
// CHECK-LABEL: func.func @one_warpgroup_f16
// CHECK: gpu.launch
// CHECK-SAME: workgroup(
// CHECK: wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: } {sinter.kernel = "gemm m=64 n=72 k=72 tile=64x16x64 warps=4x1 stages=4 grid=5x1 shared=41984 fused_epilogue=1 mma=wgmma.m64n16k16 inflight=0"}
func.func @one_warpgroup_f16(%x: memref<64x72xf16>, %w: memref<72x72xf16>, %y: memref<64x72xf16>, %arena: memref<18432xi8>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %acc = memref.view %arena[%c0][] : memref<18432xi8> to memref<64x72xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<64x72xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<64x72xf16>, memref<72x72xf16>) outs(%acc : memref<64x72xf32>) {
  ^bb0(%in: f16, %in_0: f16, %out: f32):
    %0 = arith.extf %in : f16 to f32
    %1 = arith.extf %in_0 : f16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc : memref<64x72xf32>) outs(%y : memref<64x72xf16>) {
  ^bb0(%in: f32, %out: f16):
    %0 = arith.truncf %in : f32 to f16
    linalg.yield %0 : f16
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// M = 63 < 64 at sm_90a: mma.sync (an m64 tile would be mostly padding).
// CHECK-LABEL: func.func @few_rows_keep_mma_sync
// CHECK-NOT: wgmma
// CHECK: nvvm.mma.sync
// CHECK: mma=mma.sync.m16n8k16"}
func.func @few_rows_keep_mma_sync(%x: memref<63x64xbf16>, %w: memref<64x64xbf16>, %arena: memref<16128xi8>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %acc = memref.view %arena[%c0][] : memref<16128xi8> to memref<63x64xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<63x64xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<63x64xbf16>, memref<64x64xbf16>) outs(%acc : memref<63x64xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// The activation is a collapse_shape of an arena view (the prefill's
// out_proj / o_proj read their heads flattened): a reshape with an identity
// layout keeps its source's base alignment, so the GEMM takes it; through a
// memref.subview (its base alignment is not tracked) it stays refused.
// CHECK-LABEL: func.func @collapsed_activation
// CHECK: sinter.kernel = "gemm m=64 n=64 k=128 {{.*}}mma=wgmma.m64n
// CHECK-LABEL: func.func @subview_activation
// CHECK-NOT: sinter.kernel = "gemm
func.func @collapsed_activation(%w: memref<64x128xbf16>, %arena: memref<49152xi8>) {
  %c0 = arith.constant 0 : index
  %c16384 = arith.constant 16384 : index
  %cst = arith.constant 0.000000e+00 : f32
  %h = memref.view %arena[%c0][] : memref<49152xi8> to memref<1x64x4x32xbf16>
  %x = memref.collapse_shape %h [[0, 1], [2, 3]] : memref<1x64x4x32xbf16> into memref<64x128xbf16>
  %acc = memref.view %arena[%c16384][] : memref<49152xi8> to memref<64x64xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<64x64xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<64x128xbf16>, memref<64x128xbf16>) outs(%acc : memref<64x64xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

func.func @subview_activation(%w: memref<64x128xbf16>, %big: memref<2x64x128xbf16>, %arena: memref<16384xi8>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %s = memref.subview %big[1, 0, 0] [1, 64, 128] [1, 1, 1] : memref<2x64x128xbf16> to memref<1x64x128xbf16, strided<[8192, 128, 1], offset: 8192>>
  %x = memref.collapse_shape %s [[0, 1], [2]] : memref<1x64x128xbf16, strided<[8192, 128, 1], offset: 8192>> into memref<64x128xbf16, strided<[128, 1], offset: 8192>>
  %acc = memref.view %arena[%c0][] : memref<16384xi8> to memref<64x64xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<64x64xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<64x128xbf16, strided<[128, 1], offset: 8192>>, memref<64x128xbf16>) outs(%acc : memref<64x64xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// The prefill lm_head, 512 x 248320 x 2048 (f32 logits): 7760 tiles, many
// waves. The wave rounding is not counted there, so 2 blocks per SM (128 x
// 128, 3 stages) win over the 1 block per SM that 59 waves of 1 against
// 30 of 2 chose before; the 4 M tiles of one weight tile are neighbours on
// x (blockIdx.y walks the 1940 N tiles), so the 1 GB weight is read from
// DRAM once.
// CHECK-LABEL: func.func @lm_head
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG: %[[C1940:.+]] = arith.constant 1940 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C4]], {{.*}} = %[[C1940]], {{.*}}) threads
// CHECK: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: } {sinter.kernel = "gemm m=512 n=248320 k=2048 tile=128x128x64 warps=8x1 stages=3 grid=4x1940(m fastest) shared=99328(dynamic) fused_epilogue=0 mma=wgmma.m64n128k16 inflight=0"}
func.func @lm_head(%x: memref<512x2048xbf16>, %w: memref<248320x2048xbf16>, %y: memref<512x248320xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%y : memref<512x248320xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<512x2048xbf16>, memref<248320x2048xbf16>) outs(%y : memref<512x248320xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  return
}
