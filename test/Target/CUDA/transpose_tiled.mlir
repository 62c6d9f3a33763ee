// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=gpu-arch=sm_90a | FileCheck %s --enable-var-scope
// The tiled transpose template (lib/Target/CUDA/Transpose.cpp): a
// linalg.transpose that moves the innermost dimension goes through 32 x 32
// tiles of shared memory (rows padded to 33), 32 x 8 threads per block,
// reads and writes coalesced; the other dimensions are the grid's z.

// GatedDeltaNet's prompt conv layout change, [1, 512, 8192] -> [1, 8192, 512]:
// 8192 / 32 x 512 / 32 tiles. Read phase: lanes along the input's innermost
// (8192); write phase: lanes along the output's innermost (512), the tile
// read transposed.
// CHECK-LABEL: func.func @gdn_conv_layout
// CHECK-NOT: linalg.transpose
// CHECK-DAG: %[[C256:.+]] = arith.constant 256 : index
// CHECK-DAG: %[[C16:.+]] = arith.constant 16 : index
// CHECK: gpu.launch blocks(%[[BX:.+]], %[[BY:.+]], %[[BZ:.+]]) in ({{.*}} = %[[C256]], {{.*}} = %[[C16]], {{.*}}) threads(%[[TX:.+]], %[[TY:.+]], %{{.+}}) in
// CHECK-SAME: workgroup(%[[TILE:.+]] : memref<32x33xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[V:.+]] = memref.load %arg0[%{{.+}}, %{{.+}}, %[[IN:.+]]] : memref<1x512x8192xf32>
// CHECK: memref.store %[[V]], %[[TILE]][%{{.+}}, %[[TX]]]
// CHECK: gpu.barrier
// CHECK: %[[W:.+]] = memref.load %[[TILE]][%[[TX]], %{{.+}}]
// CHECK: memref.store %[[W]], %arg1[%{{.+}}, %{{.+}}, %{{.+}}] : memref<1x8192x512xf32>
// CHECK: sinter.kernel = "transpose 8192x512 batch=1 tile=32x32 grid=256x16x1 threads=32x8"
func.func @gdn_conv_layout(%x: memref<1x512x8192xf32>, %y: memref<1x8192x512xf32>) {
  linalg.transpose ins(%x : memref<1x512x8192xf32>) outs(%y : memref<1x8192x512xf32>) permutation = [0, 2, 1]
  return
}

// -----

// Edges that are not tile multiples (guarded), a batch dimension between
// the transposed ones (blockIdx.z), bf16.
// CHECK-LABEL: func.func @batch_between
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%{{.+}} : memref<32x33xbf16, #gpu.address_space<workgroup>>)
// CHECK: scf.if
// CHECK: memref.load %arg0[%{{.+}}, %{{.+}}, %{{.+}}] : memref<40x3x50xbf16>
// CHECK: sinter.kernel = "transpose 50x40 batch=3 tile=32x32 grid=2x2x3 threads=32x8"
func.func @batch_between(%x: memref<40x3x50xbf16>, %y: memref<50x3x40xbf16>) {
  linalg.transpose ins(%x : memref<40x3x50xbf16>) outs(%y : memref<50x3x40xbf16>) permutation = [2, 1, 0]
  return
}

// -----

// The innermost dimension stays innermost (the attention's head
// transposes): coalesced already, left to the generic mapping.
// CHECK-LABEL: func.func @inner_kept
// CHECK-NOT: gpu.launch
// CHECK: linalg.transpose
func.func @inner_kept(%x: memref<1x512x16x256xf32>, %y: memref<1x16x512x256xf32>) {
  linalg.transpose ins(%x : memref<1x512x16x256xf32>) outs(%y : memref<1x16x512x256xf32>) permutation = [0, 2, 1, 3]
  return
}

// -----

// A transposed dimension shorter than the tile (decode's [1, C, 1]
// layouts): left to the generic mapping.
// CHECK-LABEL: func.func @too_short
// CHECK-NOT: gpu.launch
// CHECK: linalg.transpose
func.func @too_short(%x: memref<8x8192xf32>, %y: memref<8192x8xf32>) {
  linalg.transpose ins(%x : memref<8x8192xf32>) outs(%y : memref<8192x8xf32>) permutation = [1, 0]
  return
}

