// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels | FileCheck %s
// The row-reduction template (lib/Target/CUDA/RowReduction.cpp): reductions
// over the innermost loop, with the fill before them and the elementwise ops
// over the same rows after them, as one kernel; and what it leaves alone.

#x = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#w = affine_map<(d0, d1) -> (d1)>

// RMSNorm over 64-element rows: fill, sum of squares, normalize -> one
// launch, a warp per row (8 rows per 256-thread block: 13 blocks for 100
// rows), shuffles, a barrier before the normalization reads the sums.
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.+]]: memref<100x64xf32>, %[[W:.+]]: memref<64xf32>, %[[Y:.+]]: memref<100x64xf32>, %[[S:.+]]: memref<100xf32>)
// CHECK-NOT: linalg.
// CHECK-DAG: %[[C13:.+]] = arith.constant 13 : index
// CHECK-DAG: %[[C256:.+]] = arith.constant 256 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C13]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[C256]],
// CHECK: scf.for
// CHECK: memref.load %[[X]]
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: scf.if
// CHECK: memref.store {{.*}}, %[[S]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: memref.load %[[S]]
// CHECK: math.rsqrt
// CHECK: memref.store {{.*}}, %[[Y]]
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: return
func.func @rms_norm(%x: memref<100x64xf32>, %w: memref<64xf32>, %y: memref<100x64xf32>, %s: memref<100xf32>) {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 64.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  linalg.fill ins(%zero : f32) outs(%s : memref<100xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<100x64xf32>) outs(%s : memref<100xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %r = arith.addf %acc, %sq : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #w, #x], iterator_types = ["parallel", "parallel"]}
      ins(%x, %s, %w : memref<100x64xf32>, memref<100xf32>, memref<64xf32>) outs(%y : memref<100x64xf32>) {
  ^bb0(%a: f32, %sum: f32, %g: f32, %o: f32):
    %m = arith.divf %sum, %n : f32
    %p = arith.addf %m, %eps : f32
    %r = math.rsqrt %p : f32
    %t = arith.mulf %a, %r : f32
    %u = arith.mulf %t, %g : f32
    linalg.yield %u : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// bf16 rows of 4096, reduce-max into a bf16 output: a 256-thread block per
// row, f32 partials, warp shuffles, then the 8 warp results through shared
// memory; one thread rounds to bf16 and stores. The output's init is read
// (no fill to absorb).
// CHECK-LABEL: func.func @max_bf16
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C4]],
// CHECK-SAME: workgroup(%[[SMEM:.+]] : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for {{.*}} -> (f32)
// CHECK: arith.extf {{.*}} : bf16 to f32
// CHECK: arith.maximumf {{.*}} : f32
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: memref.store {{.*}}, %[[SMEM]]
// CHECK: gpu.barrier
// CHECK-COUNT-8: memref.load %[[SMEM]]
// CHECK: scf.if
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: memref.store
// CHECK-NOT: linalg.
// CHECK: return
func.func @max_bf16(%x: memref<4x4096xbf16>, %m: memref<4xbf16>) {
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x4096xbf16>) outs(%m : memref<4xbf16>) {
  ^bb0(%a: bf16, %acc: bf16):
    %r = arith.maximumf %acc, %a : bf16
    linalg.yield %r : bf16
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>

// Softmax over the last axis of [2, 3, 16], as the lowering spells it: max,
// sum of exp(x - max), normalize: one launch with three phases; both fills
// absorbed (no linalg.fill left).
// CHECK-LABEL: func.func @softmax
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch
// CHECK: arith.maximumf
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: gpu.barrier
// CHECK: math.exp
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: gpu.barrier
// CHECK: arith.divf
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: return
func.func @softmax(%x: memref<2x3x16xf32>, %y: memref<2x3x16xf32>, %arena: memref<64xi8>) {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %max = memref.view %arena[%c0][] : memref<64xi8> to memref<2x3xf32>
  %sum = memref.view %arena[%c32][] : memref<64xi8> to memref<2x3xf32>
  linalg.fill ins(%ninf : f32) outs(%max : memref<2x3xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<2x3x16xf32>) outs(%max : memref<2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %acc, %a : f32
    linalg.yield %r : f32
  }
  linalg.fill ins(%zero : f32) outs(%sum : memref<2x3xf32>)
  linalg.generic {indexing_maps = [#x, #row, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %max : memref<2x3x16xf32>, memref<2x3xf32>) outs(%sum : memref<2x3xf32>) {
  ^bb0(%a: f32, %m: f32, %acc: f32):
    %d = arith.subf %a, %m : f32
    %e = math.exp %d : f32
    %r = arith.addf %acc, %e : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #row, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %max, %sum : memref<2x3x16xf32>, memref<2x3xf32>, memref<2x3xf32>) outs(%y : memref<2x3x16xf32>) {
  ^bb0(%a: f32, %m: f32, %s: f32, %o: f32):
    %d = arith.subf %a, %m : f32
    %e = math.exp %d : f32
    %r = arith.divf %e, %s : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#col = affine_map<(d0, d1) -> (d1)>

// Refused, left to the generic mapping:
// - a reduction over the outer loop (reduce over axis 0);
// - an integer combiner;
// - argmax (two outputs: value and index);
// - a normalization that reads the row sums of OTHER rows (d1 -> sums[d1]):
//   the group keeps only the reduction, the elementwise op stays.
// CHECK-LABEL: func.func @refused
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.addi
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.cmpf
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: return
func.func @refused(%x: memref<8x8xf32>, %i: memref<8x8xi32>, %cols: memref<8xf32>, %isum: memref<8xi32>, %amax: memref<8xf32>, %aidx: memref<8xi32>, %sums: memref<8xf32>, %y: memref<8x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<8x8xf32>) outs(%cols : memref<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "reduction"]}
      ins(%i : memref<8x8xi32>) outs(%isum : memref<8xi32>) {
  ^bb0(%a: i32, %acc: i32):
    %r = arith.addi %acc, %a : i32
    linalg.yield %r : i32
  }
  linalg.generic {indexing_maps = [#x, #row, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x8xf32>) outs(%amax, %aidx : memref<8xf32>, memref<8xi32>) {
  ^bb0(%a: f32, %m: f32, %k: i32):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i32
    %gt = arith.cmpf ogt, %a, %m : f32
    %nm = arith.select %gt, %a, %m : f32
    %nk = arith.select %gt, %ji, %k : i32
    linalg.yield %nm, %nk : f32, i32
  }
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x8xf32>) outs(%sums : memref<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #col, #x], iterator_types = ["parallel", "parallel"]}
      ins(%x, %sums : memref<8x8xf32>, memref<8xf32>) outs(%y : memref<8x8xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %r = arith.divf %a, %s : f32
    linalg.yield %r : f32
  }
  return
}
