// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels | FileCheck %s
// A one-row residual add + RMSNorm + bf16 conversion followed by the GEMV
// that reads the conversion's output: no norm kernel. Every GEMV block
// (16 warps) recomputes the row in registers (RowReduction.cpp's register
// path) into shared memory, block 0 alone stores the group's outputs for
// later kernels, and the K loop reads the activation from shared memory
// (GemvPrologue.h, Gemv.cpp).

#x = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#w = affine_map<(d0, d1, d2) -> (d2)>
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// CHECK-LABEL: func.func @norm_gemv
// CHECK-SAME: (%[[X:.+]]: memref<1x1x2048xf32>, %[[R:.+]]: memref<1x1x2048xf32>, %[[G:.+]]: memref<2048xf32>, %[[W:.+]]: memref<1000x2048xbf16>, %[[ARENA:.+]]: memref<65536xi8>, %{{.+}}: memref<1x1x2048xf32>)
// CHECK-DAG: %[[H:.+]] = memref.view %[[ARENA]]{{.*}} to memref<1x1x2048xf32>
// CHECK-DAG: %[[A:.+]] = memref.view %[[ARENA]]{{.*}} to memref<1x1x2048xbf16>
// CHECK-DAG: %[[OUT:.+]] = memref.view %[[ARENA]]{{.*}} to memref<1x1x1000xbf16>
// CHECK-NOT: linalg.
// CHECK: gpu.launch
// CHECK-SAME: workgroup({{.*}} : memref<16x1xf32, #gpu.address_space<workgroup>>, %[[SCRATCH:.+]] : memref<16xf32, #gpu.address_space<workgroup>>, %[[STAGED:.+]] : memref<256xvector<8xbf16>, #gpu.address_space<workgroup>>)
// CHECK: %[[BLOCK0:.+]] = arith.cmpi eq, %{{.+}}, %c0
// CHECK: vector.load %[[X]]{{.*}} : memref<1x1x2048xf32>, vector<8xf32>
// CHECK: vector.load %[[R]]{{.*}} : memref<1x1x2048xf32>, vector<8xf32>
// CHECK: vector.load %[[G]]{{.*}} : memref<2048xf32>, vector<8xf32>
// CHECK: arith.andi %{{.+}}, %[[BLOCK0]]
// CHECK: scf.if
// CHECK: vector.store {{.*}}, %[[H]]
// CHECK: gpu.shuffle  xor
// CHECK: memref.store {{.*}}, %[[SCRATCH]]
// CHECK: math.sqrt
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: vector.store {{.*}}, %[[A]]
// CHECK: memref.store {{.*}}, %[[STAGED]]
// CHECK: gpu.barrier
// CHECK-NOT: scf.for
// CHECK: memref.load %[[STAGED]]
// CHECK-NOT: vector.load %[[W]]
// CHECK: memref.store {{.*}}, %[[OUT]]
// CHECK: sinter.kernel = "gemv m=1 n=1000 k=2048 vec=8 cols_per_warp=1 split_k=4 warps=16 grid=250 unroll={{[0-9]+}} prologue=rows
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @norm_gemv(%x: memref<1x1x2048xf32>, %r: memref<1x1x2048xf32>, %g: memref<2048xf32>, %wt: memref<1000x2048xbf16>, %arena: memref<65536xi8>, %next: memref<1x1x2048xf32>) {
  %c0 = arith.constant 0 : index
  %c8192 = arith.constant 8192 : index
  %c16384 = arith.constant 16384 : index
  %c24576 = arith.constant 24576 : index
  %c28672 = arith.constant 28672 : index
  %c32768 = arith.constant 32768 : index
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 2048.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  %h = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x1x2048xf32>
  %y = memref.view %arena[%c8192][] : memref<65536xi8> to memref<1x1x2048xf32>
  %a = memref.view %arena[%c16384][] : memref<65536xi8> to memref<1x1x2048xbf16>
  %s = memref.view %arena[%c24576][] : memref<65536xi8> to memref<1x1xf32>
  %acc = memref.view %arena[%c28672][] : memref<65536xi8> to memref<1x1x1000xf32>
  %out = memref.view %arena[%c32768][] : memref<65536xi8> to memref<1x1x1000xbf16>
  linalg.generic {indexing_maps = [#x, #x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %r : memref<1x1x2048xf32>, memref<1x1x2048xf32>) outs(%h : memref<1x1x2048xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %sum = arith.addf %p, %q : f32
    linalg.yield %sum : f32
  }
  linalg.fill ins(%zero : f32) outs(%s : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%h : memref<1x1x2048xf32>) outs(%s : memref<1x1xf32>) {
  ^bb0(%p: f32, %acc0: f32):
    %sq = arith.mulf %p, %p : f32
    %r2 = arith.addf %acc0, %sq : f32
    linalg.yield %r2 : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #w, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h, %s, %g : memref<1x1x2048xf32>, memref<1x1xf32>, memref<2048xf32>) outs(%y : memref<1x1x2048xf32>) {
  ^bb0(%p: f32, %sum: f32, %gw: f32, %o: f32):
    %m = arith.divf %sum, %n : f32
    %e = arith.addf %m, %eps : f32
    %q = math.sqrt %e : f32
    %t = arith.divf %p, %q : f32
    %u = arith.mulf %t, %gw : f32
    linalg.yield %u : f32
  }
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y : memref<1x1x2048xf32>) outs(%a : memref<1x1x2048xbf16>) {
  ^bb0(%p: f32, %o: bf16):
    %t = arith.truncf %p : f32 to bf16
    linalg.yield %t : bf16
  }
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x1x1000xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %wt : memref<1x1x2048xbf16>, memref<1000x2048xbf16>) outs(%acc : memref<1x1x1000xf32>) {
  ^bb0(%p: bf16, %q: bf16, %o: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %sum = arith.addf %o, %m : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x1x1000xf32>) outs(%out : memref<1x1x1000xbf16>) {
  ^bb0(%p: f32, %o: bf16):
    %t = arith.truncf %p : f32 to bf16
    linalg.yield %t : bf16
  }
  // The residual stream h is read after the GEMV (block 0 stores it).
  memref.copy %h, %next : memref<1x1x2048xf32> to memref<1x1x2048xf32>
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// Refused: the GEMV's accumulator reuses the bytes of the residual r (dead
// after the add in program order), which every block of a fused kernel
// would still read: the norm keeps its own kernel, then the plain GEMV.
// CHECK-LABEL: func.func @output_reuses_input
// CHECK: gpu.launch
// CHECK: sinter.kernel = "rows count=1 length=2048
// CHECK: gpu.launch
// CHECK: sinter.kernel = "gemv m=1 n=1000 k=2048 vec=8 cols_per_warp=1 split_k=4 warps=4 grid=1000 unroll={{[0-9]+}}
func.func @output_reuses_input(%x: memref<1x1x2048xf32>, %wt: memref<1000x2048xbf16>, %arena: memref<65536xi8>, %out: memref<1x1x1000xbf16>) {
  %c0 = arith.constant 0 : index
  %c8192 = arith.constant 8192 : index
  %c16384 = arith.constant 16384 : index
  %c24576 = arith.constant 24576 : index
  %zero = arith.constant 0.0 : f32
  %r = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x1x2048xf32>
  %acc = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x1x1000xf32>
  %h = memref.view %arena[%c8192][] : memref<65536xi8> to memref<1x1x2048xf32>
  %a = memref.view %arena[%c16384][] : memref<65536xi8> to memref<1x1x2048xbf16>
  %s = memref.view %arena[%c24576][] : memref<65536xi8> to memref<1x1xf32>
  linalg.generic {indexing_maps = [#x, #x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %r : memref<1x1x2048xf32>, memref<1x1x2048xf32>) outs(%h : memref<1x1x2048xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %sum = arith.addf %p, %q : f32
    linalg.yield %sum : f32
  }
  linalg.fill ins(%zero : f32) outs(%s : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%h : memref<1x1x2048xf32>) outs(%s : memref<1x1xf32>) {
  ^bb0(%p: f32, %acc0: f32):
    %sq = arith.mulf %p, %p : f32
    %r2 = arith.addf %acc0, %sq : f32
    linalg.yield %r2 : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h, %s : memref<1x1x2048xf32>, memref<1x1xf32>) outs(%a : memref<1x1x2048xbf16>) {
  ^bb0(%p: f32, %sum: f32, %o: bf16):
    %t = arith.divf %p, %sum : f32
    %u = arith.truncf %t : f32 to bf16
    linalg.yield %u : bf16
  }
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x1x1000xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %wt : memref<1x1x2048xbf16>, memref<1000x2048xbf16>) outs(%acc : memref<1x1x1000xf32>) {
  ^bb0(%p: bf16, %q: bf16, %o: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %sum = arith.addf %o, %m : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x1x1000xf32>) outs(%out : memref<1x1x1000xbf16>) {
  ^bb0(%p: f32, %o: bf16):
    %t = arith.truncf %p : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// The accumulator reuses the bytes of the row's sum of squares, which
// nothing after the group reads: fused, and the sum is never stored (block
// 0 would race with the blocks writing the accumulator).
// CHECK-LABEL: func.func @dead_sum
// CHECK-SAME: (%[[X:.+]]: memref<1x1x2048xf32>, %{{.+}}: memref<1000x2048xbf16>, %[[ARENA:.+]]: memref<65536xi8>, %{{.+}}: memref<1x1x1000xbf16>)
// CHECK: %[[S:.+]] = memref.view %[[ARENA]]{{.*}} to memref<1x1xf32>
// CHECK: gpu.launch
// CHECK-NOT: memref.store {{.*}}, %[[S]]
// CHECK: sinter.kernel = "gemv m=1 n=1000 k=2048 vec=8 cols_per_warp=1 split_k=4 warps=16 grid=250 unroll={{[0-9]+}} prologue=rows
// CHECK-NOT: gpu.launch
func.func @dead_sum(%x: memref<1x1x2048xf32>, %wt: memref<1000x2048xbf16>, %arena: memref<65536xi8>, %out: memref<1x1x1000xbf16>) {
  %c0 = arith.constant 0 : index
  %c16384 = arith.constant 16384 : index
  %zero = arith.constant 0.0 : f32
  %s = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x1xf32>
  %acc = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x1x1000xf32>
  %a = memref.view %arena[%c16384][] : memref<65536xi8> to memref<1x1x2048xbf16>
  linalg.fill ins(%zero : f32) outs(%s : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<1x1x2048xf32>) outs(%s : memref<1x1xf32>) {
  ^bb0(%p: f32, %acc0: f32):
    %sq = arith.mulf %p, %p : f32
    %r2 = arith.addf %acc0, %sq : f32
    linalg.yield %r2 : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %s : memref<1x1x2048xf32>, memref<1x1xf32>) outs(%a : memref<1x1x2048xbf16>) {
  ^bb0(%p: f32, %sum: f32, %o: bf16):
    %t = arith.divf %p, %sum : f32
    %u = arith.truncf %t : f32 to bf16
    linalg.yield %u : bf16
  }
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x1x1000xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %wt : memref<1x1x2048xbf16>, memref<1000x2048xbf16>) outs(%acc : memref<1x1x1000xf32>) {
  ^bb0(%p: bf16, %q: bf16, %o: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %sum = arith.addf %o, %m : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x1x1000xf32>) outs(%out : memref<1x1x1000xbf16>) {
  ^bb0(%p: f32, %o: bf16):
    %t = arith.truncf %p : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// -----

#x4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#r4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#w4 = affine_map<(d0, d1, d2, d3) -> (d3)>
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#x = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// A GatedDeltaNet layer's gated RMSNorm (8 value heads of 128: rmsnorm(o_h)
// * w * silu(z_h), bf16) read flattened by out_proj: no norm kernel. Each
// GEMV block runs all 8 rows, 16 lanes a row (a half-warp shuffle
// reduction, no shared-memory step), stages row r's vectors at r * 16, and
// stores neither the sums nor the activation (only the GEMV reads them);
// threads past the last row store nothing (the staging is guarded). No
// barrier before the staging's: no member reads what another thread wrote
// and no reduction uses the scratch. K = 1024 is 4 vectors a lane: the
// peeled first iteration is all of it (no loop).
// CHECK-LABEL: func.func @gated_norm_heads
// CHECK-SAME: (%[[O:.+]]: memref<1x1x8x128xf32>, %[[P:.+]]: memref<1x1x2048xbf16>, %[[G:.+]]: memref<128xf32>, %[[W:.+]]: memref<64x1024xbf16>, %[[ARENA:.+]]: memref<65536xi8>, %[[OUT:.+]]: memref<1x1x64xbf16>)
// CHECK-NOT: linalg.
// CHECK: gpu.launch
// CHECK-SAME: %[[STAGED:[^ ]+]] : memref<128xvector<8xbf16>, #gpu.address_space<workgroup>>)
// CHECK: %[[ROW:.+]] = arith.divui %{{.+}}, %c16
// CHECK: %[[IN:.+]] = arith.cmpi ult, %[[ROW]], %c8
// CHECK: %[[CLAMPED:.+]] = arith.minui %[[ROW]], %c7
// CHECK: %[[BASE:.+]] = arith.muli %[[CLAMPED]], %c16
// CHECK: vector.load %[[O]]{{.*}} : memref<1x1x8x128xf32>, vector<8xf32>
// CHECK: vector.load %[[G]]{{.*}} : memref<128xf32>, vector<8xf32>
// CHECK: vector.load {{.*}} : memref<1x1x8x128xbf16, strided<[2048, 2048, 128, 1], offset: 1024>>, vector<8xbf16>
// CHECK: gpu.shuffle  xor %{{.+}}, %c8_i32
// CHECK: gpu.shuffle  xor %{{.+}}, %c4_i32
// CHECK: gpu.shuffle  xor %{{.+}}, %c2_i32
// CHECK: gpu.shuffle  xor %{{.+}}, %c1_i32
// CHECK-NOT: memref.store
// CHECK-NOT: gpu.barrier
// CHECK: math.exp
// CHECK: math.sqrt
// CHECK-NOT: vector.store
// CHECK: scf.if %[[IN]]
// CHECK: %[[AT:.+]] = arith.addi %[[BASE]]
// CHECK: memref.store {{.*}}, %[[STAGED]][%[[AT]]]
// CHECK: gpu.barrier
// CHECK-NOT: scf.for
// CHECK: memref.load %[[STAGED]]
// CHECK-NOT: vector.load %[[W]]
// CHECK: memref.store {{.*}}, %[[OUT]]
// CHECK: sinter.kernel = "gemv m=1 n=64 k=1024 {{.*}}warps=16 {{.*}}prologue=rows
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @gated_norm_heads(%o: memref<1x1x8x128xf32>, %proj: memref<1x1x2048xbf16>, %g: memref<128xf32>, %wt: memref<64x1024xbf16>, %arena: memref<65536xi8>, %out: memref<1x1x64xbf16>) {
  %c0 = arith.constant 0 : index
  %c4096 = arith.constant 4096 : index
  %c8192 = arith.constant 8192 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %n = arith.constant 128.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  %s = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x1x8xf32>
  %y = memref.view %arena[%c4096][] : memref<65536xi8> to memref<1x1x8x128xbf16>
  %acc = memref.view %arena[%c8192][] : memref<65536xi8> to memref<1x1x64xf32>
  %zs = memref.subview %proj[0, 0, 1024] [1, 1, 1024] [1, 1, 1] : memref<1x1x2048xbf16> to memref<1x1x1024xbf16, strided<[2048, 2048, 1], offset: 1024>>
  %z = memref.expand_shape %zs [[0], [1], [2, 3]] output_shape [1, 1, 8, 128] : memref<1x1x1024xbf16, strided<[2048, 2048, 1], offset: 1024>> into memref<1x1x8x128xbf16, strided<[2048, 2048, 128, 1], offset: 1024>>
  linalg.fill ins(%zero : f32) outs(%s : memref<1x1x8xf32>)
  linalg.generic {indexing_maps = [#x4, #r4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%o : memref<1x1x8x128xf32>) outs(%s : memref<1x1x8xf32>) {
  ^bb0(%p: f32, %acc0: f32):
    %sq = arith.mulf %p, %p : f32
    %r2 = arith.addf %acc0, %sq : f32
    linalg.yield %r2 : f32
  }
  linalg.generic {indexing_maps = [#x4, #r4, #w4, #x4, #x4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%o, %s, %g, %z : memref<1x1x8x128xf32>, memref<1x1x8xf32>, memref<128xf32>, memref<1x1x8x128xbf16, strided<[2048, 2048, 128, 1], offset: 1024>>) outs(%y : memref<1x1x8x128xbf16>) {
  ^bb0(%p: f32, %sum: f32, %gw: f32, %zb: bf16, %ob: bf16):
    %ze = arith.extf %zb : bf16 to f32
    %zn = arith.negf %ze : f32
    %ex = math.exp %zn : f32
    %de = arith.addf %ex, %one : f32
    %si = arith.divf %ze, %de : f32
    %m = arith.divf %sum, %n : f32
    %e = arith.addf %m, %eps : f32
    %q = math.sqrt %e : f32
    %t = arith.divf %p, %q : f32
    %u = arith.mulf %t, %gw : f32
    %v = arith.mulf %u, %si : f32
    %vb = arith.truncf %v : f32 to bf16
    linalg.yield %vb : bf16
  }
  %flat = memref.collapse_shape %y [[0], [1], [2, 3]] : memref<1x1x8x128xbf16> into memref<1x1x1024xbf16>
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x1x64xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%flat, %wt : memref<1x1x1024xbf16>, memref<64x1024xbf16>) outs(%acc : memref<1x1x64xf32>) {
  ^bb0(%p: bf16, %q: bf16, %o2: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %sum = arith.addf %o2, %m : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x1x64xf32>) outs(%out : memref<1x1x64xbf16>) {
  ^bb0(%p: f32, %ob: bf16):
    %t = arith.truncf %p : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// -----

#x4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#r4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// Refused: 512 rows of 128 would need 16 vectors a thread in one pass of
// a 512-thread GEMV block; the norm keeps its kernel (a block per row).
// CHECK-LABEL: func.func @too_many_rows
// CHECK: sinter.kernel = "rows count=512 length=128
// CHECK: sinter.kernel = "gemv m=1 n=8 k=65536
// CHECK-NOT: prologue=rows
func.func @too_many_rows(%o: memref<1x1x512x128xf32>, %wt: memref<8x65536xbf16>, %arena: memref<262144xi8>, %acc: memref<1x1x8xf32>) {
  %c0 = arith.constant 0 : index
  %c4096 = arith.constant 4096 : index
  %zero = arith.constant 0.0 : f32
  %s = memref.view %arena[%c0][] : memref<262144xi8> to memref<1x1x512xf32>
  %y = memref.view %arena[%c4096][] : memref<262144xi8> to memref<1x1x512x128xbf16>
  linalg.fill ins(%zero : f32) outs(%s : memref<1x1x512xf32>)
  linalg.generic {indexing_maps = [#x4, #r4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%o : memref<1x1x512x128xf32>) outs(%s : memref<1x1x512xf32>) {
  ^bb0(%p: f32, %acc0: f32):
    %sq = arith.mulf %p, %p : f32
    %r2 = arith.addf %acc0, %sq : f32
    linalg.yield %r2 : f32
  }
  linalg.generic {indexing_maps = [#x4, #r4, #x4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%o, %s : memref<1x1x512x128xf32>, memref<1x1x512xf32>) outs(%y : memref<1x1x512x128xbf16>) {
  ^bb0(%p: f32, %sum: f32, %ob: bf16):
    %t = arith.divf %p, %sum : f32
    %u = arith.truncf %t : f32 to bf16
    linalg.yield %u : bf16
  }
  %flat = memref.collapse_shape %y [[0], [1], [2, 3]] : memref<1x1x512x128xbf16> into memref<1x1x65536xbf16>
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x1x8xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%flat, %wt : memref<1x1x65536xbf16>, memref<8x65536xbf16>) outs(%acc : memref<1x1x8xf32>) {
  ^bb0(%p: bf16, %q: bf16, %o2: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %sum = arith.addf %o2, %m : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// Two reductions (a LayerNorm: the mean, then the variance of the centered
// row) as a GEMV prologue: no barrier between members, but the second
// reduction waits once before it reuses the shared scratch the first
// one's result was read from (RowRegisters.cpp).
// CHECK-LABEL: func.func @layernorm_gemv
// CHECK: gpu.launch
// CHECK-SAME: %[[SCRATCH:[^ ]+]] : memref<16xf32, #gpu.address_space<workgroup>>, %[[STAGED:[^ ]+]] : memref<256xvector<8xbf16>, #gpu.address_space<workgroup>>)
// CHECK: memref.store {{.*}}, %[[SCRATCH]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[SCRATCH]]
// CHECK-NOT: memref.store {{.*}}, %[[SCRATCH]]
// CHECK: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: memref.store {{.*}}, %[[SCRATCH]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[SCRATCH]]
// CHECK-NOT: gpu.barrier
// CHECK: memref.store {{.*}}, %[[STAGED]]
// CHECK: gpu.barrier
// CHECK: sinter.kernel = "gemv m=1 n=1000 k=2048 {{.*}}prologue=rows
#x = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @layernorm_gemv(%x: memref<1x1x2048xf32>, %wt: memref<1000x2048xbf16>, %arena: memref<131072xi8>, %out: memref<1x1x1000xbf16>) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %c8192 = arith.constant 8192 : index
  %c16384 = arith.constant 16384 : index
  %cacc = arith.constant 32768 : index
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 2048.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %s = memref.view %arena[%c0][] : memref<131072xi8> to memref<1x1xf32>
  %v = memref.view %arena[%c64][] : memref<131072xi8> to memref<1x1xf32>
  %d = memref.view %arena[%c8192][] : memref<131072xi8> to memref<1x1x2048xf32>
  %a = memref.view %arena[%c16384][] : memref<131072xi8> to memref<1x1x2048xbf16>
  %acc = memref.view %arena[%cacc][] : memref<131072xi8> to memref<1x1x1000xf32>
  linalg.fill ins(%zero : f32) outs(%s : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<1x1x2048xf32>) outs(%s : memref<1x1xf32>) {
  ^bb0(%p: f32, %acc0: f32):
    %r = arith.addf %acc0, %p : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %s : memref<1x1x2048xf32>, memref<1x1xf32>) outs(%d : memref<1x1x2048xf32>) {
  ^bb0(%p: f32, %sum: f32, %o: f32):
    %m = arith.divf %sum, %n : f32
    %t = arith.subf %p, %m : f32
    linalg.yield %t : f32
  }
  linalg.fill ins(%zero : f32) outs(%v : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%d : memref<1x1x2048xf32>) outs(%v : memref<1x1xf32>) {
  ^bb0(%p: f32, %acc0: f32):
    %sq = arith.mulf %p, %p : f32
    %r = arith.addf %acc0, %sq : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%d, %v : memref<1x1x2048xf32>, memref<1x1xf32>) outs(%a : memref<1x1x2048xbf16>) {
  ^bb0(%p: f32, %var: f32, %o: bf16):
    %m = arith.divf %var, %n : f32
    %e = arith.addf %m, %eps : f32
    %q = math.sqrt %e : f32
    %t = arith.divf %p, %q : f32
    %b = arith.truncf %t : f32 to bf16
    linalg.yield %b : bf16
  }
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x1x1000xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %wt : memref<1x1x2048xbf16>, memref<1000x2048xbf16>) outs(%acc : memref<1x1x1000xf32>) {
  ^bb0(%p: bf16, %q: bf16, %o: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %sum = arith.addf %o, %m : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x1x1000xf32>) outs(%out : memref<1x1x1000xbf16>) {
  ^bb0(%p: f32, %o: bf16):
    %t = arith.truncf %p : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// The lm_head's final norm (a 248320-wide vocabulary): 3880 blocks each
// recompute the norm, under the 4096-block cap (Gemv.cpp,
// kMaxPrologueBlocks: measured as fast as the GEMV alone on an H100, the
// norm's launch gone).
// CHECK-LABEL: func.func @lm_head_norm
// CHECK: gpu.launch
// CHECK: sinter.kernel = "gemv m=1 n=248320 k=2048 {{.*}} warps=16 grid=3880 {{.*}}prologue=rows
// CHECK-NOT: gpu.launch
func.func @lm_head_norm(%x: memref<1x1x2048xf32>, %wt: memref<248320x2048xbf16>, %arena: memref<1003520xi8>, %out: memref<1x1x248320xbf16>) {
  %c0 = arith.constant 0 : index
  %c16384 = arith.constant 995328 : index
  %zero = arith.constant 0.0 : f32
  %s = memref.view %arena[%c0][] : memref<1003520xi8> to memref<1x1xf32>
  %acc = memref.view %arena[%c0][] : memref<1003520xi8> to memref<1x1x248320xf32>
  %a = memref.view %arena[%c16384][] : memref<1003520xi8> to memref<1x1x2048xbf16>
  linalg.fill ins(%zero : f32) outs(%s : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<1x1x2048xf32>) outs(%s : memref<1x1xf32>) {
  ^bb0(%p: f32, %acc0: f32):
    %sq = arith.mulf %p, %p : f32
    %r2 = arith.addf %acc0, %sq : f32
    linalg.yield %r2 : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %s : memref<1x1x2048xf32>, memref<1x1xf32>) outs(%a : memref<1x1x2048xbf16>) {
  ^bb0(%p: f32, %sum: f32, %o: bf16):
    %t = arith.divf %p, %sum : f32
    %u = arith.truncf %t : f32 to bf16
    linalg.yield %u : bf16
  }
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x1x248320xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %wt : memref<1x1x2048xbf16>, memref<248320x2048xbf16>) outs(%acc : memref<1x1x248320xf32>) {
  ^bb0(%p: bf16, %q: bf16, %o: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %sum = arith.addf %o, %m : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x1x248320xf32>) outs(%out : memref<1x1x248320xbf16>) {
  ^bb0(%p: f32, %o: bf16):
    %t = arith.truncf %p : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// Past 4096 blocks the norm stays a kernel of its own.
// CHECK-LABEL: func.func @too_many_blocks
// CHECK: sinter.kernel = "rows count=1 length=2048
// CHECK: sinter.kernel = "gemv m=1 n=266240 k=2048 {{.*}} grid=16640
// CHECK-NOT: prologue=rows
func.func @too_many_blocks(%x: memref<1x1x2048xf32>, %wt: memref<266240x2048xbf16>, %arena: memref<1073152xi8>, %out: memref<1x1x266240xbf16>) {
  %c0 = arith.constant 0 : index
  %c16384 = arith.constant 1064960 : index
  %zero = arith.constant 0.0 : f32
  %s = memref.view %arena[%c0][] : memref<1073152xi8> to memref<1x1xf32>
  %acc = memref.view %arena[%c0][] : memref<1073152xi8> to memref<1x1x266240xf32>
  %a = memref.view %arena[%c16384][] : memref<1073152xi8> to memref<1x1x2048xbf16>
  linalg.fill ins(%zero : f32) outs(%s : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<1x1x2048xf32>) outs(%s : memref<1x1xf32>) {
  ^bb0(%p: f32, %acc0: f32):
    %sq = arith.mulf %p, %p : f32
    %r2 = arith.addf %acc0, %sq : f32
    linalg.yield %r2 : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %s : memref<1x1x2048xf32>, memref<1x1xf32>) outs(%a : memref<1x1x2048xbf16>) {
  ^bb0(%p: f32, %sum: f32, %o: bf16):
    %t = arith.divf %p, %sum : f32
    %u = arith.truncf %t : f32 to bf16
    linalg.yield %u : bf16
  }
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x1x266240xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %wt : memref<1x1x2048xbf16>, memref<266240x2048xbf16>) outs(%acc : memref<1x1x266240xf32>) {
  ^bb0(%p: bf16, %q: bf16, %o: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %sum = arith.addf %o, %m : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x1x266240xf32>) outs(%out : memref<1x1x266240xbf16>) {
  ^bb0(%p: f32, %o: bf16):
    %t = arith.truncf %p : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}


// -----

#tok = affine_map<(d0, d1, d2) -> (d0, d1)>
#x = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#w = affine_map<(d0, d1, d2) -> (d2)>
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#m1 = affine_map<(d0, d1) -> (d1)>
#m2 = affine_map<(d0, d1) -> (d0, d1)>
#m0 = affine_map<(d0, d1) -> (d0, 0)>

// An embedding gather, then an op over other rows that shares no buffer
// with the group (bench8's attention mask), then the RMSNorm and the
// linear: the mask op moves above the gather and the gather (its table
// load cloned per element) joins the norm in the GEMV's prologue: one
// launch, the mask a generic before it.
// CHECK-LABEL: func.func @gather_norm_gemv
// CHECK:       linalg.generic
// CHECK-SAME:    outs(%{{.+}} : memref<1x64xi1>)
// CHECK-NOT:   linalg.generic
// CHECK:       gpu.launch
// CHECK:         memref.load %{{.+}} : memref<1x1xi64>
// CHECK:         memref.load %{{.+}} : memref<100x2048xbf16>
// CHECK:       } {sinter.kernel = "gemv m=1 n=1000 k=2048 {{.*}}prologue=rows
// CHECK-NOT:   gpu.launch
func.func @gather_norm_gemv(%ids: memref<1x1xi64>, %pos: memref<1x1xi64>, %r: memref<64xi64>, %table: memref<100x2048xbf16>, %g: memref<2048xf32>, %wt: memref<1000x2048xbf16>, %arena: memref<65536xi8>, %out: memref<1x1x1000xbf16>) {
  %c0 = arith.constant 0 : index
  %c8192 = arith.constant 8192 : index
  %c16384 = arith.constant 16384 : index
  %c24576 = arith.constant 24576 : index
  %zero = arith.constant 0.0 : f32
  %h = memref.view %arena[%c8192][] : memref<65536xi8> to memref<1x1x2048xf32>
  linalg.generic {indexing_maps = [#tok, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ids : memref<1x1xi64>) outs(%h : memref<1x1x2048xf32>) {
  ^bb0(%id: i64, %o: f32):
    %j = linalg.index 2 : index
    %t = arith.index_cast %id : i64 to index
    %e = memref.load %table[%t, %j] : memref<100x2048xbf16>
    %f = arith.extf %e : bf16 to f32
    linalg.yield %f : f32
  }
  %mask = memref.view %arena[%c24576][] : memref<65536xi8> to memref<1x64xi1>
  linalg.generic {indexing_maps = [#m1, #m0, #m2], iterator_types = ["parallel", "parallel"]}
      ins(%r, %pos : memref<64xi64>, memref<1x1xi64>) outs(%mask : memref<1x64xi1>) {
  ^bb0(%i: i64, %p: i64, %o: i1):
    %le = arith.cmpi sle, %i, %p : i64
    linalg.yield %le : i1
  }
  %s = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x1xf32>
  %acc = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x1x1000xf32>
  %act = memref.view %arena[%c16384][] : memref<65536xi8> to memref<1x1x2048xbf16>
  linalg.fill ins(%zero : f32) outs(%s : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%h : memref<1x1x2048xf32>) outs(%s : memref<1x1xf32>) {
  ^bb0(%p: f32, %acc0: f32):
    %sq = arith.mulf %p, %p : f32
    %r2 = arith.addf %acc0, %sq : f32
    linalg.yield %r2 : f32
  }
  linalg.generic {indexing_maps = [#x, #row, #w, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h, %s, %g : memref<1x1x2048xf32>, memref<1x1xf32>, memref<2048xf32>) outs(%act : memref<1x1x2048xbf16>) {
  ^bb0(%p: f32, %sum: f32, %gw: f32, %o: bf16):
    %t = arith.divf %p, %sum : f32
    %u = arith.mulf %t, %gw : f32
    %v = arith.truncf %u : f32 to bf16
    linalg.yield %v : bf16
  }
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x1x1000xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%act, %wt : memref<1x1x2048xbf16>, memref<1000x2048xbf16>) outs(%acc : memref<1x1x1000xf32>) {
  ^bb0(%p: bf16, %q: bf16, %o: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %sum = arith.addf %o, %m : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#x, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x1x1000xf32>) outs(%out : memref<1x1x1000xbf16>) {
  ^bb0(%p: f32, %o: bf16):
    %t = arith.truncf %p : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}
