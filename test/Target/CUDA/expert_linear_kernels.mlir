// sinter.expert_linear after bufferization on the CUDA target: the
// contraction reads the weight through a load in its body, so no operand is
// shared by all rows and the row-reduction template (RowReduction.cpp)
// takes it: one block per output element (t, j, n) reducing over K, the
// expert index loaded inside the kernel and the weight element addressed
// from it, the zero fill and the f32 -> bf16 conversion absorbed. The
// weight here is [E, N, K] (no weight_kn) and there are two tokens: the
// expert GEMV (ExpertGemv.cpp, expert_gemv.mlir) takes neither.
// RUN: sinter-opt %s --sinter-cuda-form-kernels | FileCheck %s

// CHECK-LABEL: func.func @per_token_bf16
// CHECK-SAME: (%[[X:.+]]: memref<2x128xbf16>, %[[W:.+]]: memref<8x66x128xbf16>, %[[I:.+]]: memref<2x4xi64>, %[[Y:.+]]: memref<2x4x66xbf16>, %[[ACC:.+]]: memref<2x4x66xf32>)
// CHECK-NOT: linalg.
// CHECK: %[[ROWS:.+]] = arith.constant 528 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[ROWS]],
// CHECK: vector.load %[[X]]
// CHECK: %[[E:.+]] = memref.load %[[I]]
// CHECK: %[[C:.+]] = arith.index_cast %[[E]]
// CHECK: %[[WR:.+]] = arith.select %{{.+}}, %{{.+}}, %[[C]]
// CHECK: memref.load %[[W]][%[[WR]], %{{.+}}, %{{.+}}] : memref<8x66x128xbf16>
// CHECK: gpu.shuffle
// CHECK: arith.truncf
// CHECK: memref.store %{{.+}}, %[[Y]]
// CHECK-NOT: linalg.
#x = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
#xs = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @per_token_bf16(%x: memref<2x128xbf16>, %w: memref<8x66x128xbf16>, %idx: memref<2x4xi64>, %y: memref<2x4x66xbf16>, %acc: memref<2x4x66xf32>) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%acc : memref<2x4x66xf32>)
  linalg.generic {indexing_maps = [#x, #i, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %idx : memref<2x128xbf16>, memref<2x4xi64>) outs(%acc : memref<2x4x66xf32>) {
  ^bb0(%in: bf16, %in_0: i64, %out: f32):
    %0 = arith.index_cast %in_0 : i64 to index
    %1 = arith.cmpi slt, %0, %c0 : index
    %2 = arith.addi %0, %c8 : index
    %3 = arith.select %1, %2, %0 : index
    %4 = linalg.index 2 : index
    %5 = linalg.index 3 : index
    %6 = memref.load %w[%3, %4, %5] : memref<8x66x128xbf16>
    %7 = arith.extf %in : bf16 to f32
    %8 = arith.extf %6 : bf16 to f32
    %9 = arith.mulf %7, %8 : f32
    %10 = arith.addf %out, %9 : f32
    linalg.yield %10 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%acc : memref<2x4x66xf32>) outs(%y : memref<2x4x66xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  return
}
