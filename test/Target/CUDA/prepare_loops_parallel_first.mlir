// RUN: sinter-opt %s --sinter-cuda-prepare-loops | FileCheck %s
// sinter-cuda-prepare-loops moves a generic's parallel loops outside its
// reductions, so that the generic loop mapping gives one thread per output
// element: the MoE's weighted sum over 8 experts, [1, 8, 1, 2048] ->
// [1, 1, 2048], had run in one thread.

#in = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#w = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
#out = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>

// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>
// CHECK-DAG: #[[$W:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, 0, 0)>
// CHECK-DAG: #[[$OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @weighted_sum
// CHECK: linalg.generic {indexing_maps = [#[[$IN]], #[[$W]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @weighted_sum(%y: memref<1x8x1x2048xf32>, %w: memref<1x8x1x1xf32>,
                        %o: memref<1x1x2048xf32>) {
  linalg.generic {indexing_maps = [#in, #w, #out],
                  iterator_types = ["parallel", "reduction", "parallel", "parallel"]}
      ins(%y, %w : memref<1x8x1x2048xf32>, memref<1x8x1x1xf32>)
      outs(%o : memref<1x1x2048xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// Already parallel-first: left as it is.
// CHECK-LABEL: func.func @row_sum
// CHECK: iterator_types = ["parallel", "reduction"]
#x2 = affine_map<(d0, d1) -> (d0, d1)>
#r2 = affine_map<(d0, d1) -> (d0)>
func.func @row_sum(%x: memref<4x8xf32>, %o: memref<4xf32>) {
  linalg.generic {indexing_maps = [#x2, #r2], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x8xf32>) outs(%o : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  }
  return
}
