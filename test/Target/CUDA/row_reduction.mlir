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
// row that keeps the row in registers (two 16-byte vectors of 8 bf16 per
// thread, no loop), f32 partials, warp shuffles, then the 8 warp results
// through shared memory; one thread rounds to bf16 and stores. The output's
// init is read (no fill to absorb).
// CHECK-LABEL: func.func @max_bf16
// CHECK-SAME: (%[[X:.+]]: memref<4x4096xbf16>, %[[M:.+]]: memref<4xbf16>)
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C4]],
// CHECK-SAME: workgroup(%[[SMEM:.+]] : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: scf.for
// CHECK-COUNT-2: vector.load %[[X]]{{.*}} {alignment = 16 : i64} : memref<4x4096xbf16>, vector<8xbf16>
// CHECK-NOT: scf.for
// CHECK: arith.extf {{.*}} : bf16 to f32
// CHECK: arith.maximumf {{.*}} : f32
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: memref.store {{.*}}, %[[SMEM]]
// CHECK: gpu.barrier
// CHECK-COUNT-8: memref.load %[[SMEM]]
// CHECK: scf.if
// CHECK: memref.load %[[M]]
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: memref.store {{.*}}, %[[M]]
// CHECK: sinter.kernel = "rows count=4 length=4096 threads=256 vec=8 chunks=2 members=1"
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
#w = affine_map<(d0, d1, d2) -> (d2)>

