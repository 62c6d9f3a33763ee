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