// -----

// In place (one buffer on both sides): blocks would read elements other
// blocks already wrote; refused.
// CHECK-LABEL: func.func @in_place
// CHECK-NOT: gpu.launch
// CHECK: linalg.transpose
func.func @in_place(%x: memref<64x64xf32>) {
  linalg.transpose ins(%x : memref<64x64xf32>) outs(%x : memref<64x64xf32>) permutation = [1, 0]
  return
}

// -----

// A bf16 -> f32 widening read only by the transpose (the GDN conv input's
// conversion before its layout change) is folded into the read phase
// (extf of the bf16 source into the f32 tile); the generic is gone.
// CHECK-LABEL: func.func @widen_folded
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[TILE:.+]] : memref<32x33xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[V:.+]] = memref.load %arg0[%{{.+}}, %{{.+}}, %{{.+}}] : memref<1x64x96xbf16>
// CHECK: %[[E:.+]] = arith.extf %[[V]] : bf16 to f32
// CHECK: memref.store %[[E]], %[[TILE]]
// CHECK: gpu.barrier
// CHECK: sinter.kernel = "transpose 96x64 batch=1 tile=32x32 grid=3x2x1 threads=32x8 widen=extf"
// CHECK-NOT: linalg.generic
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @widen_folded(%x: memref<1x64x96xbf16>, %arena: memref<24576xi8>, %y: memref<1x96x64xf32>) {
  %c0 = arith.constant 0 : index
  %t = memref.view %arena[%c0][] : memref<24576xi8> to memref<1x64x96xf32>
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : memref<1x64x96xbf16>) outs(%t : memref<1x64x96xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %e = arith.extf %in : bf16 to f32
    linalg.yield %e : f32
  }
  linalg.transpose ins(%t : memref<1x64x96xf32>) outs(%y : memref<1x96x64xf32>) permutation = [0, 2, 1]
  return
}

// -----

// The widened buffer is also copied to another buffer: the conversion
// stays (its result is needed), the transpose reads the f32 buffer.
// CHECK-LABEL: func.func @widen_kept
// CHECK: %[[T:.+]] = memref.view
// CHECK: linalg.generic
// CHECK: gpu.launch
// CHECK: memref.load %[[T]][%{{.+}}, %{{.+}}, %{{.+}}] : memref<1x64x96xf32>
// CHECK: sinter.kernel = "transpose 96x64 batch=1 tile=32x32 grid=3x2x1 threads=32x8"
// CHECK: memref.copy %[[T]], %arg3
#id3k = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @widen_kept(%x: memref<1x64x96xbf16>, %arena: memref<24576xi8>, %y: memref<1x96x64xf32>, %z: memref<1x64x96xf32>) {
  %c0 = arith.constant 0 : index
  %t = memref.view %arena[%c0][] : memref<24576xi8> to memref<1x64x96xf32>
  linalg.generic {indexing_maps = [#id3k, #id3k], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : memref<1x64x96xbf16>) outs(%t : memref<1x64x96xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %e = arith.extf %in : bf16 to f32
    linalg.yield %e : f32
  }
  linalg.transpose ins(%t : memref<1x64x96xf32>) outs(%y : memref<1x96x64xf32>) permutation = [0, 2, 1]
  memref.copy %t, %z : memref<1x64x96xf32> to memref<1x64x96xf32>
  return
}

// -----

// The widened buffer is a function argument (an output the caller reads):
// its write is kept.
// CHECK-LABEL: func.func @widen_into_argument
// CHECK: linalg.generic
// CHECK: gpu.launch
// CHECK: memref.load %arg1[%{{.+}}, %{{.+}}, %{{.+}}] : memref<1x64x96xf32>
// CHECK: sinter.kernel = "transpose 96x64 batch=1 tile=32x32 grid=3x2x1 threads=32x8"
#id3a = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @widen_into_argument(%x: memref<1x64x96xbf16>, %t: memref<1x64x96xf32>, %y: memref<1x96x64xf32>) {
  linalg.generic {indexing_maps = [#id3a, #id3a], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : memref<1x64x96xbf16>) outs(%t : memref<1x64x96xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %e = arith.extf %in : bf16 to f32
    linalg.yield %e : f32
  }
  linalg.transpose ins(%t : memref<1x64x96xf32>) outs(%y : memref<1x96x64xf32>) permutation = [0, 2, 1]
  return
}

