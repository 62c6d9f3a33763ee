// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels | FileCheck %s
// A GEMV whose grid is resident at once (at most 4096 warps) interleaves
// the FMAs of an iteration's steps element by element, so every step's
// vectors are needed by the first elements and ptxas keeps all of the
// iteration's loads in flight together (it sinks them to their FMAs
// otherwise); at most 8 vectors per iteration (Gemv.cpp, planUnroll).

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// o_proj: 1024 blocks of 4 warps, split-K 2, 8 trips a lane: 4 steps of a
// weight and an activation vector per iteration. The accumulator takes
// element 0 of step 0, then element 0 of step 1, ...
// CHECK-LABEL: func.func @o_proj
// CHECK: gpu.launch
// CHECK: scf.for %{{.+}} = %c0{{.*}} to %c8{{.*}} step %c4
// CHECK: %[[W0:.+]] = vector.load %arg1
// CHECK: %[[W0E0:.+]] = vector.extract %[[W0]][0]
// CHECK: %[[W1:.+]] = vector.load %arg1
// CHECK: %[[W1E0:.+]] = vector.extract %[[W1]][0]
// CHECK: %[[W2:.+]] = vector.load %arg1
// CHECK: %[[W3:.+]] = vector.load %arg1
// CHECK-NOT: vector.load
// CHECK: %[[F0:.+]] = arith.extf %[[W0E0]]
// CHECK: %[[F1:.+]] = arith.extf %[[W1E0]]
// CHECK: arith.mulf %{{.+}}, %[[F0]]
// CHECK-NEXT: arith.addf
// CHECK-NEXT: arith.mulf %{{.+}}, %[[F1]]
// CHECK: scf.yield
// CHECK: sinter.kernel = "gemv m=1 n=2048 k=4096 vec=8 cols_per_warp=1 split_k=2 warps=4 grid=1024 unroll=4 interleave"
func.func @o_proj(%x: memref<1x4096xbf16>, %w: memref<2048x4096xbf16>, %y: memref<1x2048xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%y : memref<1x2048xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x4096xbf16>, memref<2048x4096xbf16>) outs(%y : memref<1x2048xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %v : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// lm_head's shape: 15520 blocks, far more than one wave; other warps hide
// the latency, so the steps stay in order (step 0's 8 elements first) with
// up to 20 vectors per iteration.
// CHECK-LABEL: func.func @lm_head
// CHECK: scf.for
// CHECK: %[[W0:.+]] = vector.load %arg1
// CHECK: %[[W0E0:.+]] = vector.extract %[[W0]][0]
// CHECK: %[[W0E1:.+]] = vector.extract %[[W0]][1]
// CHECK: %[[F0:.+]] = arith.extf %[[W0E0]]
// CHECK: %[[F1:.+]] = arith.extf %[[W0E1]]
// CHECK: arith.mulf %{{.+}}, %[[F0]]
// CHECK-NEXT: arith.addf
// CHECK-NEXT: arith.mulf %{{.+}}, %[[F1]]
// CHECK: sinter.kernel = "gemv m=1 n=248320 k=2048 vec=8 cols_per_warp=4 split_k=1 warps=4 grid=15520 unroll=4"
func.func @lm_head(%x: memref<1x2048xbf16>, %w: memref<248320x2048xbf16>, %y: memref<1x248320xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%y : memref<1x248320xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x2048xbf16>, memref<248320x2048xbf16>) outs(%y : memref<1x248320xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %v : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  return
}
