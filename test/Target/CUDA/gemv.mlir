// sinter-cuda-form-kernels, GEMV template (lib/Target/CUDA/Gemv.cpp): the
// bufferized linears of M <= 8 rows become one gpu.launch each, with the
// init (zero fill or bias broadcast) and the f32 -> output conversion fused
// when nothing else reads the accumulator; without such an init the kernel
// adds onto the accumulator's contents (init=buffer).
// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels | FileCheck %s
// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=remarks=true 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#b = affine_map<(d0, d1) -> (d1)>

// bf16 with bias: 8-wide vectors (K = 64 is 8 of them, lanes 8..31 idle),
// warp shuffles, lane 0 adds the bias and rounds to bf16 into y.
// CHECK-LABEL: func.func @linear_bias_bf16
// CHECK-NOT:     linalg.generic
// CHECK:         gpu.launch
// CHECK-SAME:      threads({{.*}}) in (%{{.*}} = %c128,
// CHECK:           scf.for
// CHECK:             vector.load %{{.*}} {alignment = 16 : i64} : memref<1x64xbf16>, vector<8xbf16>
// CHECK:             vector.load %{{.*}} {alignment = 16 : i64} : memref<40x64xbf16>, vector<8xbf16>
// CHECK:           gpu.shuffle xor
// CHECK:           memref.load %{{.*}} : memref<40xbf16>
// CHECK:           arith.extf
// CHECK:           arith.truncf {{.*}} : f32 to bf16
// CHECK:           memref.store %{{.*}} : memref<1x40xbf16>
// CHECK:         } {sinter.kernel = "gemv m=1 n=40 k=64 vec=8 cols_per_warp=1 split_k=1 warps=4 grid=10 unroll=1"}
// CHECK-NOT:     linalg.generic
func.func @linear_bias_bf16(%x: memref<1x64xbf16>, %w: memref<40x64xbf16>, %b: memref<40xbf16>, %y: memref<1x40xbf16>, %arena: memref<256xi8>) {
  %c0 = arith.constant 0 : index
  %acc = memref.view %arena[%c0][] : memref<256xi8> to memref<1x40xf32>
  linalg.generic {indexing_maps = [#b, #id], iterator_types = ["parallel", "parallel"]} ins(%b : memref<40xbf16>) outs(%acc : memref<1x40xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x64xbf16>, memref<40x64xbf16>) outs(%acc : memref<1x40xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %v : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc : memref<1x40xf32>) outs(%y : memref<1x40xbf16>) {
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

// f32, K = 100: 4-wide vectors divide K; 100/4 = 25 vectors is not a
// multiple of 32, so the loop runs per lane (no unroll). No epilogue: the
// accumulator is the output.
// CHECK-LABEL: func.func @linear_f32_k100
// CHECK:         gpu.launch
// CHECK:           vector.load %{{.*}} {alignment = 16 : i64} : memref<3x100xf32>, vector<4xf32>
// CHECK:         } {sinter.kernel = "gemv m=3 n=7 k=100 vec=4 cols_per_warp=1 split_k=1 warps=4 grid=2 unroll=1"}
// CHECK-NOT:     linalg
func.func @linear_f32_k100(%x: memref<3x100xf32>, %w: memref<7x100xf32>, %y: memref<3x7xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%y : memref<3x7xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<3x100xf32>, memref<7x100xf32>) outs(%y : memref<3x7xf32>) {
  ^bb0(%a: f32, %v: f32, %s: f32):
    %2 = arith.mulf %a, %v : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// Few columns, long K: 4 warps split K and meet in shared memory.
// CHECK-LABEL: func.func @linear_split_k
// CHECK:         gpu.launch {{.*}} workgroup(%[[SM:.+]] : memref<4x2xf32, #gpu.address_space<workgroup>>)
// CHECK:           gpu.shuffle xor
// CHECK:           memref.store %{{.*}}, %[[SM]]
// CHECK:           gpu.barrier
// CHECK:           memref.load %[[SM]]
// CHECK:         } {sinter.kernel = "gemv m=2 n=40 k=2048 vec=8 cols_per_warp=1 split_k=4 warps=4 grid=40 unroll=2 interleave"}
func.func @linear_split_k(%x: memref<2x2048xbf16>, %w: memref<40x2048xbf16>, %y: memref<2x40xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%y : memref<2x40xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<2x2048xbf16>, memref<40x2048xbf16>) outs(%y : memref<2x40xf32>) {
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

// Many columns: 4 per warp, 4 steps per iteration; column loads past N are
// clamped to row N-1 and their stores guarded.
// CHECK-LABEL: func.func @linear_wide
// CHECK:         gpu.launch
// CHECK:           arith.minui %{{.*}}, %c20000
// CHECK-COUNT-16:    vector.load %{{.*}} : memref<20001x1024xbf16>, vector<8xbf16>
// CHECK:         } {sinter.kernel = "gemv m=1 n=20001 k=1024 vec=8 cols_per_warp=4 split_k=1 warps=4 grid=1251 unroll=4"}
func.func @linear_wide(%x: memref<1x1024xbf16>, %w: memref<20001x1024xbf16>, %y: memref<1x20001xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%y : memref<1x20001xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x1024xbf16>, memref<20001x1024xbf16>) outs(%y : memref<1x20001xf32>) {
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

#x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#w = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// A gated linear whose gate and up are the subview halves of a fused
// projection (rows 33 apart, so scalar loads): the prologue silu(g) * u is
// the body's own ops, cloned per loaded element.
// CHECK-LABEL: func.func @gated_strided
// CHECK:         gpu.launch
// CHECK:           vector.load %{{.*}} : memref<1x8x16xf32, strided<[264, 33, 1]>>, vector<1xf32>
// CHECK:           vector.load %{{.*}} : memref<1x8x16xf32, strided<[264, 33, 1], offset: 16>>, vector<1xf32>
// CHECK:           arith.negf
// CHECK-NEXT:      math.exp
// CHECK-NEXT:      arith.addf
// CHECK-NEXT:      arith.divf
// CHECK-NEXT:      arith.mulf
// CHECK:         } {sinter.kernel = "gemv m=8 n=64 k=16 vec=1 cols_per_warp=1 split_k=1 warps=4 grid=16 unroll=1"}
// CHECK-NOT:     linalg.generic
func.func @gated_strided(%gu: memref<1x8x33xf32>, %w: memref<64x16xf32>, %y: memref<1x8x64xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  %g = memref.subview %gu[0, 0, 0] [1, 8, 16] [1, 1, 1] : memref<1x8x33xf32> to memref<1x8x16xf32, strided<[264, 33, 1]>>
  %u = memref.subview %gu[0, 0, 16] [1, 8, 16] [1, 1, 1] : memref<1x8x33xf32> to memref<1x8x16xf32, strided<[264, 33, 1], offset: 16>>
  linalg.fill ins(%cst : f32) outs(%y : memref<1x8x64xf32>)
  linalg.generic {indexing_maps = [#x, #x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g, %u, %w : memref<1x8x16xf32, strided<[264, 33, 1]>>, memref<1x8x16xf32, strided<[264, 33, 1], offset: 16>>, memref<64x16xf32>) outs(%y : memref<1x8x64xf32>) {
  ^bb0(%a: f32, %b: f32, %v: f32, %s: f32):
    %0 = arith.negf %a : f32
    %1 = math.exp %0 : f32
    %2 = arith.addf %1, %one : f32
    %3 = arith.divf %a, %2 : f32
    %4 = arith.mulf %3, %b : f32
    %5 = arith.mulf %4, %v : f32
    %6 = arith.addf %s, %5 : f32
    linalg.yield %6 : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// The accumulator is read again after the conversion: the kernel writes the
// f32 accumulator and the conversion stays.
// CHECK-LABEL: func.func @acc_read_later
// CHECK:         gpu.launch
// CHECK:           memref.store %{{.*}} : memref<1x40xf32>
// CHECK:         } {sinter.kernel
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : memref<1x40xf32>) outs(%{{.*}} : memref<1x40xbf16>)
// CHECK:         memref.copy
func.func @acc_read_later(%x: memref<1x64xbf16>, %w: memref<40x64xbf16>, %y: memref<1x40xbf16>, %z: memref<1x40xf32>, %arena: memref<256xi8>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %acc = memref.view %arena[%c0][] : memref<256xi8> to memref<1x40xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x40xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x64xbf16>, memref<40x64xbf16>) outs(%acc : memref<1x40xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %v : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc : memref<1x40xf32>) outs(%y : memref<1x40xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  memref.copy %acc, %z : memref<1x40xf32> to memref<1x40xf32>
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// The memory plan gave the conversion's output the bytes of the activation
// (dead after the contraction in the unfused program): writing y from the
// kernel would overwrite x while other blocks read it, so the kernel
// writes the f32 accumulator and the conversion stays. The activation is
// a collapse_shape of the arena view: its bytes are the view's.
// CHECK-LABEL: func.func @output_aliases_activation
// CHECK:         gpu.launch
// CHECK:           memref.store %{{.*}} : memref<1x40xf32>
// CHECK:         } {sinter.kernel
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : memref<1x40xf32>) outs(%{{.*}} : memref<1x40xbf16>)
func.func @output_aliases_activation(%w: memref<40x64xbf16>, %arena: memref<512xi8>) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %cst = arith.constant 0.000000e+00 : f32
  %x3 = memref.view %arena[%c0][] : memref<512xi8> to memref<1x1x64xbf16>
  %x = memref.collapse_shape %x3 [[0], [1, 2]] : memref<1x1x64xbf16> into memref<1x64xbf16>
  %acc = memref.view %arena[%c256][] : memref<512xi8> to memref<1x40xf32>
  %y = memref.view %arena[%c0][] : memref<512xi8> to memref<1x40xbf16>
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x40xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x64xbf16>, memref<40x64xbf16>) outs(%acc : memref<1x40xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %v : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc : memref<1x40xf32>) outs(%y : memref<1x40xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  return
}

// -----

// The same with the output 128 bytes further: disjoint from x, the kernel
// writes y itself and the conversion is gone.
// CHECK-LABEL: func.func @output_after_activation
// CHECK:         gpu.launch
// CHECK:           arith.truncf {{.*}} : f32 to bf16
// CHECK:           memref.store %{{.*}} : memref<1x40xbf16>
// CHECK:         } {sinter.kernel
// CHECK-NOT:     linalg.generic
func.func @output_after_activation(%w: memref<40x64xbf16>, %arena: memref<512xi8>) {
  %c0 = arith.constant 0 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  %cst = arith.constant 0.000000e+00 : f32
  %x3 = memref.view %arena[%c0][] : memref<512xi8> to memref<1x1x64xbf16>
  %x = memref.collapse_shape %x3 [[0], [1, 2]] : memref<1x1x64xbf16> into memref<1x64xbf16>
  %acc = memref.view %arena[%c256][] : memref<512xi8> to memref<1x40xf32>
  %y = memref.view %arena[%c128][] : memref<512xi8> to memref<1x40xbf16>
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x40xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x64xbf16>, memref<40x64xbf16>) outs(%acc : memref<1x40xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %v : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%acc : memref<1x40xf32>) outs(%y : memref<1x40xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#wt = affine_map<(d0, d1, d2) -> (d2, d1)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// Refused (left to the generic mapping): 9 rows (M > 8), a [K, N] weight,
// an f64 linear. With `remarks`, a refused linear says why (the [K, N]
// weight is no linear to the template: no remark).
// CHECK-LABEL: func.func @refused
// CHECK-NOT:     gpu.launch
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT:     gpu.launch
// REMARK: remark: sinter-cuda-form-kernels: gemv refused: M = 9 rows > 8: not a GEMV
// REMARK-NOT: gemv refused: weight
// REMARK: remark: sinter-cuda-form-kernels: gemv refused: accumulator is not f32
func.func @refused(%x9: memref<9x64xf32>, %w: memref<40x64xf32>, %y9: memref<9x40xf32>,
                   %x: memref<1x64xf32>, %wkn: memref<64x40xf32>, %y: memref<1x40xf32>,
                   %xd: memref<1x64xf64>, %wd: memref<40x64xf64>, %yd: memref<1x40xf64>) {
  %cst = arith.constant 0.000000e+00 : f32
  %cstd = arith.constant 0.000000e+00 : f64
  linalg.fill ins(%cst : f32) outs(%y9 : memref<9x40xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x9, %w : memref<9x64xf32>, memref<40x64xf32>) outs(%y9 : memref<9x40xf32>) {
  ^bb0(%a: f32, %v: f32, %s: f32):
    %2 = arith.mulf %a, %v : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.fill ins(%cst : f32) outs(%y : memref<1x40xf32>)
  linalg.generic {indexing_maps = [#x, #wt, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %wkn : memref<1x64xf32>, memref<64x40xf32>) outs(%y : memref<1x40xf32>) {
  ^bb0(%a: f32, %v: f32, %s: f32):
    %2 = arith.mulf %a, %v : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.fill ins(%cstd : f64) outs(%yd : memref<1x40xf64>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%xd, %wd : memref<1x64xf64>, memref<40x64xf64>) outs(%yd : memref<1x40xf64>) {
  ^bb0(%a: f64, %v: f64, %s: f64):
    %2 = arith.mulf %a, %v : f64
    %3 = arith.addf %s, %2 : f64
    linalg.yield %3 : f64
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// The accumulator's zero fill is not right before the contraction (CSE
// merged it with an earlier one and bufferization left it there: bench8's
// last GDN in_proj): the kernel adds its sums onto what the accumulator
// holds (init=buffer), read by the lane that overwrites it; the fill, the
// op in between and the conversion stay.
// CHECK-LABEL: func.func @init_from_buffer
// CHECK:         linalg.fill {{.*}} outs(%[[ACC:.+]] : memref<1x40xf32>)
// CHECK:         math.tanh
// CHECK:         gpu.launch
// CHECK:           vector.load %{{.*}} : memref<40x64xbf16>, vector<8xbf16>
// CHECK:           gpu.shuffle xor
// CHECK:           %[[OLD:.+]] = memref.load %[[ACC]]
// CHECK:           %[[NEW:.+]] = arith.addf %[[OLD]],
// CHECK:           memref.store %[[NEW]], %[[ACC]]
// CHECK:         } {sinter.kernel = "gemv m=1 n=40 k=64 vec=8 cols_per_warp=1 split_k=1 warps=4 grid=10 unroll=1 init=buffer"}
// CHECK:         linalg.generic {{.*}} ins(%[[ACC]] : memref<1x40xf32>) outs(%{{.*}} : memref<1x40xbf16>)
func.func @init_from_buffer(%x: memref<1x64xbf16>, %w: memref<40x64xbf16>, %y: memref<1x40xbf16>, %t: memref<1x40xf32>, %arena: memref<256xi8>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %acc = memref.view %arena[%c0][] : memref<256xi8> to memref<1x40xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x40xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%t : memref<1x40xf32>) outs(%t : memref<1x40xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.tanh %in : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<1x64xbf16>, memref<40x64xbf16>) outs(%acc : memref<1x40xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %v : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc : memref<1x40xf32>) outs(%y : memref<1x40xbf16>) {
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

// An accumulator filled with 1.0 right before: no zero or bias init, so
// the fill stays and the kernel adds onto it (init=buffer), split-K and
// 2 rows included.
// CHECK-LABEL: func.func @init_one_split_k
// CHECK:         linalg.fill ins(%{{.*}} : f32) outs(%[[Y:.+]] : memref<2x40xf32>)
// CHECK:         gpu.launch
// CHECK:           gpu.barrier
// CHECK-COUNT-2:   memref.load %[[Y]]
// CHECK:         } {sinter.kernel = "gemv m=2 n=40 k=2048 vec=8 cols_per_warp=1 split_k=4 warps=4 grid=40 unroll=2 init=buffer interleave"}
// CHECK-NOT:     linalg.generic
func.func @init_one_split_k(%x: memref<2x2048xbf16>, %w: memref<40x2048xbf16>, %y: memref<2x40xf32>) {
  %one = arith.constant 1.000000e+00 : f32
  linalg.fill ins(%one : f32) outs(%y : memref<2x40xf32>)
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<2x2048xbf16>, memref<40x2048xbf16>) outs(%y : memref<2x40xf32>) {
  ^bb0(%a: bf16, %v: bf16, %s: f32):
    %0 = arith.extf %a : bf16 to f32
    %1 = arith.extf %v : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %s, %2 : f32
    linalg.yield %3 : f32
  }
  return
}
