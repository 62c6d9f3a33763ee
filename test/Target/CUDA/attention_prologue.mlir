// RUN: sinter-opt %s --split-input-file "--sinter-cuda-form-kernels=remarks=1 attention-prologue-prefetch=0 experimental=attention-early-loads,attention-prologue-fewer-barriers" -verify-diagnostics | FileCheck %s
// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=attention-prologue=0 | FileCheck %s --check-prefix=OFF
// RUN: sinter-opt %s --split-input-file "--sinter-cuda-form-kernels=attention-prologue-prefetch=0 experimental=attention-prologue-fewer-barriers" | FileCheck %s --check-prefix=LATE
// RUN: sinter-opt %s --split-input-file "--sinter-cuda-form-kernels=attention-prologue-prefetch=0 experimental=attention-early-loads" | FileCheck %s --check-prefix=ALLB
// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels | FileCheck %s --check-prefix=PREFETCH
// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=gpu-arch=sm_80 | FileCheck %s --check-prefix=NOPREFETCH
// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=attention-prologue-prefetch=0 | FileCheck %s --check-prefix=NOPREFETCH
// The ops between the QKV projection and a decode attention absorbed into
// the split kernel (lib/Target/CUDA/AttentionPrologue.cpp), as Qwen3.5's
// attention writes them: casts of the packed bf16 q (with its output gate)
// / k / v row, q and k per-head RMSNorm, transposes, the partial RoPE and
// its copy back, the in-place cache writes of the new token. Every block
// replays them (the sums of squares a warp per row, the RoPE'd q and k in
// shared memory; the casts, the normalizations and v's transpose are
// recomputed where read); the first chunk's blocks stage the gate's input
// for the combine, which the last block of each kv head runs. One launch
// is left.

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
#v = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#last = affine_map<(d0, d1, d2, d3) -> (d3)>
#mask = affine_map<(d0, d1, d2, d3) -> (d0, d3)>

// By default (sm_90 and later), thread 0 of each
// block first starts an L2 bulk prefetch of every buffer the absorbed ops
// read: the packed row (192 bf16), the two norm scales (16 f32), the RoPE
// tables (40 x 4 f32); not the 8-byte positions (below 16 bytes). The
// prefetches end with side effects (the pass's last step) and unmarked.
// On sm_80, or with attention-prologue-prefetch=0, there is none.
// PREFETCH-LABEL: func.func @prologue
// PREFETCH: gpu.launch
// PREFETCH: scf.if
// PREFETCH-NEXT: memref.extract_aligned_pointer_as_index
// PREFETCH: llvm.inline_asm has_side_effects "cp.async.bulk.prefetch.L2.global [$0], $1;", "l,r" %{{.+}}, %c384_i32
// PREFETCH: llvm.inline_asm has_side_effects "cp.async.bulk.prefetch.L2.global [$0], $1;", "l,r" %{{.+}}, %c64_i32
// PREFETCH: llvm.inline_asm has_side_effects "cp.async.bulk.prefetch.L2.global [$0], $1;", "l,r" %{{.+}}, %c64_i32
// PREFETCH: llvm.inline_asm has_side_effects "cp.async.bulk.prefetch.L2.global [$0], $1;", "l,r" %{{.+}}, %c640_i32
// PREFETCH: llvm.inline_asm has_side_effects "cp.async.bulk.prefetch.L2.global [$0], $1;", "l,r" %{{.+}}, %c640_i32
// PREFETCH-NOT: cp.async.bulk.prefetch
// PREFETCH: gpu.barrier
// PREFETCH-NOT: sinter.deferred_effects
// NOPREFETCH-NOT: cp.async.bulk.prefetch

