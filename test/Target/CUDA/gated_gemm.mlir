// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=gpu-arch=sm_90a | FileCheck %s --enable-var-scope
// The gated GEMM (lib/Target/CUDA/GatedGemm.cpp): a gated linear over
// M > 8 rows whose prologue rounds act(gate) * up to bf16 becomes an
// elementwise launch writing the rounded operand into a workspace global,
// then the tensor-core GEMM over that buffer.

#x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#w = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// The prefill shared expert's down projection: gate and up are column
// slices of one packed [512, 1281] projection output (rows 1281 apart).
// CHECK: memref.global "private" constant @sinter_gated_gemm_operand_1_512_512_bf16 : memref<1x512x512xbf16> = dense<0.000000e+00> {alignment = 256 : i64}
// CHECK-LABEL: func.func @shared_expert_down
// CHECK: %[[WS:.+]] = memref.get_global @sinter_gated_gemm_operand_1_512_512_bf16
// CHECK: gpu.launch
// CHECK: memref.load %{{.+}} : memref<1x512x512xbf16, strided<[655872, 1281, 1], offset: 256>>
// CHECK: memref.load %{{.+}} : memref<1x512x512xbf16, strided<[655872, 1281, 1], offset: 768>>
// CHECK: math.exp
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// CHECK: arith.extf
// CHECK: %[[X:.+]] = arith.truncf %{{.+}} : f32 to bf16
// CHECK: memref.store %[[X]], %[[WS]]
// CHECK: } {sinter.kernel = "gated-gemm-operand m=512 k=512 threads=256"}
// CHECK-NOT: linalg.generic
// CHECK: sinter.kernel = "gemm m=512 n=2048 k=512
// CHECK-SAME: mma=wgmma
// CHECK-NOT: linalg.generic
func.func @shared_expert_down(%packed: memref<1x512x1281xbf16>, %w: memref<2048x512xbf16>, %arena: memref<4194304xi8>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  %g = memref.subview %packed[0, 0, 256] [1, 512, 512] [1, 1, 1] : memref<1x512x1281xbf16> to memref<1x512x512xbf16, strided<[655872, 1281, 1], offset: 256>>
  %u = memref.subview %packed[0, 0, 768] [1, 512, 512] [1, 1, 1] : memref<1x512x1281xbf16> to memref<1x512x512xbf16, strided<[655872, 1281, 1], offset: 768>>
  %acc = memref.view %arena[%c0][] : memref<4194304xi8> to memref<1x512x2048xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x512x2048xf32>)
  linalg.generic {indexing_maps = [#x, #x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g, %u, %w : memref<1x512x512xbf16, strided<[655872, 1281, 1], offset: 256>>, memref<1x512x512xbf16, strided<[655872, 1281, 1], offset: 768>>, memref<2048x512xbf16>) outs(%acc : memref<1x512x2048xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %in_1: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.negf %0 : f32
    %2 = math.exp %1 : f32
    %3 = arith.addf %2, %one : f32
    %4 = arith.divf %0, %3 : f32
    %5 = arith.extf %in_0 : bf16 to f32
    %6 = arith.mulf %4, %5 : f32
    %7 = arith.truncf %6 : f32 to bf16
    %8 = arith.extf %7 : bf16 to f32
    %9 = arith.extf %in_1 : bf16 to f32
    %10 = arith.mulf %8, %9 : f32
    %11 = arith.addf %out, %10 : f32
    linalg.yield %11 : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// Without the bf16 rounding of the product the operand cannot be
// materialized in bf16 without changing the numerics: refused, the
// contraction stays for the generic mapping.
// CHECK-LABEL: func.func @unrounded_prologue
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
func.func @unrounded_prologue(%g: memref<64x512xbf16>, %u: memref<64x512xbf16>, %w: memref<256x512xbf16>, %arena: memref<65536xi8>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %acc = memref.view %arena[%c0][] : memref<65536xi8> to memref<64x256xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<64x256xf32>)
  linalg.generic {indexing_maps = [#x, #x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%g, %u, %w : memref<64x512xbf16>, memref<64x512xbf16>, memref<256x512xbf16>) outs(%acc : memref<64x256xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %in_1: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %5 = arith.extf %in_0 : bf16 to f32
    %6 = arith.mulf %0, %5 : f32
    %9 = arith.extf %in_1 : bf16 to f32
    %10 = arith.mulf %6, %9 : f32
    %11 = arith.addf %out, %10 : f32
    linalg.yield %11 : f32
  }
  return
}
