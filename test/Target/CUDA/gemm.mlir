// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=gpu-arch=sm_80 | FileCheck %s --enable-var-scope
// The tensor-core GEMM template (lib/Target/CUDA/Gemm.cpp): which bufferized
// linears it takes, what the kernel is made of, and what it refuses; the
// mma.sync path, as compiled for sm_80 (sm_90a takes wgmma from M = 64:
// gemm_wgmma.mlir).

#bias = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// bf16, M = 17 (not a multiple of 16), bias: one launch; bias, accumulation
// and the f32 -> bf16 conversion fused; 32 x 64 tiles (BM <= 32 covers M),
// 4 warps.
// CHECK-LABEL: func.func @linear_bias_bf16
// CHECK-SAME: (%[[X:.+]]: memref<17x64xbf16>, %[[W:.+]]: memref<256x64xbf16>, %[[B:.+]]: memref<256xbf16>, %[[Y:.+]]: memref<17x256xbf16>
// CHECK-NOT: linalg.
// CHECK: %[[C128:.+]] = arith.constant 128 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %{{.+}}, {{.*}} = %{{.+}}, {{.*}}) threads({{.*}}) in ({{.*}} = %[[C128]],
// CHECK-SAME: workgroup(%[[SMEM:.+]] : memref<{{[0-9]+}}xvector<8xbf16>, #gpu.address_space<workgroup>>)
// CHECK-DAG: memref.extract_aligned_pointer_as_index %[[X]]
// CHECK-DAG: memref.extract_aligned_pointer_as_index %[[W]]
// CHECK-DAG: memref.extract_aligned_pointer_as_index %[[SMEM]]
// CHECK: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 2
// CHECK: gpu.barrier
// CHECK: nvvm.ldmatrix {{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>}
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK: scf.yield
// CHECK: memref.extract_aligned_pointer_as_index %[[Y]]
// CHECK: memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: scf.if
// CHECK: llvm.load {{.*}} -> bf16
// CHECK: arith.extf
// CHECK: arith.addf
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: llvm.store {{.*}} {alignment = 4 : i64} : vector<2xbf16>, !llvm.ptr<3>
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: llvm.load {{.*}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<4xi32>
// CHECK: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<1>
// CHECK-NOT: linalg.
// CHECK: return
func.func @linear_bias_bf16(%x: memref<17x64xbf16>, %w: memref<256x64xbf16>, %b: memref<256xbf16>, %y: memref<17x256xbf16>, %arena: memref<17408xi8>) {
  %c0 = arith.constant 0 : index
  %acc = memref.view %arena[%c0][] : memref<17408xi8> to memref<17x256xf32>
  linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel"]} ins(%b : memref<256xbf16>) outs(%acc : memref<17x256xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<17x64xbf16>, memref<256x64xbf16>) outs(%acc : memref<17x256xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc : memref<17x256xf32>) outs(%y : memref<17x256xbf16>) {
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

// N = 42 is even but not a multiple of 8 (no whole 16-byte row chunks): no
// staged epilogue, each lane stores its column pair as one 4-byte vector.
// N = 41 is odd (pairs may be unaligned or half outside): scalar stores,
// the second one guarded by col + 1 < N.
// CHECK-LABEL: func.func @unstaged_epilogues
// CHECK: gpu.launch
// CHECK-NOT: !llvm.ptr<3> -> vector<4xi32>
// CHECK: llvm.store {{.*}} {alignment = 4 : i64} : vector<2xbf16>, !llvm.ptr<1>
// CHECK: } {sinter.kernel = "gemm m=17 n=42 k=64
// CHECK: gpu.launch
// CHECK-NOT: vector<2xbf16>
// CHECK: llvm.store {{.*}} : bf16, !llvm.ptr<1>
// CHECK: arith.cmpi slt
// CHECK: scf.if
// CHECK: llvm.store {{.*}} : bf16, !llvm.ptr<1>
// CHECK: } {sinter.kernel = "gemm m=17 n=41 k=64
func.func @unstaged_epilogues(%x: memref<17x64xbf16>, %w: memref<42x64xbf16>, %y: memref<17x42xbf16>, %w1: memref<41x64xbf16>, %y1: memref<17x41xbf16>, %arena: memref<5664xi8>) {
  %cst = arith.constant 0.000000e+00 : f32
  %c0 = arith.constant 0 : index
  %c2864 = arith.constant 2864 : index
  %acc = memref.view %arena[%c0][] : memref<5664xi8> to memref<17x42xf32>
  %acc1 = memref.view %arena[%c2864][] : memref<5664xi8> to memref<17x41xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<17x42xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<17x64xbf16>, memref<42x64xbf16>) outs(%acc : memref<17x42xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc : memref<17x42xf32>) outs(%y : memref<17x42xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  linalg.fill ins(%cst : f32) outs(%acc1 : memref<17x41xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w1 : memref<17x64xbf16>, memref<41x64xbf16>) outs(%acc1 : memref<17x41xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc1 : memref<17x41xf32>) outs(%y1 : memref<17x41xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  return
}

// -----

#x3 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#w3 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#o3 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// f16, leading dims flattened into M = 2 x 64 = 128; a grid this small
// gets the smallest tiles (32 x 64: 4 x 2 blocks, 1 x 4 warps, 4 stages of
// (32 + 64) x 32 elements) to spread over SMs, the M tiles on x (the
// blocks sharing a weight tile run together); zero init (the fill is erased, nothing is
// added), K = 72 not a multiple of BK (zero-filled tail).
// CHECK-LABEL: func.func @linear_f16_rank3
// CHECK-NOT: linalg.
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C4]], {{.*}} = %[[C2]],
// CHECK-SAME: workgroup(%{{.+}} : memref<1536xvector<8xf16>, #gpu.address_space<workgroup>>)
// CHECK: nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-NOT: llvm.load
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: llvm.store {{.*}} {alignment = 4 : i64} : vector<2xf16>, !llvm.ptr<3>
// CHECK: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<1>
// CHECK-NOT: linalg.
// CHECK: return
func.func @linear_f16_rank3(%x: memref<2x64x72xf16>, %w: memref<96x72xf16>, %y: memref<2x64x96xf16>, %arena: memref<49152xi8>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %acc = memref.view %arena[%c0][] : memref<49152xi8> to memref<2x64x96xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<2x64x96xf32>)
  linalg.generic {indexing_maps = [#x3, #w3, #o3], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<2x64x72xf16>, memref<96x72xf16>) outs(%acc : memref<2x64x96xf32>) {
  ^bb0(%in: f16, %in_0: f16, %out: f32):
    %0 = arith.extf %in : f16 to f32
    %1 = arith.extf %in_0 : f16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%acc : memref<2x64x96xf32>) outs(%y : memref<2x64x96xf16>) {
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
#id = affine_map<(d0, d1) -> (d0, d1)>

// The output's arena bytes overlap the activation's (the plan may reuse a
// dead activation): writing it while other blocks still read X would race,
// so the kernel writes the f32 accumulator and the conversion stays.
// CHECK-LABEL: func.func @output_aliases_activation
// CHECK: gpu.launch
// CHECK: llvm.store {{.*}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<3>
// CHECK: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<1>
// CHECK: } {sinter.kernel = "gemm m=32 n=64 k=64 tile=32x64x32 warps=1x4 stages=4 grid=1x1 shared=24576 fused_epilogue=0 mma=mma.sync.m16n8k16"}
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}} : memref<32x64xf32>) outs(%{{.+}} : memref<32x64xbf16>)
func.func @output_aliases_activation(%w: memref<64x64xbf16>, %arena: memref<12288xi8>) {
  %c0 = arith.constant 0 : index
  %c4096 = arith.constant 4096 : index
  %cst = arith.constant 0.000000e+00 : f32
  %x = memref.view %arena[%c0][] : memref<12288xi8> to memref<32x64xbf16>
  %acc = memref.view %arena[%c4096][] : memref<12288xi8> to memref<32x64xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<32x64xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<32x64xbf16>, memref<64x64xbf16>) outs(%acc : memref<32x64xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  %y = memref.view %arena[%c0][] : memref<12288xi8> to memref<32x64xbf16>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc : memref<32x64xf32>) outs(%y : memref<32x64xbf16>) {
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

// Refused, left to the other templates / the generic mapping: M <= 8 (a
// GEMV shape), f32 operands (no f32 tensor-core path), K not a multiple
// of 8 (16-byte copies).
// (The GEMV template may take the first; the others stay linalg.)
// CHECK-LABEL: func.func @refused
// CHECK-NOT: nvvm.mma.sync
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : memref<32x64xf32>, memref<64x64xf32>)
// CHECK-NOT: nvvm.mma.sync
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : memref<32x60xbf16>, memref<64x60xbf16>)
// CHECK-NOT: nvvm.mma.sync
// CHECK: return
func.func @refused(%x8: memref<8x64xbf16>, %x32: memref<32x64xf32>, %w32: memref<64x64xf32>, %x60: memref<32x60xbf16>, %w60: memref<64x60xbf16>, %w: memref<64x64xbf16>, %arena: memref<65536xi8>) {
  %c0 = arith.constant 0 : index
  %c16384 = arith.constant 16384 : index
  %c32768 = arith.constant 32768 : index
  %cst = arith.constant 0.000000e+00 : f32
  %a1 = memref.view %arena[%c0][] : memref<65536xi8> to memref<8x64xf32>
  linalg.fill ins(%cst : f32) outs(%a1 : memref<8x64xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x8, %w : memref<8x64xbf16>, memref<64x64xbf16>) outs(%a1 : memref<8x64xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  %a2 = memref.view %arena[%c16384][] : memref<65536xi8> to memref<32x64xf32>
  linalg.fill ins(%cst : f32) outs(%a2 : memref<32x64xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x32, %w32 : memref<32x64xf32>, memref<64x64xf32>) outs(%a2 : memref<32x64xf32>) {
  ^bb0(%in: f32, %in_0: f32, %out: f32):
    %2 = arith.mulf %in, %in_0 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  %a3 = memref.view %arena[%c32768][] : memref<65536xi8> to memref<32x64xf32>
  linalg.fill ins(%cst : f32) outs(%a3 : memref<32x64xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x60, %w60 : memref<32x60xbf16>, memref<64x60xbf16>) outs(%a3 : memref<32x64xf32>) {
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

// The tile heuristic at 512 x 2048 x 9216 on sm_80 (108 SMs, 164 KiB of
// shared memory per SM; sm_90a takes wgmma there, gemm_wgmma.mlir):
// 128 x 64 tiles, 144 x 4 = 576 blocks, 4 stages of 12 KiB in the static
// 48 KiB (3 blocks per SM by registers).
// CHECK-LABEL: func.func @tile_heuristic
// CHECK-DAG: %[[C144:.+]] = arith.constant 144 : index
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C4]], {{.*}} = %[[C144]],
// CHECK-SAME: workgroup(%{{.+}} : memref<3072xvector<8xbf16>, #gpu.address_space<workgroup>>)
// CHECK: nvvm.cp.async.wait.group 2
// CHECK: nvvm.mma.sync
// CHECK: } {sinter.kernel = "gemm m=512 n=9216 k=2048 tile=128x64x32 warps=2x2 stages=4 grid=4x144(m fastest) shared=49152 fused_epilogue=1 mma=mma.sync.m16n8k16"}
func.func @tile_heuristic(%x: memref<512x2048xbf16>, %w: memref<9216x2048xbf16>, %y: memref<512x9216xbf16>, %arena: memref<18874368xi8>) {
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