// 4 q heads over 2 kv heads, head dim 16 (RoPE on 8), 40 keys.
// CHECK-DAG: memref.global "private" constant @__sinter_attention_ws_280 : memref<280xf32>
// CHECK-DAG: memref.global "private" constant @__sinter_attention_cnt_2 : memref<2xi32>
// CHECK-LABEL: func.func @prologue
// CHECK-SAME: %{{[a-z0-9]+}}: memref<1x1xi64>, %[[POS:[a-z0-9]+]]: memref<1xi64>
// CHECK-SAME: %[[KC:[a-z0-9]+]]: memref<1x2x40x16xf32>, %[[VC:[a-z0-9]+]]: memref<1x2x40x16xf32>, %[[Z:[a-z0-9]+]]: memref<1x1x4x16xbf16>
// CHECK-NOT: linalg.
// CHECK-NOT: memref.copy
// CHECK: %[[WS:.+]] = memref.get_global @__sinter_attention_ws_280
// The sums of squares, the RoPE'd k and q and their inputs in shared memory.
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c2,
// CHECK-SAME: workgroup(%{{[a-z0-9]+}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{[a-z0-9]+}} : memref<4xf32, #gpu.address_space<workgroup>>, %[[KS:[a-z0-9]+]] : memref<2xf32, #gpu.address_space<workgroup>>, %[[QS:[a-z0-9]+]] : memref<4xf32, #gpu.address_space<workgroup>>, %[[KT:[a-z0-9]+]] : memref<32xf32, #gpu.address_space<workgroup>>, %[[QT:[a-z0-9]+]] : memref<64xf32, #gpu.address_space<workgroup>>, %{{[a-z0-9]+}} : memref<16xf32, #gpu.address_space<workgroup>>, %{{[a-z0-9]+}} : memref<32xf32, #gpu.address_space<workgroup>>)
// The chunk's keys (16-byte vectors, from the cache: one key a warp of
// the 16) and values (a thread per column) loaded first, before the
// prologue, so that their latency overlaps it.
// CHECK-NOT: gpu.barrier
// CHECK: vector.load %[[KC]]
// CHECK-NOT: gpu.barrier
// CHECK-COUNT-16: memref.load %[[VC]]
// k's sum of squares: zeroed, then a warp per row (the bf16 row cast where
// read); each op's loops closed before its barrier (threads enter them
// unevenly).
// CHECK: memref.store %{{.+}}, %[[KS]]
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// CHECK: arith.extf
// CHECK: gpu.shuffle xor
// CHECK: memref.store %{{.+}}, %[[KS]]
// CHECK-NEXT: }
// CHECK-NEXT: }
// A barrier only between ops that share a buffer: q's sums are zeroed
// right after k's sums (no barrier), then one before q's sum of squares.
// CHECK-NOT: gpu.barrier
// CHECK: memref.store %{{.+}}, %[[QS]]
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// CHECK: gpu.shuffle xor
// CHECK: memref.store %{{.+}}, %[[QS]]
// k's normalized rows (their sums are final) with no barrier after q's
// sums, one before q's normalized rows (which read them).
// CHECK-NOT: gpu.barrier
// CHECK: math.sqrt
// CHECK: memref.store %{{.+}}, %[[KT]]
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// CHECK: math.sqrt
// CHECK: memref.store %{{.+}}, %[[QT]]
// The RoPE of k reads k's rows (final), no barrier; the copy back into
// them waits for that read; the RoPE of q beside it; then q's copy after
// one more, and the last barrier.
// CHECK-NOT: gpu.barrier
// CHECK: memref.load %[[KT]]
// CHECK: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: memref.store %{{.+}}, %[[KT]]
// CHECK-NOT: gpu.barrier
// CHECK: memref.load %[[QT]]
// CHECK: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: memref.store %{{.+}}, %[[QT]]
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: gpu.barrier
// The gate's input to the workspace by the first chunk's blocks.
// CHECK: memref.store %{{.+}}, %[[WS]]
// The position both cache writes read, loaded once each before the
// logits (cloneInvariant), not again after each store to a cache.
// CHECK: memref.load %[[POS]][%c0] : memref<1xi64>
// CHECK: memref.load %[[POS]][%c0] : memref<1xi64>
// CHECK-NOT: memref.load %[[POS]]
// q from shared memory, the new token's key (merged into the loaded
// vectors) stored where it changes; no key is loaded again.
// CHECK-NOT: vector.load %[[KC]]
// CHECK: memref.load %[[QT]]
// CHECK: memref.store %{{.+}}, %[[KC]]
// CHECK-NOT: memref.load %[[POS]]
// CHECK-NOT: memref.load %[[VC]]
// CHECK: memref.store %{{.+}}, %[[VC]]
// CHECK-NOT: memref.load %[[POS]]
// The last block of each kv head combines, reading the staged gate input
// back.
// CHECK: llvm.inline_asm "atom.acq_rel.gpu.add.u32
// CHECK: scf.if
// CHECK: memref.load %[[WS]]
// CHECK: math.exp
// CHECK: arith.truncf
// CHECK: memref.store %{{.+}}, %[[Z]]
// CHECK: sinter.kernel = "attention_split heads=4/2 d=16 t=40 dv=16 chunk=16 vec=4 grid=3x2x1 prologue=16"
// CHECK-NOT: gpu.launch
// With the early loads off, the keys are loaded in the logits loop, after
// the prologue.
// LATE-LABEL: func.func @prologue
// LATE: gpu.launch
// LATE-NOT: vector.load
// LATE: gpu.barrier
// LATE: scf.for
// LATE: vector.load %{{.+}} : memref<1x2x40x16xf32>, vector<4xf32>
// LATE: gpu.barrier
// LATE: gpu.barrier
// LATE: scf.for
// LATE: scf.for
// LATE-COUNT-16: memref.load %{{.+}} : memref<1x2x40x16xf32>
// LATE: sinter.kernel = "attention_split heads=4/2 d=16 t=40 dv=16 chunk=16 vec=4 grid=3x2x1 prologue=16"
// With a barrier after every replayed op (10 ops; 6 barriers above).
// ALLB-LABEL: func.func @prologue
// ALLB: gpu.launch
// ALLB-COUNT-10: gpu.barrier
// ALLB-NOT: gpu.barrier
// ALLB: memref.store %{{.+}} : memref<280xf32>
// With the option off, the plain split.
// OFF-LABEL: func.func @prologue
// OFF: sinter.kernel = "attention_split heads=4/2 d=16 t=40 dv=16 chunk=16 vec=4 grid=3x2x1"
func.func @prologue(%pos: memref<1x1xi64>, %p1: memref<1xi64>, %qkv: memref<1x1x192xbf16>, %qw: memref<16xf32>, %kw: memref<16xf32>, %cos: memref<40x4xf32>, %sin: memref<40x4xf32>, %m: memref<1x40xi1>, %kc: memref<1x2x40x16xf32>, %vc: memref<1x2x40x16xf32>, %z: memref<1x1x4x16xbf16>, %arena: memref<8192xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %cz = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  %n16 = arith.constant 1.600000e+01 : f32
  %eps = arith.constant 9.99999997E-7 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %sc = arith.constant 0.5 : f32
  %q32 = memref.view %arena[%c0][] : memref<8192xi8> to memref<1x1x4x32xf32>
  %o512 = arith.constant 512 : index
  %k16 = memref.view %arena[%o512][] : memref<8192xi8> to memref<1x1x2x16xf32>
  %o640 = arith.constant 640 : index
  %v16 = memref.view %arena[%o640][] : memref<8192xi8> to memref<1x1x2x16xf32>
  %o768 = arith.constant 768 : index
  %ksum = memref.view %arena[%o768][] : memref<8192xi8> to memref<1x1x2xf32>
  %o1024 = arith.constant 1024 : index
  %kn = memref.view %arena[%o1024][] : memref<8192xi8> to memref<1x1x2x16xf32>
  %o1152 = arith.constant 1152 : index
  %vt = memref.view %arena[%o1152][] : memref<8192xi8> to memref<1x2x1x16xf32>
  %o1280 = arith.constant 1280 : index
  %qsum = memref.view %arena[%o1280][] : memref<8192xi8> to memref<1x1x4xf32>
  %o1536 = arith.constant 1536 : index
  %qn = memref.view %arena[%o1536][] : memref<8192xi8> to memref<1x1x4x16xf32>
  %o1792 = arith.constant 1792 : index
  %kt = memref.view %arena[%o1792][] : memref<8192xi8> to memref<1x2x1x16xf32>
  %o2048 = arith.constant 2048 : index
  %qt = memref.view %arena[%o2048][] : memref<8192xi8> to memref<1x4x1x16xf32>
  %o2304 = arith.constant 2304 : index
  %kr = memref.view %arena[%o2304][] : memref<8192xi8> to memref<1x2x1x8xf32>
  %o2432 = arith.constant 2432 : index
  %qr = memref.view %arena[%o2432][] : memref<8192xi8> to memref<1x4x1x8xf32>
  %o4096 = arith.constant 4096 : index
  %s = memref.view %arena[%o4096][] : memref<8192xi8> to memref<1x4x1x40xf32>
  %o4736 = arith.constant 4736 : index
  %s2 = memref.view %arena[%o4736][] : memref<8192xi8> to memref<1x4x1x40xf32>
  %o5376 = arith.constant 5376 : index
  %mx = memref.view %arena[%o5376][] : memref<8192xi8> to memref<1x4x1xf32>
  %o5392 = arith.constant 5392 : index
  %sm = memref.view %arena[%o5392][] : memref<8192xi8> to memref<1x4x1xf32>
  %o5440 = arith.constant 5440 : index
  %p = memref.view %arena[%o5440][] : memref<8192xi8> to memref<1x4x1x40xf32>
  %o6144 = arith.constant 6144 : index
  %y = memref.view %arena[%o6144][] : memref<8192xi8> to memref<1x4x1x16xf32>
  %o6400 = arith.constant 6400 : index
  %yt = memref.view %arena[%o6400][] : memref<8192xi8> to memref<1x1x4x16xf32>
  // The casts of the packed q (with its gate), k and v rows.
  %qs = memref.subview %qkv[0, 0, 0] [1, 1, 128] [1, 1, 1] : memref<1x1x192xbf16> to memref<1x1x128xbf16, strided<[192, 192, 1]>>
  %qe = memref.expand_shape %qs [[0], [1], [2, 3]] output_shape [1, 1, 4, 32] : memref<1x1x128xbf16, strided<[192, 192, 1]>> into memref<1x1x4x32xbf16, strided<[192, 192, 32, 1]>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%qe : memref<1x1x4x32xbf16, strided<[192, 192, 32, 1]>>) outs(%q32 : memref<1x1x4x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    linalg.yield %0 : f32
  }
  %ks = memref.subview %qkv[0, 0, 128] [1, 1, 32] [1, 1, 1] : memref<1x1x192xbf16> to memref<1x1x32xbf16, strided<[192, 192, 1], offset: 128>>
  %ke = memref.expand_shape %ks [[0], [1], [2, 3]] output_shape [1, 1, 2, 16] : memref<1x1x32xbf16, strided<[192, 192, 1], offset: 128>> into memref<1x1x2x16xbf16, strided<[192, 192, 16, 1], offset: 128>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ke : memref<1x1x2x16xbf16, strided<[192, 192, 16, 1], offset: 128>>) outs(%k16 : memref<1x1x2x16xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    linalg.yield %0 : f32
  }
  %vs = memref.subview %qkv[0, 0, 160] [1, 1, 32] [1, 1, 1] : memref<1x1x192xbf16> to memref<1x1x32xbf16, strided<[192, 192, 1], offset: 160>>
  %ve = memref.expand_shape %vs [[0], [1], [2, 3]] output_shape [1, 1, 2, 16] : memref<1x1x32xbf16, strided<[192, 192, 1], offset: 160>> into memref<1x1x2x16xbf16, strided<[192, 192, 16, 1], offset: 160>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ve : memref<1x1x2x16xbf16, strided<[192, 192, 16, 1], offset: 160>>) outs(%v16 : memref<1x1x2x16xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    linalg.yield %0 : f32
  }
  // k's RMSNorm, v's transpose, q's RMSNorm (its first 16 of 32 columns).
  linalg.fill ins(%cz : f32) outs(%ksum : memref<1x1x2xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%k16 : memref<1x1x2x16xf32>) outs(%ksum : memref<1x1x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #last, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k16, %ksum, %kw : memref<1x1x2x16xf32>, memref<1x1x2xf32>, memref<16xf32>) outs(%kn : memref<1x1x2x16xf32>) {
  ^bb0(%in: f32, %ss: f32, %w: f32, %out: f32):
    %0 = arith.divf %ss, %n16 : f32
    %1 = arith.addf %0, %eps : f32
    %2 = math.sqrt %1 : f32
    %3 = arith.divf %in, %2 : f32
    %4 = arith.mulf %3, %w : f32
    linalg.yield %4 : f32
  }
  linalg.transpose ins(%v16 : memref<1x1x2x16xf32>) outs(%vt : memref<1x2x1x16xf32>) permutation = [0, 2, 1, 3]
  %qh = memref.subview %q32[0, 0, 0, 0] [1, 1, 4, 16] [1, 1, 1, 1] : memref<1x1x4x32xf32> to memref<1x1x4x16xf32, strided<[128, 128, 32, 1]>>
  %qg = memref.subview %q32[0, 0, 0, 16] [1, 1, 4, 16] [1, 1, 1, 1] : memref<1x1x4x32xf32> to memref<1x1x4x16xf32, strided<[128, 128, 32, 1], offset: 16>>
  linalg.fill ins(%cz : f32) outs(%qsum : memref<1x1x4xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%qh : memref<1x1x4x16xf32, strided<[128, 128, 32, 1]>>) outs(%qsum : memref<1x1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #last, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%qh, %qsum, %qw : memref<1x1x4x16xf32, strided<[128, 128, 32, 1]>>, memref<1x1x4xf32>, memref<16xf32>) outs(%qn : memref<1x1x4x16xf32>) {
  ^bb0(%in: f32, %ss: f32, %w: f32, %out: f32):
    %0 = arith.divf %ss, %n16 : f32
    %1 = arith.addf %0, %eps : f32
    %2 = math.sqrt %1 : f32
    %3 = arith.divf %in, %2 : f32
    %4 = arith.mulf %3, %w : f32
    linalg.yield %4 : f32
  }
  linalg.transpose ins(%kn : memref<1x1x2x16xf32>) outs(%kt : memref<1x2x1x16xf32>) permutation = [0, 2, 1, 3]
  // The new value row into its cache at the position, in place.
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%vc : memref<1x2x40x16xf32>) {
  ^bb0(%out: f32):
    %h = linalg.index 1 : index
    %j = linalg.index 2 : index
    %e = linalg.index 3 : index
    %0 = memref.load %p1[%c0] : memref<1xi64>
    %1 = arith.index_cast %0 : i64 to index
    %2 = arith.subi %j, %1 : index
    %3 = arith.cmpi sge, %2, %c0 : index
    %4 = arith.cmpi slt, %2, %c1 : index
    %5 = arith.andi %3, %4 : i1
    %6 = arith.minsi %2, %c0 : index
    %7 = arith.maxsi %6, %c0 : index
    %8 = memref.load %vt[%c0, %h, %7, %e] : memref<1x2x1x16xf32>
    %9 = arith.select %5, %8, %out : f32
    linalg.yield %9 : f32
  }
  linalg.transpose ins(%qn : memref<1x1x4x16xf32>) outs(%qt : memref<1x4x1x16xf32>) permutation = [0, 2, 1, 3]
  // The partial RoPE of k and q (8 of 16 dims), copied back.
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%kr : memref<1x2x1x8xf32>) {
  ^bb0(%out: f32):
    %h = linalg.index 1 : index
    %i = linalg.index 3 : index
    %lo = arith.cmpi ult, %i, %c4 : index
    %im = arith.subi %i, %c4 : index
    %a = arith.select %lo, %i, %im : index
    %b = arith.addi %a, %c4 : index
    %x1 = memref.load %kt[%c0, %h, %c0, %a] : memref<1x2x1x16xf32>
    %x2 = memref.load %kt[%c0, %h, %c0, %b] : memref<1x2x1x16xf32>
    %pp = memref.load %pos[%c0, %c0] : memref<1x1xi64>
    %pi = arith.index_cast %pp : i64 to index
    %cs = memref.load %cos[%pi, %a] : memref<40x4xf32>
    %sn = memref.load %sin[%pi, %a] : memref<40x4xf32>
    %0 = arith.mulf %cs, %x1 : f32
    %1 = arith.mulf %sn, %x2 : f32
    %2 = arith.subf %0, %1 : f32
    %3 = arith.mulf %sn, %x1 : f32
    %4 = arith.mulf %cs, %x2 : f32
    %5 = arith.addf %3, %4 : f32
    %6 = arith.select %lo, %2, %5 : f32
    linalg.yield %6 : f32
  }
  %ktr = memref.subview %kt[0, 0, 0, 0] [1, 2, 1, 8] [1, 1, 1, 1] : memref<1x2x1x16xf32> to memref<1x2x1x8xf32, strided<[32, 16, 16, 1]>>
  memref.copy %kr, %ktr : memref<1x2x1x8xf32> to memref<1x2x1x8xf32, strided<[32, 16, 16, 1]>>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%qr : memref<1x4x1x8xf32>) {
  ^bb0(%out: f32):
    %h = linalg.index 1 : index
    %i = linalg.index 3 : index
    %lo = arith.cmpi ult, %i, %c4 : index
    %im = arith.subi %i, %c4 : index
    %a = arith.select %lo, %i, %im : index
    %b = arith.addi %a, %c4 : index
    %x1 = memref.load %qt[%c0, %h, %c0, %a] : memref<1x4x1x16xf32>
    %x2 = memref.load %qt[%c0, %h, %c0, %b] : memref<1x4x1x16xf32>
    %pp = memref.load %pos[%c0, %c0] : memref<1x1xi64>
    %pi = arith.index_cast %pp : i64 to index
    %cs = memref.load %cos[%pi, %a] : memref<40x4xf32>
    %sn = memref.load %sin[%pi, %a] : memref<40x4xf32>
    %0 = arith.mulf %cs, %x1 : f32
    %1 = arith.mulf %sn, %x2 : f32
    %2 = arith.subf %0, %1 : f32
    %3 = arith.mulf %sn, %x1 : f32
    %4 = arith.mulf %cs, %x2 : f32
    %5 = arith.addf %3, %4 : f32
    %6 = arith.select %lo, %2, %5 : f32
    linalg.yield %6 : f32
  }
  %qtr = memref.subview %qt[0, 0, 0, 0] [1, 4, 1, 8] [1, 1, 1, 1] : memref<1x4x1x16xf32> to memref<1x4x1x8xf32, strided<[64, 16, 16, 1]>>
  memref.copy %qr, %qtr : memref<1x4x1x8xf32> to memref<1x4x1x8xf32, strided<[64, 16, 16, 1]>>
  // The new key row into its cache.
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%kc : memref<1x2x40x16xf32>) {
  ^bb0(%out: f32):
    %h = linalg.index 1 : index
    %j = linalg.index 2 : index
    %e = linalg.index 3 : index
    %0 = memref.load %p1[%c0] : memref<1xi64>
    %1 = arith.index_cast %0 : i64 to index
    %2 = arith.subi %j, %1 : index
    %3 = arith.cmpi sge, %2, %c0 : index
    %4 = arith.cmpi slt, %2, %c1 : index
    %5 = arith.andi %3, %4 : i1
    %6 = arith.minsi %2, %c0 : index
    %7 = arith.maxsi %6, %c0 : index
    %8 = memref.load %kt[%c0, %h, %7, %e] : memref<1x2x1x16xf32>
    %9 = arith.select %5, %8, %out : f32
    linalg.yield %9 : f32
  }
  // The attention.
  linalg.fill ins(%cz : f32) outs(%s : memref<1x4x1x40xf32>)
  // expected-remark @below {{split decode attention: prologue of 16 ops absorbed (10 run in the kernel, 6 buffers recomputed where read, 6 in shared memory, 1 gate operands staged)}}
  // expected-remark @below {{split decode attention: key cache write folded}}
  // expected-remark @below {{split decode attention: value cache write folded}}
  // expected-remark @below {{split decode attention: output transpose and gate folded}}
  // expected-remark @below {{split decode attention: combine in the last block of each kv head}}
  linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%qt, %kc : memref<1x4x1x16xf32>, memref<1x2x40x16xf32>) outs(%s : memref<1x4x1x40xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %sc : f32
    %1 = arith.mulf %b, %sc : f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #mask, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %m : memref<1x4x1x40xf32>, memref<1x40xi1>) outs(%s2 : memref<1x4x1x40xf32>) {
  ^bb0(%x: f32, %keep: i1, %out: f32):
    %0 = arith.select %keep, %cz, %ninf : f32
    %1 = arith.addf %x, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.fill ins(%ninf : f32) outs(%mx : memref<1x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s2 : memref<1x4x1x40xf32>) outs(%mx : memref<1x4x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %0 = arith.maximumf %x, %acc : f32
    linalg.yield %0 : f32
  }
  linalg.fill ins(%cz : f32) outs(%sm : memref<1x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s2, %mx : memref<1x4x1x40xf32>, memref<1x4x1xf32>) outs(%sm : memref<1x4x1xf32>) {
  ^bb0(%x: f32, %mm: f32, %acc: f32):
    %0 = arith.subf %x, %mm : f32
    %1 = math.exp %0 : f32
    %2 = arith.addf %acc, %1 : f32
    linalg.yield %2 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s2, %mx, %sm : memref<1x4x1x40xf32>, memref<1x4x1xf32>, memref<1x4x1xf32>) outs(%p : memref<1x4x1x40xf32>) {
  ^bb0(%x: f32, %mm: f32, %l: f32, %out: f32):
    %0 = arith.subf %x, %mm : f32
    %1 = math.exp %0 : f32
    %2 = arith.divf %1, %l : f32
    linalg.yield %2 : f32
  }
  linalg.fill ins(%cz : f32) outs(%y : memref<1x4x1x16xf32>)
  linalg.generic {indexing_maps = [#q, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vc : memref<1x4x1x40xf32>, memref<1x2x40x16xf32>) outs(%y : memref<1x4x1x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  // The output gate.
  linalg.transpose ins(%y : memref<1x4x1x16xf32>) outs(%yt : memref<1x1x4x16xf32>) permutation = [0, 2, 1, 3]
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%yt, %qg : memref<1x1x4x16xf32>, memref<1x1x4x16xf32, strided<[128, 128, 32, 1], offset: 16>>) outs(%z : memref<1x1x4x16xbf16>) {
  ^bb0(%a: f32, %g: f32, %out: bf16):
    %0 = arith.negf %g : f32
    %1 = math.exp %0 : f32
    %2 = arith.addf %1, %one : f32
    %3 = arith.divf %one, %2 : f32
    %4 = arith.mulf %a, %3 : f32
    %5 = arith.truncf %4 : f32 to bf16
    linalg.yield %5 : bf16
  }
  return
}

// -----

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
#v = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#last = affine_map<(d0, d1, d2, d3) -> (d3)>
#mask = affine_map<(d0, d1, d2, d3) -> (d0, d3)>

// Another op reads q's normalized rows after the attention: they must
// reach global memory, so the prologue keeps its launches and the plain
// split runs.
// CHECK-LABEL: func.func @extra_reader
// CHECK: sinter.kernel = "attention_split heads=4/2 d=16 t=40 dv=16 chunk=16 vec=4 grid=3x2x1"
// CHECK-NOT: attention_combine
func.func @extra_reader(%pos: memref<1x1xi64>, %p1: memref<1xi64>, %qkv: memref<1x1x192xbf16>, %qw: memref<16xf32>, %kw: memref<16xf32>, %cos: memref<40x4xf32>, %sin: memref<40x4xf32>, %m: memref<1x40xi1>, %kc: memref<1x2x40x16xf32>, %vc: memref<1x2x40x16xf32>, %z: memref<1x1x4x16xbf16>, %arena: memref<8192xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %cz = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  %n16 = arith.constant 1.600000e+01 : f32
  %eps = arith.constant 9.99999997E-7 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %sc = arith.constant 0.5 : f32
  %q32 = memref.view %arena[%c0][] : memref<8192xi8> to memref<1x1x4x32xf32>
  %o512 = arith.constant 512 : index
  %k16 = memref.view %arena[%o512][] : memref<8192xi8> to memref<1x1x2x16xf32>
  %o640 = arith.constant 640 : index
  %v16 = memref.view %arena[%o640][] : memref<8192xi8> to memref<1x1x2x16xf32>
  %o768 = arith.constant 768 : index
  %ksum = memref.view %arena[%o768][] : memref<8192xi8> to memref<1x1x2xf32>
  %o1024 = arith.constant 1024 : index
  %kn = memref.view %arena[%o1024][] : memref<8192xi8> to memref<1x1x2x16xf32>
  %o1152 = arith.constant 1152 : index
  %vt = memref.view %arena[%o1152][] : memref<8192xi8> to memref<1x2x1x16xf32>
  %o1280 = arith.constant 1280 : index
  %qsum = memref.view %arena[%o1280][] : memref<8192xi8> to memref<1x1x4xf32>
  %o1536 = arith.constant 1536 : index
  %qn = memref.view %arena[%o1536][] : memref<8192xi8> to memref<1x1x4x16xf32>
  %o1792 = arith.constant 1792 : index
  %kt = memref.view %arena[%o1792][] : memref<8192xi8> to memref<1x2x1x16xf32>
  %o2048 = arith.constant 2048 : index
  %qt = memref.view %arena[%o2048][] : memref<8192xi8> to memref<1x4x1x16xf32>
  %o2304 = arith.constant 2304 : index
  %kr = memref.view %arena[%o2304][] : memref<8192xi8> to memref<1x2x1x8xf32>
  %o2432 = arith.constant 2432 : index
  %qr = memref.view %arena[%o2432][] : memref<8192xi8> to memref<1x4x1x8xf32>
  %o4096 = arith.constant 4096 : index
  %s = memref.view %arena[%o4096][] : memref<8192xi8> to memref<1x4x1x40xf32>
  %o4736 = arith.constant 4736 : index
  %s2 = memref.view %arena[%o4736][] : memref<8192xi8> to memref<1x4x1x40xf32>
  %o5376 = arith.constant 5376 : index
  %mx = memref.view %arena[%o5376][] : memref<8192xi8> to memref<1x4x1xf32>
  %o5392 = arith.constant 5392 : index
  %sm = memref.view %arena[%o5392][] : memref<8192xi8> to memref<1x4x1xf32>
  %o5440 = arith.constant 5440 : index
  %p = memref.view %arena[%o5440][] : memref<8192xi8> to memref<1x4x1x40xf32>
  %o6144 = arith.constant 6144 : index
  %y = memref.view %arena[%o6144][] : memref<8192xi8> to memref<1x4x1x16xf32>
  %o6400 = arith.constant 6400 : index
  %yt = memref.view %arena[%o6400][] : memref<8192xi8> to memref<1x1x4x16xf32>
  // The casts of the packed q (with its gate), k and v rows.
  %qs = memref.subview %qkv[0, 0, 0] [1, 1, 128] [1, 1, 1] : memref<1x1x192xbf16> to memref<1x1x128xbf16, strided<[192, 192, 1]>>
  %qe = memref.expand_shape %qs [[0], [1], [2, 3]] output_shape [1, 1, 4, 32] : memref<1x1x128xbf16, strided<[192, 192, 1]>> into memref<1x1x4x32xbf16, strided<[192, 192, 32, 1]>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%qe : memref<1x1x4x32xbf16, strided<[192, 192, 32, 1]>>) outs(%q32 : memref<1x1x4x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    linalg.yield %0 : f32
  }
  %ks = memref.subview %qkv[0, 0, 128] [1, 1, 32] [1, 1, 1] : memref<1x1x192xbf16> to memref<1x1x32xbf16, strided<[192, 192, 1], offset: 128>>
  %ke = memref.expand_shape %ks [[0], [1], [2, 3]] output_shape [1, 1, 2, 16] : memref<1x1x32xbf16, strided<[192, 192, 1], offset: 128>> into memref<1x1x2x16xbf16, strided<[192, 192, 16, 1], offset: 128>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ke : memref<1x1x2x16xbf16, strided<[192, 192, 16, 1], offset: 128>>) outs(%k16 : memref<1x1x2x16xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    linalg.yield %0 : f32
  }
  %vs = memref.subview %qkv[0, 0, 160] [1, 1, 32] [1, 1, 1] : memref<1x1x192xbf16> to memref<1x1x32xbf16, strided<[192, 192, 1], offset: 160>>
  %ve = memref.expand_shape %vs [[0], [1], [2, 3]] output_shape [1, 1, 2, 16] : memref<1x1x32xbf16, strided<[192, 192, 1], offset: 160>> into memref<1x1x2x16xbf16, strided<[192, 192, 16, 1], offset: 160>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ve : memref<1x1x2x16xbf16, strided<[192, 192, 16, 1], offset: 160>>) outs(%v16 : memref<1x1x2x16xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    linalg.yield %0 : f32
  }
  // k's RMSNorm, v's transpose, q's RMSNorm (its first 16 of 32 columns).
  linalg.fill ins(%cz : f32) outs(%ksum : memref<1x1x2xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%k16 : memref<1x1x2x16xf32>) outs(%ksum : memref<1x1x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #last, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k16, %ksum, %kw : memref<1x1x2x16xf32>, memref<1x1x2xf32>, memref<16xf32>) outs(%kn : memref<1x1x2x16xf32>) {
  ^bb0(%in: f32, %ss: f32, %w: f32, %out: f32):
    %0 = arith.divf %ss, %n16 : f32
    %1 = arith.addf %0, %eps : f32
    %2 = math.sqrt %1 : f32
    %3 = arith.divf %in, %2 : f32
    %4 = arith.mulf %3, %w : f32
    linalg.yield %4 : f32
  }
  linalg.transpose ins(%v16 : memref<1x1x2x16xf32>) outs(%vt : memref<1x2x1x16xf32>) permutation = [0, 2, 1, 3]
  %qh = memref.subview %q32[0, 0, 0, 0] [1, 1, 4, 16] [1, 1, 1, 1] : memref<1x1x4x32xf32> to memref<1x1x4x16xf32, strided<[128, 128, 32, 1]>>
  %qg = memref.subview %q32[0, 0, 0, 16] [1, 1, 4, 16] [1, 1, 1, 1] : memref<1x1x4x32xf32> to memref<1x1x4x16xf32, strided<[128, 128, 32, 1], offset: 16>>
  linalg.fill ins(%cz : f32) outs(%qsum : memref<1x1x4xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%qh : memref<1x1x4x16xf32, strided<[128, 128, 32, 1]>>) outs(%qsum : memref<1x1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #last, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%qh, %qsum, %qw : memref<1x1x4x16xf32, strided<[128, 128, 32, 1]>>, memref<1x1x4xf32>, memref<16xf32>) outs(%qn : memref<1x1x4x16xf32>) {
  ^bb0(%in: f32, %ss: f32, %w: f32, %out: f32):
    %0 = arith.divf %ss, %n16 : f32
    %1 = arith.addf %0, %eps : f32
    %2 = math.sqrt %1 : f32
    %3 = arith.divf %in, %2 : f32
    %4 = arith.mulf %3, %w : f32
    linalg.yield %4 : f32
  }
  linalg.transpose ins(%kn : memref<1x1x2x16xf32>) outs(%kt : memref<1x2x1x16xf32>) permutation = [0, 2, 1, 3]
  // The new value row into its cache at the position, in place.
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%vc : memref<1x2x40x16xf32>) {
  ^bb0(%out: f32):
    %h = linalg.index 1 : index
    %j = linalg.index 2 : index
    %e = linalg.index 3 : index
    %0 = memref.load %p1[%c0] : memref<1xi64>
    %1 = arith.index_cast %0 : i64 to index
    %2 = arith.subi %j, %1 : index
    %3 = arith.cmpi sge, %2, %c0 : index
    %4 = arith.cmpi slt, %2, %c1 : index
    %5 = arith.andi %3, %4 : i1
    %6 = arith.minsi %2, %c0 : index
    %7 = arith.maxsi %6, %c0 : index
    %8 = memref.load %vt[%c0, %h, %7, %e] : memref<1x2x1x16xf32>
    %9 = arith.select %5, %8, %out : f32
    linalg.yield %9 : f32
  }
  linalg.transpose ins(%qn : memref<1x1x4x16xf32>) outs(%qt : memref<1x4x1x16xf32>) permutation = [0, 2, 1, 3]
  // The partial RoPE of k and q (8 of 16 dims), copied back.
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%kr : memref<1x2x1x8xf32>) {
  ^bb0(%out: f32):
    %h = linalg.index 1 : index
    %i = linalg.index 3 : index
    %lo = arith.cmpi ult, %i, %c4 : index
    %im = arith.subi %i, %c4 : index
    %a = arith.select %lo, %i, %im : index
    %b = arith.addi %a, %c4 : index
    %x1 = memref.load %kt[%c0, %h, %c0, %a] : memref<1x2x1x16xf32>
    %x2 = memref.load %kt[%c0, %h, %c0, %b] : memref<1x2x1x16xf32>
    %pp = memref.load %pos[%c0, %c0] : memref<1x1xi64>
    %pi = arith.index_cast %pp : i64 to index
    %cs = memref.load %cos[%pi, %a] : memref<40x4xf32>
    %sn = memref.load %sin[%pi, %a] : memref<40x4xf32>
    %0 = arith.mulf %cs, %x1 : f32
    %1 = arith.mulf %sn, %x2 : f32
    %2 = arith.subf %0, %1 : f32
    %3 = arith.mulf %sn, %x1 : f32
    %4 = arith.mulf %cs, %x2 : f32
    %5 = arith.addf %3, %4 : f32
    %6 = arith.select %lo, %2, %5 : f32
    linalg.yield %6 : f32
  }
  %ktr = memref.subview %kt[0, 0, 0, 0] [1, 2, 1, 8] [1, 1, 1, 1] : memref<1x2x1x16xf32> to memref<1x2x1x8xf32, strided<[32, 16, 16, 1]>>
  memref.copy %kr, %ktr : memref<1x2x1x8xf32> to memref<1x2x1x8xf32, strided<[32, 16, 16, 1]>>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%qr : memref<1x4x1x8xf32>) {
  ^bb0(%out: f32):
    %h = linalg.index 1 : index
    %i = linalg.index 3 : index
    %lo = arith.cmpi ult, %i, %c4 : index
    %im = arith.subi %i, %c4 : index
    %a = arith.select %lo, %i, %im : index
    %b = arith.addi %a, %c4 : index
    %x1 = memref.load %qt[%c0, %h, %c0, %a] : memref<1x4x1x16xf32>
    %x2 = memref.load %qt[%c0, %h, %c0, %b] : memref<1x4x1x16xf32>
    %pp = memref.load %pos[%c0, %c0] : memref<1x1xi64>
    %pi = arith.index_cast %pp : i64 to index
    %cs = memref.load %cos[%pi, %a] : memref<40x4xf32>
    %sn = memref.load %sin[%pi, %a] : memref<40x4xf32>
    %0 = arith.mulf %cs, %x1 : f32
    %1 = arith.mulf %sn, %x2 : f32
    %2 = arith.subf %0, %1 : f32
    %3 = arith.mulf %sn, %x1 : f32
    %4 = arith.mulf %cs, %x2 : f32
    %5 = arith.addf %3, %4 : f32
    %6 = arith.select %lo, %2, %5 : f32
    linalg.yield %6 : f32
  }
  %qtr = memref.subview %qt[0, 0, 0, 0] [1, 4, 1, 8] [1, 1, 1, 1] : memref<1x4x1x16xf32> to memref<1x4x1x8xf32, strided<[64, 16, 16, 1]>>
  memref.copy %qr, %qtr : memref<1x4x1x8xf32> to memref<1x4x1x8xf32, strided<[64, 16, 16, 1]>>
  // The new key row into its cache.
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%kc : memref<1x2x40x16xf32>) {
  ^bb0(%out: f32):
    %h = linalg.index 1 : index
    %j = linalg.index 2 : index
    %e = linalg.index 3 : index
    %0 = memref.load %p1[%c0] : memref<1xi64>
    %1 = arith.index_cast %0 : i64 to index
    %2 = arith.subi %j, %1 : index
    %3 = arith.cmpi sge, %2, %c0 : index
    %4 = arith.cmpi slt, %2, %c1 : index
    %5 = arith.andi %3, %4 : i1
    %6 = arith.minsi %2, %c0 : index
    %7 = arith.maxsi %6, %c0 : index
    %8 = memref.load %kt[%c0, %h, %7, %e] : memref<1x2x1x16xf32>
    %9 = arith.select %5, %8, %out : f32
    linalg.yield %9 : f32
  }
  // The attention.
  linalg.fill ins(%cz : f32) outs(%s : memref<1x4x1x40xf32>)
  // expected-remark @below {{also reads a buffer the prologue writes}}
  // expected-remark @below {{split decode attention: key cache write folded}}
  // expected-remark @below {{split decode attention: value cache write folded}}
  // expected-remark @below {{split decode attention: output transpose and gate folded}}
  // expected-remark @below {{split decode attention: combine in the last block of each kv head}}
  linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%qt, %kc : memref<1x4x1x16xf32>, memref<1x2x40x16xf32>) outs(%s : memref<1x4x1x40xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %sc : f32
    %1 = arith.mulf %b, %sc : f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #mask, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %m : memref<1x4x1x40xf32>, memref<1x40xi1>) outs(%s2 : memref<1x4x1x40xf32>) {
  ^bb0(%x: f32, %keep: i1, %out: f32):
    %0 = arith.select %keep, %cz, %ninf : f32
    %1 = arith.addf %x, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.fill ins(%ninf : f32) outs(%mx : memref<1x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s2 : memref<1x4x1x40xf32>) outs(%mx : memref<1x4x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %0 = arith.maximumf %x, %acc : f32
    linalg.yield %0 : f32
  }
  linalg.fill ins(%cz : f32) outs(%sm : memref<1x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s2, %mx : memref<1x4x1x40xf32>, memref<1x4x1xf32>) outs(%sm : memref<1x4x1xf32>) {
  ^bb0(%x: f32, %mm: f32, %acc: f32):
    %0 = arith.subf %x, %mm : f32
    %1 = math.exp %0 : f32
    %2 = arith.addf %acc, %1 : f32
    linalg.yield %2 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s2, %mx, %sm : memref<1x4x1x40xf32>, memref<1x4x1xf32>, memref<1x4x1xf32>) outs(%p : memref<1x4x1x40xf32>) {
  ^bb0(%x: f32, %mm: f32, %l: f32, %out: f32):
    %0 = arith.subf %x, %mm : f32
    %1 = math.exp %0 : f32
    %2 = arith.divf %1, %l : f32
    linalg.yield %2 : f32
  }
  linalg.fill ins(%cz : f32) outs(%y : memref<1x4x1x16xf32>)
  linalg.generic {indexing_maps = [#q, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vc : memref<1x4x1x40xf32>, memref<1x2x40x16xf32>) outs(%y : memref<1x4x1x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  // The output gate.
  linalg.transpose ins(%y : memref<1x4x1x16xf32>) outs(%yt : memref<1x1x4x16xf32>) permutation = [0, 2, 1, 3]
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%yt, %qg : memref<1x1x4x16xf32>, memref<1x1x4x16xf32, strided<[128, 128, 32, 1], offset: 16>>) outs(%z : memref<1x1x4x16xbf16>) {
  ^bb0(%a: f32, %g: f32, %out: bf16):
    %0 = arith.negf %g : f32
    %1 = math.exp %0 : f32
    %2 = arith.addf %1, %one : f32
    %3 = arith.divf %one, %2 : f32
    %4 = arith.mulf %a, %3 : f32
    %5 = arith.truncf %4 : f32 to bf16
    linalg.yield %5 : bf16
  }
  // Another reader of the normalized q rows: the prologue stays apart.
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%qn : memref<1x1x4x16xf32>) outs(%z : memref<1x1x4x16xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  return
}
