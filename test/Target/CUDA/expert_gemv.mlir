// ExpertGemv.cpp on bufferized sinter.expert_linear contractions (weight
// [E, K, N]) of one token: the up projection with its rounding epilogue,
// the down projection with the gated product as its operand prologue and
// the weighted sum over the experts as one kernel; then the refusals.
// RUN: sinter-opt %s --sinter-cuda-form-kernels -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @moe
// CHECK-SAME: (%[[X:[^:]+]]: memref<1x256xbf16>, %[[I:[^:]+]]: memref<1x4xi64>, %[[P:[^:]+]]: memref<1x4x1x1xf32>, %[[WGU:[^:]+]]: memref<16x256x128xbf16>, %[[WD:[^:]+]]: memref<16x64x256xbf16>, %[[ACC1:[^:]+]]: memref<1x4x128xf32>, %[[R1:[^:]+]]: memref<1x4x1x128xf32>, %[[G:[^:]+]]: memref<1x4x1x64xbf16>, %[[ACC2:[^:]+]]: memref<1x4x256xf32>, %[[OUT:[^:]+]]: memref<1x1x256xf32>)
// CHECK-NOT: linalg.
// Up: 4 experts x 8 tiles of 16 columns; each thread loads the expert
// index, x is copied into shared memory once a block, then each thread
// loads 8 weights of a row at once and x from shared memory; the partial
// sums are folded in eighths, eighths and halves.
// CHECK: gpu.launch {{.*}} workgroup(%[[S1:.+]] : memref<128x16xf32, #gpu.address_space<workgroup>>, %[[XS:.+]] : memref<256xbf16, #gpu.address_space<workgroup>>)
// CHECK: %[[E1:.+]] = memref.load %[[I]]
// CHECK: arith.select
// CHECK: scf.for
// CHECK: memref.load %[[X]]
// CHECK: memref.store %{{.+}}, %[[XS]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: vector.load %[[WGU]][%{{.+}}, %{{.+}}, %{{.+}}] {alignment = 16 : i64} : memref<16x256x128xbf16>, vector<8xbf16>
// CHECK: memref.load %[[XS]]
// CHECK-COUNT-7: gpu.barrier
// CHECK-NOT: gpu.barrier
// The rounding epilogue, stored where it wrote.
// CHECK: scf.if
// CHECK: arith.truncf
// CHECK: memref.store %{{.+}}, %[[R1]]
// CHECK: expert_gemv j=4 n=128 k=256 vec=8 cols=16 rows=128 threads=256 grid=32 unroll=2 groups=1 pipelined=false staged_x=true prologue=false epilogue=true combine=false
// Down: the gated product from R1's halves as the operand, the sum over
// the 4 experts weighted by P in the block; G and ACC2 are never written.
// CHECK: gpu.launch {{.*}} workgroup(%{{.+}} : memref<256x16xf32, #gpu.address_space<workgroup>>)
// CHECK: vector.load %[[WD]]
// CHECK: memref.load {{.*}} : memref<1x4x1x64xf32, strided<[512, 128, 128, 1]>>
// CHECK: memref.load {{.*}} : memref<1x4x1x64xf32, strided<[512, 128, 128, 1], offset: 64>>
// CHECK: math.exp
// CHECK: arith.truncf
// CHECK-COUNT-4: memref.load %[[P]]
// CHECK: memref.store %{{.+}}, %[[OUT]]
// CHECK: expert_gemv j=4 n=256 k=64 vec=8 cols=16 rows=256 threads=512 grid=16 unroll=1 groups=1 pipelined=false staged_x=false prologue=true epilogue=false combine=true
// CHECK-NOT: %[[G]]
// CHECK-NOT: %[[ACC2]]
// CHECK: return
#x = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
#xs = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#e4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#cacc = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#cp = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#cout = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
func.func @moe(%x: memref<1x256xbf16>, %idx: memref<1x4xi64>, %p: memref<1x4x1x1xf32>, %wgu: memref<16x256x128xbf16>, %wd: memref<16x64x256xbf16>, %acc1: memref<1x4x128xf32>, %r1: memref<1x4x1x128xf32>, %g: memref<1x4x1x64xbf16>, %acc2: memref<1x4x256xf32>, %out: memref<1x1x256xf32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %cst = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%acc1 : memref<1x4x128xf32>)
  linalg.generic {indexing_maps = [#x, #i, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %idx : memref<1x256xbf16>, memref<1x4xi64>) outs(%acc1 : memref<1x4x128xf32>) {
  ^bb0(%in: bf16, %in_0: i64, %o: f32):
    %0 = arith.index_cast %in_0 : i64 to index
    %1 = arith.cmpi slt, %0, %c0 : index
    %2 = arith.addi %0, %c16 : index
    %3 = arith.select %1, %2, %0 : index
    %4 = linalg.index 2 : index
    %5 = linalg.index 3 : index
    %6 = memref.load %wgu[%3, %5, %4] : memref<16x256x128xbf16>
    %7 = arith.extf %in : bf16 to f32
    %8 = arith.extf %6 : bf16 to f32
    %9 = arith.mulf %7, %8 : f32
    %10 = arith.addf %o, %9 : f32
    linalg.yield %10 : f32
  }
  linalg.generic {indexing_maps = [#e4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%acc1 : memref<1x4x128xf32>) outs(%r1 : memref<1x4x1x128xf32>) {
  ^bb0(%in: f32, %o: f32):
    %0 = arith.truncf %in : f32 to bf16
    %1 = arith.extf %0 : bf16 to f32
    linalg.yield %1 : f32
  }
  %gate = memref.subview %r1[0, 0, 0, 0] [1, 4, 1, 64] [1, 1, 1, 1] : memref<1x4x1x128xf32> to memref<1x4x1x64xf32, strided<[512, 128, 128, 1]>>
  %up = memref.subview %r1[0, 0, 0, 64] [1, 4, 1, 64] [1, 1, 1, 1] : memref<1x4x1x128xf32> to memref<1x4x1x64xf32, strided<[512, 128, 128, 1], offset: 64>>
  linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%gate, %up : memref<1x4x1x64xf32, strided<[512, 128, 128, 1]>>, memref<1x4x1x64xf32, strided<[512, 128, 128, 1], offset: 64>>) outs(%g : memref<1x4x1x64xbf16>) {
  ^bb0(%in: f32, %in_1: f32, %o: bf16):
    %0 = arith.negf %in : f32
    %1 = math.exp %0 : f32
    %2 = arith.addf %1, %one : f32
    %3 = arith.divf %in, %2 : f32
    %4 = arith.mulf %3, %in_1 : f32
    %5 = arith.truncf %4 : f32 to bf16
    linalg.yield %5 : bf16
  }
  %gc = memref.collapse_shape %g [[0], [1, 2], [3]] : memref<1x4x1x64xbf16> into memref<1x4x64xbf16>
  linalg.fill ins(%cst : f32) outs(%acc2 : memref<1x4x256xf32>)
  linalg.generic {indexing_maps = [#xs, #i, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%gc, %idx : memref<1x4x64xbf16>, memref<1x4xi64>) outs(%acc2 : memref<1x4x256xf32>) {
  ^bb0(%in: bf16, %in_0: i64, %o: f32):
    %0 = arith.index_cast %in_0 : i64 to index
    %1 = arith.cmpi slt, %0, %c0 : index
    %2 = arith.addi %0, %c16 : index
    %3 = arith.select %1, %2, %0 : index
    %4 = linalg.index 2 : index
    %5 = linalg.index 3 : index
    %6 = memref.load %wd[%3, %5, %4] : memref<16x64x256xbf16>
    %7 = arith.extf %in : bf16 to f32
    %8 = arith.extf %6 : bf16 to f32
    %9 = arith.mulf %7, %8 : f32
    %10 = arith.addf %o, %9 : f32
    linalg.yield %10 : f32
  }
  linalg.fill ins(%cst : f32) outs(%out : memref<1x1x256xf32>)
  linalg.generic {indexing_maps = [#cacc, #cp, #cout], iterator_types = ["parallel", "reduction", "parallel", "parallel"]} ins(%acc2, %p : memref<1x4x256xf32>, memref<1x4x1x1xf32>) outs(%out : memref<1x1x256xf32>) {
  ^bb0(%in: f32, %in_0: f32, %o: f32):
    %0 = arith.truncf %in : f32 to bf16
    %1 = arith.extf %0 : bf16 to f32
    %2 = arith.mulf %1, %in_0 : f32
    %3 = arith.addf %o, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// A hand-written [E, N, K] weight (no weight_kn): its rows are K-contiguous,
// the row-reduction template's (expert_linear_kernels.mlir), not this one.
// CHECK-LABEL: func.func @weight_nk
// CHECK-NOT: expert_gemv
// CHECK: return
#x = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @weight_nk(%x: memref<1x64xbf16>, %w: memref<8x32x64xbf16>, %idx: memref<1x2xi64>, %acc: memref<1x2x32xf32>) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x2x32xf32>)
  linalg.generic {indexing_maps = [#x, #i, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %idx : memref<1x64xbf16>, memref<1x2xi64>) outs(%acc : memref<1x2x32xf32>) {
  ^bb0(%in: bf16, %in_0: i64, %out: f32):
    %0 = arith.index_cast %in_0 : i64 to index
    %1 = arith.cmpi slt, %0, %c0 : index
    %2 = arith.addi %0, %c8 : index
    %3 = arith.select %1, %2, %0 : index
    %4 = linalg.index 2 : index
    %5 = linalg.index 3 : index
    %6 = memref.load %w[%3, %4, %5] : memref<8x32x64xbf16>
    %7 = arith.extf %in : bf16 to f32
    %8 = arith.extf %6 : bf16 to f32
    %9 = arith.mulf %7, %8 : f32
    %10 = arith.addf %out, %9 : f32
    linalg.yield %10 : f32
  }
  return
}

// -----

// Two tokens: not the M = 1 GEMV (refused; the row-reduction template
// takes it).
// CHECK-LABEL: func.func @two_tokens
// CHECK-NOT: expert_gemv
// CHECK: return
#x = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @two_tokens(%x: memref<2x64xbf16>, %w: memref<8x64x32xbf16>, %idx: memref<2x2xi64>, %acc: memref<2x2x32xf32>) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%acc : memref<2x2x32xf32>)
  linalg.generic {indexing_maps = [#x, #i, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %idx : memref<2x64xbf16>, memref<2x2xi64>) outs(%acc : memref<2x2x32xf32>) {
  ^bb0(%in: bf16, %in_0: i64, %out: f32):
    %0 = arith.index_cast %in_0 : i64 to index
    %1 = arith.cmpi slt, %0, %c0 : index
    %2 = arith.addi %0, %c8 : index
    %3 = arith.select %1, %2, %0 : index
    %4 = linalg.index 2 : index
    %5 = linalg.index 3 : index
    %6 = memref.load %w[%3, %5, %4] : memref<8x64x32xbf16>
    %7 = arith.extf %in : bf16 to f32
    %8 = arith.extf %6 : bf16 to f32
    %9 = arith.mulf %7, %8 : f32
    %10 = arith.addf %out, %9 : f32
    linalg.yield %10 : f32
  }
  return
}

// -----

// The weighted sum's output shares arena bytes with the expert input (the
// memory plan may reuse them once the input is dead): blocks would write
// it while others still read the input, so the sum is not fused; the kernel
// writes the accumulator and the combine stays.
// CHECK-LABEL: func.func @combine_aliases_input
// CHECK-SAME: %[[ACC:[^:]+]]: memref<1x2x32xf32>)
// CHECK: gpu.launch
// CHECK: memref.store %{{.+}}, %[[ACC]]{{\[}}
// CHECK: expert_gemv j=2 n=32 k=64 {{.*}} combine=false
// CHECK: linalg.generic {{.*}} ins(%[[ACC]]
#xs = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#cacc = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#cp = affine_map<(d0, d1, d2) -> (d0, d1)>
#cout = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @combine_aliases_input(%arena: memref<1024xi8>, %w: memref<8x64x32xbf16>, %idx: memref<1x2xi64>, %p: memref<1x2xf32>, %acc: memref<1x2x32xf32>) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 0.000000e+00 : f32
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x2x64xbf16>
  %out = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x32xf32>
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x2x32xf32>)
  linalg.generic {indexing_maps = [#xs, #i, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %idx : memref<1x2x64xbf16>, memref<1x2xi64>) outs(%acc : memref<1x2x32xf32>) {
  ^bb0(%in: bf16, %in_0: i64, %o: f32):
    %0 = arith.index_cast %in_0 : i64 to index
    %1 = arith.cmpi slt, %0, %c0 : index
    %2 = arith.addi %0, %c8 : index
    %3 = arith.select %1, %2, %0 : index
    %4 = linalg.index 2 : index
    %5 = linalg.index 3 : index
    %6 = memref.load %w[%3, %5, %4] : memref<8x64x32xbf16>
    %7 = arith.extf %in : bf16 to f32
    %8 = arith.extf %6 : bf16 to f32
    %9 = arith.mulf %7, %8 : f32
    %10 = arith.addf %o, %9 : f32
    linalg.yield %10 : f32
  }
  linalg.fill ins(%cst : f32) outs(%out : memref<1x32xf32>)
  linalg.generic {indexing_maps = [#cacc, #cp, #cout], iterator_types = ["parallel", "reduction", "parallel"]} ins(%acc, %p : memref<1x2x32xf32>, memref<1x2xf32>) outs(%out : memref<1x32xf32>) {
  ^bb0(%in: f32, %in_0: f32, %o: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %o, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// A long K (2048 rows, 128 row slots: 16 trips a thread): two groups of 8
// trips, straight-line; group 1's weight loads are issued before group 0's
// products, and the copy of x into shared memory sits between group 0's
// loads and its first use.
// CHECK-LABEL: func.func @pipelined
// CHECK-SAME: (%[[X:[^:]+]]: memref<1x2048xbf16>, %[[W:[^:]+]]: memref<4x2048x64xbf16>
// CHECK: gpu.launch {{.*}} workgroup(%{{.+}} : memref<128x16xf32, #gpu.address_space<workgroup>>, %[[XS:.+]] : memref<2048xbf16, #gpu.address_space<workgroup>>)
// CHECK-COUNT-8: vector.load %[[W]]
// CHECK: scf.for
// CHECK: memref.load %[[X]]
// CHECK: memref.store %{{.+}}, %[[XS]]
// CHECK: gpu.barrier
// CHECK-COUNT-8: memref.load %[[XS]]
// CHECK-NOT: arith.mulf
// CHECK-COUNT-8: vector.load %[[W]]
// CHECK-NOT: vector.load
// CHECK: arith.mulf
// CHECK-NOT: scf.for
// CHECK: expert_gemv j=2 n=64 k=2048 vec=8 cols=16 rows=128 threads=256 grid=8 unroll=8 groups=2 pipelined=true staged_x=true prologue=false epilogue=false combine=false
#x = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @pipelined(%x: memref<1x2048xbf16>, %w: memref<4x2048x64xbf16>, %idx: memref<1x2xi64>, %acc: memref<1x2x64xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x2x64xf32>)
  linalg.generic {indexing_maps = [#x, #i, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %idx : memref<1x2048xbf16>, memref<1x2xi64>) outs(%acc : memref<1x2x64xf32>) {
  ^bb0(%in: bf16, %in_0: i64, %out: f32):
    %0 = arith.index_cast %in_0 : i64 to index
    %1 = arith.cmpi slt, %0, %c0 : index
    %2 = arith.addi %0, %c4 : index
    %3 = arith.select %1, %2, %0 : index
    %4 = linalg.index 2 : index
    %5 = linalg.index 3 : index
    %6 = memref.load %w[%3, %5, %4] : memref<4x2048x64xbf16>
    %7 = arith.extf %in : bf16 to f32
    %8 = arith.extf %6 : bf16 to f32
    %9 = arith.mulf %7, %8 : f32
    %10 = arith.addf %out, %9 : f32
    linalg.yield %10 : f32
  }
  return
}

// -----

// A per-slot x that no fused prologue writes, with the weighted sum: the
// block covers both experts, so both slots' rows of x are copied into
// shared memory ([2 x 64]) and read at j * 64 + k.
// CHECK-LABEL: func.func @combine_staged
// CHECK-SAME: (%[[X:[^:]+]]: memref<1x2x64xbf16>
// CHECK: gpu.launch {{.*}} workgroup(%{{.+}} : memref<128x16xf32, #gpu.address_space<workgroup>>, %[[XS:.+]] : memref<128xbf16, #gpu.address_space<workgroup>>)
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %c128{{.*}} step
// CHECK: %[[J:.+]] = arith.divui %[[I]], %c64
// CHECK: %[[K:.+]] = arith.remui %[[I]], %c64
// CHECK: memref.load %[[X]][%{{.+}}, %[[J]], %[[K]]]
// CHECK: memref.store %{{.+}}, %[[XS]][%[[I]]]
// CHECK: gpu.barrier
// CHECK: vector.load
// CHECK: arith.muli %{{.+}}, %c64
// CHECK: memref.load %[[XS]]
// CHECK: expert_gemv j=2 n=32 k=64 {{.*}} staged_x=true prologue=false epilogue=false combine=true
#xs = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#cacc = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#cp = affine_map<(d0, d1, d2) -> (d0, d1)>
#cout = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @combine_staged(%x: memref<1x2x64xbf16>, %w: memref<8x64x32xbf16>, %idx: memref<1x2xi64>, %p: memref<1x2xf32>, %acc: memref<1x2x32xf32>, %out: memref<1x32xf32>) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x2x32xf32>)
  linalg.generic {indexing_maps = [#xs, #i, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %idx : memref<1x2x64xbf16>, memref<1x2xi64>) outs(%acc : memref<1x2x32xf32>) {
  ^bb0(%in: bf16, %in_0: i64, %o: f32):
    %0 = arith.index_cast %in_0 : i64 to index
    %1 = arith.cmpi slt, %0, %c0 : index
    %2 = arith.addi %0, %c8 : index
    %3 = arith.select %1, %2, %0 : index
    %4 = linalg.index 2 : index
    %5 = linalg.index 3 : index
    %6 = memref.load %w[%3, %5, %4] : memref<8x64x32xbf16>
    %7 = arith.extf %in : bf16 to f32
    %8 = arith.extf %6 : bf16 to f32
    %9 = arith.mulf %7, %8 : f32
    %10 = arith.addf %o, %9 : f32
    linalg.yield %10 : f32
  }
  linalg.fill ins(%cst : f32) outs(%out : memref<1x32xf32>)
  linalg.generic {indexing_maps = [#cacc, #cp, #cout], iterator_types = ["parallel", "reduction", "parallel"]} ins(%acc, %p : memref<1x2x32xf32>, memref<1x2xf32>) outs(%out : memref<1x32xf32>) {
  ^bb0(%in: f32, %in_0: f32, %o: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %o, %0 : f32
    linalg.yield %1 : f32
  }
  return
}
