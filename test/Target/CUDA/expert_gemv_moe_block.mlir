// ExpertGemv.cpp's fusions across the MoE block of a decode step: the up
// projection's x rounded from the f32 normalized row (an elementwise op all
// slots share) computed into the block's copy of x, past a view op that
// reads a shape buffer; the shared expert's down projection (an [N, K]
// gated GEMV whose result the block's output add sums with the routed
// experts' weighted sum) folded into the routed down projection's kernel;
// then the refusals.
// RUN: sinter-opt %s --sinter-cuda-form-kernels -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @up_rounding_prologue
// CHECK-SAME: (%[[A:[^:]+]]: memref<65536xi8>, %[[I:[^:]+]]: memref<1x4xi64>, %[[W:[^:]+]]: memref<16x256x128xbf16>,
// CHECK: %[[H:.+]] = memref.view %[[A]][%c0{{.*}}] : memref<65536xi8> to memref<1x1x256xf32>
// CHECK-NOT: linalg.generic
// The rounding is done as x is copied into shared memory, from the f32 row.
// CHECK: gpu.launch {{.*}} workgroup(%{{.+}} : memref<128x16xf32, #gpu.address_space<workgroup>>, %[[XS:.+]] : memref<256xbf16, #gpu.address_space<workgroup>>)
// CHECK: scf.for
// CHECK: memref.load %[[H]][%{{.+}}, %{{.+}}, %{{.+}}] : memref<1x1x256xf32>
// CHECK: arith.truncf
// CHECK: memref.store %{{.+}}, %[[XS]]
// CHECK: gpu.barrier
// CHECK: vector.load %[[W]]
// CHECK: memref.load %[[XS]]
// CHECK: expert_gemv j=4 n=128 k=256 vec=8 cols=16 rows=128 threads=256 grid=32 unroll=2 groups=1 pipelined=false staged_x=true prologue=true epilogue=false combine=false"
// CHECK-NOT: linalg.generic
// CHECK: return
#map7 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#map13 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#x = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
memref.global "private" constant @shape : memref<4xi64> = dense<[1, 4, 1, 1]>
func.func @up_rounding_prologue(%arena: memref<65536xi8>, %idx: memref<1x4xi64>, %wgu: memref<16x256x128xbf16>, %p: memref<1x1x4xf32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c8192 = arith.constant 8192 : index
  %c16384 = arith.constant 16384 : index
  %cst = arith.constant 0.000000e+00 : f32
  %h = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x1x256xf32>
  %xb = memref.view %arena[%c8192][] : memref<65536xi8> to memref<1x1x1x256xbf16>
  %acc = memref.view %arena[%c16384][] : memref<65536xi8> to memref<1x4x128xf32>
  linalg.generic {indexing_maps = [#map7, #map13], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%h : memref<1x1x256xf32>) outs(%xb : memref<1x1x1x256xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  }
  // A view op with a memory read (its shape operand) between the two.
  %shape = memref.get_global @shape : memref<4xi64>
  %pr = memref.reshape %p(%shape) : (memref<1x1x4xf32>, memref<4xi64>) -> memref<1x4x1x1xf32>
  %x = memref.collapse_shape %xb [[0, 1, 2], [3]] : memref<1x1x1x256xbf16> into memref<1x256xbf16>
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x4x128xf32>)
  linalg.generic {indexing_maps = [#x, #i, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %idx : memref<1x256xbf16>, memref<1x4xi64>) outs(%acc : memref<1x4x128xf32>) {
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
  return
}

// -----

// Refused: the accumulator is planned on the f32 row's bytes (dead after
// the rounding as the IR stands), which other blocks would still read. The
// rounding stays an op of its own and x is read as it is.
// CHECK-LABEL: func.func @up_rounding_acc_on_input
// CHECK: linalg.generic {{.*}} outs(%[[XB:[^ ]+]] : memref<1x1x1x256xbf16>)
// CHECK: gpu.launch
// CHECK: expert_gemv j=4 n=128 k=256 {{.*}} staged_x=true prologue=false epilogue=false combine=false"
#map7 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#map13 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#x = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @up_rounding_acc_on_input(%arena: memref<65536xi8>, %idx: memref<1x4xi64>, %wgu: memref<16x256x128xbf16>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c8192 = arith.constant 8192 : index
  %cst = arith.constant 0.000000e+00 : f32
  %h = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x1x256xf32>
  %xb = memref.view %arena[%c8192][] : memref<65536xi8> to memref<1x1x1x256xbf16>
  %acc = memref.view %arena[%c0][] : memref<65536xi8> to memref<1x4x128xf32>
  linalg.generic {indexing_maps = [#map7, #map13], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%h : memref<1x1x256xf32>) outs(%xb : memref<1x1x1x256xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  }
  %x = memref.collapse_shape %xb [[0, 1, 2], [3]] : memref<1x1x1x256xbf16> into memref<1x256xbf16>
  linalg.fill ins(%cst : f32) outs(%acc : memref<1x4x128xf32>)
  linalg.generic {indexing_maps = [#x, #i, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %idx : memref<1x256xbf16>, memref<1x4xi64>) outs(%acc : memref<1x4x128xf32>) {
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
  return
}

// -----

// The shared expert's down projection (gated, [N, K] weight, K = 64: 8
// chunks of 8 a row, one pass of which 128 of the 512 threads have a
// chunk) folded into the routed experts' kernel: its weight chunks are
// loaded before the experts' loop, its gated activation is computed into
// shared memory after it, each row's chunks summed by 8 lanes with xor
// shuffles, and the writer stores both results. No launch of its own.
// CHECK-LABEL: func.func @shared_fold
// CHECK-SAME: %[[SG:[^:]+]]: memref<1x1x64xbf16>, %[[SU:[^:]+]]: memref<1x1x64xbf16>, %[[WS:[^:]+]]: memref<256x64xbf16>
// CHECK: %[[OUT:.+]] = memref.view %{{.+}}[%c0{{.*}}] : memref<4096xi8> to memref<1x1x256xf32>
// CHECK: %[[ACCS:.+]] = memref.view %{{.+}}[%c1024{{.*}}] : memref<4096xi8> to memref<1x1x256xf32>
// CHECK-NOT: linalg.
// CHECK: gpu.launch {{.*}} workgroup(%{{.+}} : memref<256x16xf32, #gpu.address_space<workgroup>>, %[[SX:.+]] : memref<64xf32, #gpu.address_space<workgroup>>, %[[SS:.+]] : memref<16xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.if
// CHECK: vector.load %[[WS]][%{{.+}}, %{{.+}}] {alignment = 16 : i64} : memref<256x64xbf16>, vector<8xbf16>
// CHECK: vector.load %{{.+}} : memref<16x64x256xbf16>, vector<8xbf16>
// CHECK: scf.for
// CHECK: memref.load %[[SG]]
// CHECK: memref.load %[[SU]]
// CHECK: math.exp
// CHECK: memref.store %{{.+}}, %[[SX]]
// CHECK: gpu.barrier
// CHECK-COUNT-8: memref.load %[[SX]]
// CHECK: gpu.shuffle  xor %{{.+}}, %c4
// CHECK: gpu.shuffle  xor %{{.+}}, %c2
// CHECK: gpu.shuffle  xor %{{.+}}, %c1
// CHECK: memref.store %{{.+}}, %[[SS]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.+}}, %[[OUT]]
// One segment a row: its sum plus the initial value.
// CHECK: memref.load %[[SS]]
// CHECK-NOT: memref.load %[[SS]]
// CHECK: memref.store %{{.+}}, %[[ACCS]]
// CHECK: expert_gemv j=4 n=256 k=64 vec=8 cols=16 rows=256 threads=512 grid=16 unroll=1 groups=1 pipelined=false staged_x=false prologue=true epilogue=false combine=true shared_down n=256 k=64 chunks=8 width=8 passes=1"
// The block's output add stays (the next layer's norm takes it).
// CHECK: linalg.generic {{.*}} ins(%[[OUT]], %[[ACCS]]
// CHECK-NOT: gpu.launch
// CHECK: return
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#xs = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#sw = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#cacc = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#cp = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#cout = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @shared_fold(%arena: memref<4096xi8>, %idx: memref<1x4xi64>, %p: memref<1x4x1x1xf32>, %wd: memref<16x64x256xbf16>, %r1: memref<1x4x1x128xf32>, %g: memref<1x4x1x64xbf16>, %acc2: memref<1x4x256xf32>, %sg: memref<1x1x64xbf16>, %su: memref<1x1x64xbf16>, %ws: memref<256x64xbf16>, %y: memref<1x1x256xf32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c1024 = arith.constant 1024 : index
  %cst = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  %out = memref.view %arena[%c0][] : memref<4096xi8> to memref<1x1x256xf32>
  %accs = memref.view %arena[%c1024][] : memref<4096xi8> to memref<1x1x256xf32>
  linalg.fill ins(%cst : f32) outs(%accs : memref<1x1x256xf32>)
  linalg.generic {indexing_maps = [#xs, #xs, #sw, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%sg, %su, %ws : memref<1x1x64xbf16>, memref<1x1x64xbf16>, memref<256x64xbf16>) outs(%accs : memref<1x1x256xf32>) {
  ^bb0(%in: bf16, %in_1: bf16, %in_2: bf16, %o: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.negf %0 : f32
    %2 = math.exp %1 : f32
    %3 = arith.addf %2, %one : f32
    %4 = arith.divf %0, %3 : f32
    %5 = arith.extf %in_1 : bf16 to f32
    %6 = arith.mulf %4, %5 : f32
    %7 = arith.truncf %6 : f32 to bf16
    %8 = arith.extf %7 : bf16 to f32
    %9 = arith.extf %in_2 : bf16 to f32
    %10 = arith.mulf %8, %9 : f32
    %11 = arith.addf %o, %10 : f32
    linalg.yield %11 : f32
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
  linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%out, %accs : memref<1x1x256xf32>, memref<1x1x256xf32>) outs(%y : memref<1x1x256xf32>) {
  ^bb0(%in: f32, %in_0: f32, %o: f32):
    %0 = arith.truncf %in_0 : f32 to bf16
    %1 = arith.extf %0 : bf16 to f32
    %2 = arith.addf %in, %1 : f32
    linalg.yield %2 : f32
  }
  return
}

// -----

// Refused: the shared result is planned on the routed result's bytes. The
// shared GEMV is then the GEMV template's, the routed block keeps its own
// kernel.
// CHECK-LABEL: func.func @shared_fold_aliased
// CHECK: sinter.kernel = "gemv m=1 n=256 k=64
// CHECK: expert_gemv j=4 n=256 k=64 {{.*}} combine=true"
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#xs = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#i = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#sw = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#cacc = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#cp = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
#cout = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @shared_fold_aliased(%arena: memref<4096xi8>, %idx: memref<1x4xi64>, %p: memref<1x4x1x1xf32>, %wd: memref<16x64x256xbf16>, %r1: memref<1x4x1x128xf32>, %g: memref<1x4x1x64xbf16>, %acc2: memref<1x4x256xf32>, %sg: memref<1x1x64xbf16>, %su: memref<1x1x64xbf16>, %ws: memref<256x64xbf16>, %y: memref<1x1x256xf32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c1024 = arith.constant 1024 : index
  %cst = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  %out = memref.view %arena[%c0][] : memref<4096xi8> to memref<1x1x256xf32>
  %accs = memref.view %arena[%c0][] : memref<4096xi8> to memref<1x1x256xf32>
  linalg.fill ins(%cst : f32) outs(%accs : memref<1x1x256xf32>)
  linalg.generic {indexing_maps = [#xs, #xs, #sw, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%sg, %su, %ws : memref<1x1x64xbf16>, memref<1x1x64xbf16>, memref<256x64xbf16>) outs(%accs : memref<1x1x256xf32>) {
  ^bb0(%in: bf16, %in_1: bf16, %in_2: bf16, %o: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.negf %0 : f32
    %2 = math.exp %1 : f32
    %3 = arith.addf %2, %one : f32
    %4 = arith.divf %0, %3 : f32
    %5 = arith.extf %in_1 : bf16 to f32
    %6 = arith.mulf %4, %5 : f32
    %7 = arith.truncf %6 : f32 to bf16
    %8 = arith.extf %7 : bf16 to f32
    %9 = arith.extf %in_2 : bf16 to f32
    %10 = arith.mulf %8, %9 : f32
    %11 = arith.addf %o, %10 : f32
    linalg.yield %11 : f32
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
  linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%out, %accs : memref<1x1x256xf32>, memref<1x1x256xf32>) outs(%y : memref<1x1x256xf32>) {
  ^bb0(%in: f32, %in_0: f32, %o: f32):
    %0 = arith.truncf %in_0 : f32 to bf16
    %1 = arith.extf %0 : bf16 to f32
    %2 = arith.addf %in, %1 : f32
    linalg.yield %2 : f32
  }
  return
}