// The decode step's residual add + RMSNorm + bf16 conversion (bench8's
// kernels 13/28): the read-only inputs (x, the residual r, the weight) are
// loaded once, up front, as 16-byte vectors; the sum h = x + r is stored
// (the residual stream) and handed in registers to the sum of squares and
// the normalization, whose f32 result goes to the conversion in registers
// too: h, the sum and y are never read back. The sum reaches every thread
// (the fill was absorbed), so the normalization does not load it.
// CHECK-LABEL: func.func @residual_rms_norm
// CHECK-SAME: (%[[X:.+]]: memref<2x1x2048xf32>, %[[R:.+]]: memref<2x1x2048xf32>, %[[W:.+]]: memref<2048xf32>, %[[A:.+]]: memref<33280xi8>, %[[O:.+]]: memref<2x1x2048xbf16>)
// CHECK-DAG: %[[H:.+]] = memref.view %[[A]]{{.*}} to memref<2x1x2048xf32>
// CHECK-DAG: %[[S:.+]] = memref.view %[[A]]{{.*}} to memref<2x1xf32>
// CHECK-DAG: %[[Y:.+]] = memref.view %[[A]]{{.*}} to memref<2x1x2048xf32>
// CHECK-NOT: linalg.
// CHECK: gpu.launch
// CHECK-COUNT-2: vector.load %[[X]]
// CHECK-COUNT-2: vector.load %[[R]]
// CHECK-COUNT-2: vector.load %[[W]]
// CHECK-NOT: memref.load %[[H]]
// CHECK-NOT: vector.load %[[H]]
// CHECK: arith.addf
// CHECK-COUNT-2: vector.store {{.*}}, %[[H]]
// CHECK-NOT: memref.load %[[H]]
// CHECK-NOT: vector.load %[[H]]
// CHECK: gpu.barrier
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: scf.if
// CHECK: memref.store {{.*}}, %[[S]]
// CHECK-NOT: memref.load %[[S]]
// CHECK: math.sqrt
// CHECK: arith.divf
// CHECK-COUNT-2: vector.store {{.*}}, %[[Y]]
// CHECK-NOT: vector.load %[[Y]]
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK-COUNT-2: vector.store {{.*}}, %[[O]]{{.*}} {alignment = 8 : i64} : memref<2x1x2048xbf16>, vector<4xbf16>
// CHECK: sinter.kernel = "rows count=2 length=2048 threads=256 vec=4 chunks=2 members=4"
// CHECK-NOT: linalg.
// CHECK: return
func.func @residual_rms_norm(%x: memref<2x1x2048xf32>, %r: memref<2x1x2048xf32>, %w: memref<2048xf32>, %arena: memref<33280xi8>, %o: memref<2x1x2048xbf16>) {
  %c0 = arith.constant 0 : index
  %c16384 = arith.constant 16384 : index
  %c33216 = arith.constant 33216 : index
  %h = memref.view %arena[%c0][] : memref<33280xi8> to memref<2x1x2048xf32>
  %y = memref.view %arena[%c16384][] : memref<33280xi8> to memref<2x1x2048xf32>
  %s = memref.view %arena[%c33216][] : memref<33280xi8> to memref<2x1xf32>
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 2048.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  linalg.generic {indexing_maps = [#x, #x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %r : memref<2x1x2048xf32>, memref<2x1x2048xf32>) outs(%h : memref<2x1x2048xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %t = arith.truncf %b : f32 to bf16
    %e = arith.extf %t : bf16 to f32
    %sum = arith.addf %a, %e : f32
    linalg.yield %sum : f32
  }
  linalg.fill ins(%zero : f32) outs(%s : memref<2x1xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%h : memref<2x1x2048xf32>) outs(%s : memref<2x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %r2 = arith.addf %acc, %sq : f32
    linalg.yield %r2 : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #w, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h, %s, %w : memref<2x1x2048xf32>, memref<2x1xf32>, memref<2048xf32>) outs(%y : memref<2x1x2048xf32>) {
  ^bb0(%a: f32, %sum: f32, %g: f32, %out: f32):
    %m = arith.divf %sum, %n : f32
    %p = arith.addf %m, %eps : f32
    %q = math.sqrt %p : f32
    %t = arith.divf %a, %q : f32
    %u = arith.mulf %t, %g : f32
    linalg.yield %u : f32
  }
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y : memref<2x1x2048xf32>) outs(%o : memref<2x1x2048xbf16>) {
  ^bb0(%a: f32, %out: bf16):
    %t = arith.truncf %a : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// -----

#x = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// Rows of 1000 f32: 250 vectors of 4 for 256 threads, so the (only) chunk
// is ragged: its index is clamped into the row for the loads, the
// reduction takes the identity for the vectors past the row, and the
// stores are guarded.
// CHECK-LABEL: func.func @ragged_sum
// CHECK-SAME: (%[[X:.+]]: memref<3x1000xf32>, %[[S:.+]]: memref<3xf32>, %[[Y:.+]]: memref<3x1000xf32>)
// CHECK: gpu.launch
// CHECK: %[[C250:.+]] = arith.constant 250 : index
// CHECK: %[[IN:.+]] = arith.cmpi ult, %{{.+}}, %[[C250]] : index
// CHECK: %[[C249:.+]] = arith.constant 249 : index
// CHECK: arith.minui %{{.+}}, %[[C249]] : index
// CHECK: vector.load %[[X]]
// CHECK: arith.select %[[IN]]
// CHECK: gpu.shuffle  xor
// CHECK: scf.if %[[IN]]
// CHECK-NEXT: vector.from_elements
// CHECK-NEXT: vector.store {{.*}}, %[[Y]]
// CHECK: sinter.kernel = "rows count=3 length=1000 threads=256 vec=4 chunks=1 members=2"
func.func @ragged_sum(%x: memref<3x1000xf32>, %s: memref<3xf32>, %y: memref<3x1000xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%s : memref<3xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<3x1000xf32>) outs(%s : memref<3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #x], iterator_types = ["parallel", "parallel"]}
      ins(%x, %s : memref<3x1000xf32>, memref<3xf32>) outs(%y : memref<3x1000xf32>) {
  ^bb0(%a: f32, %t: f32, %o: f32):
    %r = arith.divf %a, %t : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1) -> (d0, d1)>
#xt = affine_map<(d0, d1) -> (d1, d0)>
#row = affine_map<(d0, d1) -> (d0)>

// Rows of 130: vectors of 2 (4 does not divide 130), 65 of them for 96
// threads. The transposed operand (its row index is not the innermost
// dimension) is read element by element; the contiguous one as vectors.
// CHECK-LABEL: func.func @narrow_and_transposed
// CHECK-SAME: (%[[X:.+]]: memref<2x130xf32>, %[[XT:.+]]: memref<130x2xf32>, %[[S:.+]]: memref<2xf32>, %[[Y:.+]]: memref<2x130xf32>)
// CHECK: gpu.launch
// CHECK: vector.load %[[X]]{{.*}} : memref<2x130xf32>, vector<2xf32>
// CHECK-COUNT-2: memref.load %[[XT]]
// CHECK: sinter.kernel = "rows count=2 length=130 threads=96 vec=2 chunks=1 members=2"
func.func @narrow_and_transposed(%x: memref<2x130xf32>, %xt: memref<130x2xf32>, %s: memref<2xf32>, %y: memref<2x130xf32>) {
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<2x130xf32>) outs(%s : memref<2xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #xt, #row, #x], iterator_types = ["parallel", "parallel"]}
      ins(%x, %xt, %s : memref<2x130xf32>, memref<130x2xf32>, memref<2xf32>) outs(%y : memref<2x130xf32>) {
  ^bb0(%a: f32, %b: f32, %t: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.divf %m, %t : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// A masked max over rows of 128: the f32 row is read as 16-byte vectors,
// the i1 mask element by element (no bit-packed vectors in memory).
// CHECK-LABEL: func.func @masked_max
// CHECK-SAME: (%[[X:.+]]: memref<4x128xf32>, %[[K:.+]]: memref<4x128xi1>, %[[M:.+]]: memref<4xf32>)
// CHECK: gpu.launch
// CHECK: vector.load %[[X]]{{.*}} : memref<4x128xf32>, vector<4xf32>
// CHECK-COUNT-4: memref.load %[[K]]
// CHECK-NOT: vector.load %[[K]]
// CHECK: arith.select
// CHECK: sinter.kernel = "rows count=4 length=128 threads=32 vec=4 chunks=1 members=1"
func.func @masked_max(%x: memref<4x128xf32>, %k: memref<4x128xi1>, %m: memref<4xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  linalg.fill ins(%ninf : f32) outs(%m : memref<4xf32>)
  linalg.generic {indexing_maps = [#x, #x, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x, %k : memref<4x128xf32>, memref<4x128xi1>) outs(%m : memref<4xf32>) {
  ^bb0(%a: f32, %keep: i1, %acc: f32):
    %v = arith.select %keep, %a, %ninf : f32
    %r = arith.maximumf %acc, %v : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// A row too long for registers (65536 f32: 64 vectors per thread > 8):
// the strided loop, every phase reading the row from memory.
// CHECK-LABEL: func.func @long_row
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: sinter.kernel = "rows count=1 length=65536 threads=256 strided members=1"
func.func @long_row(%x: memref<1x65536xf32>, %s: memref<1xf32>) {
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<1x65536xf32>) outs(%s : memref<1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
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

// -----

#x = affine_map<(d0, d1) -> (d0, d1)>
#r = affine_map<(d0, d1) -> (d0)>
#t = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// The group (a scale, then a row sum) passes over two transposes over other
// rows: both read one view of %qkv defined after the group's first op, and
// touch nothing the group touches. Both move above
// the group, the view once and before them (bench8's attention layer: the
// q/k/v transposes of one fused projection), and the group is one launch.
// CHECK-LABEL: func.func @pass_over_two
// CHECK:       %[[V:.+]] = memref.subview
// CHECK:       linalg.transpose ins(%[[V]]
// CHECK:       linalg.transpose ins(%[[V]]
// CHECK:       gpu.launch
// CHECK:       sinter.kernel = "rows
// CHECK-NOT:   linalg.generic
func.func @pass_over_two(%x: memref<4x256xf32>, %qkv: memref<2x3x8xf32>, %a: memref<3x2x8xf32>, %b: memref<3x2x8xf32>, %y: memref<4x256xf32>, %s: memref<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %two = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x256xf32>) outs(%y : memref<4x256xf32>) {
  ^bb0(%p: f32, %o: f32):
    %m = arith.mulf %p, %two : f32
    linalg.yield %m : f32
  }
  %v = memref.subview %qkv[0, 0, 0] [2, 3, 8] [1, 1, 1] : memref<2x3x8xf32> to memref<2x3x8xf32, strided<[24, 8, 1]>>
  linalg.transpose ins(%v : memref<2x3x8xf32, strided<[24, 8, 1]>>) outs(%a : memref<3x2x8xf32>) permutation = [1, 0, 2]
  linalg.transpose ins(%v : memref<2x3x8xf32, strided<[24, 8, 1]>>) outs(%b : memref<3x2x8xf32>) permutation = [1, 0, 2]
  linalg.fill ins(%zero : f32) outs(%s : memref<4xf32>)
  linalg.generic {indexing_maps = [#x, #r], iterator_types = ["parallel", "reduction"]}
      ins(%y : memref<4x256xf32>) outs(%s : memref<4xf32>) {
  ^bb0(%p: f32, %acc: f32):
    %q = arith.addf %acc, %p : f32
    linalg.yield %q : f32
  }
  return
}