// -----

// The GDN conv's padded buffer: the transposed [1, 96, 64] is copied into
// columns 3..66 of a [1, 96, 67] buffer after the state is copied into
// columns 0..2 (interleaved columns: disjoint). The transpose stores into
// both (`copy=folded`); the copy of its output is gone, the state's stays.
// CHECK-LABEL: func.func @copy_folded
// CHECK: %[[D:.+]] = memref.subview %{{.+}}[0, 0, 3] [1, 96, 64] [1, 1, 1]
// CHECK: gpu.launch
// CHECK: gpu.barrier
// CHECK: memref.store %[[W:.+]], %[[Y:.+]][
// CHECK-NEXT: memref.store %[[W]], %[[D]][
// CHECK: sinter.kernel = "transpose 96x64 batch=1 tile=32x32 grid=3x2x1 threads=32x8 copy=folded"
// CHECK: memref.copy %arg2
// CHECK-NOT: memref.copy
// CHECK: return
func.func @copy_folded(%x: memref<1x64x96xf32>, %arena: memref<50304xi8>, %state: memref<1x96x3xf32>) {
  %c0 = arith.constant 0 : index
  %c24576 = arith.constant 24576 : index
  %y = memref.view %arena[%c0][] : memref<50304xi8> to memref<1x96x64xf32>
  %pad = memref.view %arena[%c24576][] : memref<50304xi8> to memref<1x96x67xf32>
  linalg.transpose ins(%x : memref<1x64x96xf32>) outs(%y : memref<1x96x64xf32>) permutation = [0, 2, 1]
  %s = memref.subview %pad[0, 0, 0] [1, 96, 3] [1, 1, 1] : memref<1x96x67xf32> to memref<1x96x3xf32, strided<[6432, 67, 1]>>
  memref.copy %state, %s : memref<1x96x3xf32> to memref<1x96x3xf32, strided<[6432, 67, 1]>>
  %d = memref.subview %pad[0, 0, 3] [1, 96, 64] [1, 1, 1] : memref<1x96x67xf32> to memref<1x96x64xf32, strided<[6432, 67, 1], offset: 3>>
  memref.copy %y, %d : memref<1x96x64xf32> to memref<1x96x64xf32, strided<[6432, 67, 1], offset: 3>>
  return
}

// -----

// Something between the transpose and the copy reads the copy's target:
// the copy stays where it is.
// CHECK-LABEL: func.func @copy_kept
// CHECK: gpu.launch
// CHECK: sinter.kernel = "transpose 96x64 batch=1 tile=32x32 grid=3x2x1 threads=32x8"
// CHECK: memref.copy %{{.+}}, %arg2
// CHECK: memref.copy %{{.+}}, %[[D:.+]] :
func.func @copy_kept(%x: memref<1x64x96xf32>, %arena: memref<50304xi8>, %probe: memref<1x96x64xf32>) {
  %c0 = arith.constant 0 : index
  %c24576 = arith.constant 24576 : index
  %y = memref.view %arena[%c0][] : memref<50304xi8> to memref<1x96x64xf32>
  %pad = memref.view %arena[%c24576][] : memref<50304xi8> to memref<1x96x67xf32>
  linalg.transpose ins(%x : memref<1x64x96xf32>) outs(%y : memref<1x96x64xf32>) permutation = [0, 2, 1]
  %d = memref.subview %pad[0, 0, 3] [1, 96, 64] [1, 1, 1] : memref<1x96x67xf32> to memref<1x96x64xf32, strided<[6432, 67, 1], offset: 3>>
  memref.copy %d, %probe : memref<1x96x64xf32, strided<[6432, 67, 1], offset: 3>> to memref<1x96x64xf32>
  memref.copy %y, %d : memref<1x96x64xf32> to memref<1x96x64xf32, strided<[6432, 67, 1], offset: 3>>
  return
}
