// RUN: sinter-opt %s --split-input-file --verify-diagnostics --sinter-cuda-form-kernels=remarks=1 | FileCheck %s

// The conv window template (lib/Target/CUDA/GatedDeltaConv.cpp) on
// hand-written bufferized IR: a window op reading two columns of the
// state %S (an argument that aliases no other: llvm.noalias) and x, and
// the state shift as copies after it. Taken: one launch, the thread of
// channel c stores S[c, 0] <- S[c, 1] and S[c, 1] <- x[c] in place.
// Refused, with a remark: the state copied to an output after the window
// op, a shift across channels.

#id = affine_map<(c, j) -> (c, j)>
#w = affine_map<(c, j) -> (c)>

// CHECK-LABEL: func.func @window
// CHECK-NOT:   linalg.
// CHECK:       gpu.launch
// CHECK:         %[[S0:.+]] = memref.load %[[S0V:[a-z0-9_]+]][
// CHECK:         %[[S1:.+]] = memref.load %[[S1V:[a-z0-9_]+]][
// CHECK:         %[[X:.+]] = memref.load %arg1[
// CHECK:         memref.store %[[S1]], %[[S0V]][
// CHECK:         memref.store %[[X]], %[[S1V]][
// CHECK:         memref.store {{%.+}}, %arg2[
// CHECK:       sinter.kernel = "conv_window n=8 grid=1 block=256 state_stores=2 copies=3 consumer=0 fused_producers=0 moved_producers=0"
// CHECK-NOT:   memref.copy
// CHECK:       return
func.func @window(%S: memref<8x2xf32> {llvm.noalias}, %x: memref<8x1xf32> {llvm.noalias},
                  %y: memref<8x1xf32> {llvm.noalias}, %w: memref<8xf32> {llvm.noalias},
                  %arena: memref<64xi8> {llvm.noalias}) {
  %c0 = arith.constant 0 : index
  %s0 = memref.subview %S[0, 0] [8, 1] [1, 1] : memref<8x2xf32> to memref<8x1xf32, strided<[2, 1]>>
  %s1 = memref.subview %S[0, 1] [8, 1] [1, 1] : memref<8x2xf32> to memref<8x1xf32, strided<[2, 1], offset: 1>>
  linalg.generic {indexing_maps = [#id, #id, #id, #w, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s0, %s1, %x, %w : memref<8x1xf32, strided<[2, 1]>>, memref<8x1xf32, strided<[2, 1], offset: 1>>, memref<8x1xf32>, memref<8xf32>)
      outs(%y : memref<8x1xf32>) {
  ^bb0(%a: f32, %b: f32, %xx: f32, %ww: f32, %o: f32):
    %0 = arith.addf %a, %b : f32
    %1 = arith.mulf %xx, %ww : f32
    %2 = arith.addf %0, %1 : f32
    linalg.yield %2 : f32
  }
  %t = memref.view %arena[%c0][] : memref<64xi8> to memref<8x1xf32>
  linalg.copy ins(%s1 : memref<8x1xf32, strided<[2, 1], offset: 1>>) outs(%t : memref<8x1xf32>)
  memref.copy %t, %s0 : memref<8x1xf32> to memref<8x1xf32, strided<[2, 1]>>
  memref.copy %x, %s1 : memref<8x1xf32> to memref<8x1xf32, strided<[2, 1], offset: 1>>
  return
}

// -----

#id = affine_map<(c, j) -> (c, j)>

// CHECK-LABEL: func.func @state_read_after
// CHECK:       linalg.generic
// CHECK-NOT:   gpu.launch
func.func @state_read_after(%S: memref<8x2xf32> {llvm.noalias}, %x: memref<8x1xf32> {llvm.noalias},
                            %y: memref<8x1xf32> {llvm.noalias}, %z: memref<8x2xf32> {llvm.noalias}) {
  %s0 = memref.subview %S[0, 0] [8, 1] [1, 1] : memref<8x2xf32> to memref<8x1xf32, strided<[2, 1]>>
  %s1 = memref.subview %S[0, 1] [8, 1] [1, 1] : memref<8x2xf32> to memref<8x1xf32, strided<[2, 1], offset: 1>>
  // expected-remark @below {{conv window kernel not used: a copy after the window op moves state values out of the function's scratch}}
  linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s0, %s1, %x : memref<8x1xf32, strided<[2, 1]>>, memref<8x1xf32, strided<[2, 1], offset: 1>>, memref<8x1xf32>)
      outs(%y : memref<8x1xf32>) {
  ^bb0(%a: f32, %b: f32, %xx: f32, %o: f32):
    %0 = arith.addf %a, %b : f32
    %1 = arith.addf %0, %xx : f32
    linalg.yield %1 : f32
  }
  // The whole state copied to an output (a snapshot): erasing that copy
  // would lose it.
  memref.copy %S, %z : memref<8x2xf32> to memref<8x2xf32>
  memref.copy %x, %s1 : memref<8x1xf32> to memref<8x1xf32, strided<[2, 1], offset: 1>>
  return
}

// -----

#id = affine_map<(c, j) -> (c, j)>

// The shift moves channel c + 1's value into channel c: another thread's.
// CHECK-LABEL: func.func @across_channels
// CHECK:       linalg.generic
// CHECK-NOT:   gpu.launch
func.func @across_channels(%S: memref<8x1xf32> {llvm.noalias}, %x: memref<8x1xf32> {llvm.noalias},
                           %y: memref<8x1xf32> {llvm.noalias}) {
  // expected-remark @below {{conv window kernel not used: the state update is not a per-channel shift of the window op's operands}}
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%S, %x : memref<8x1xf32>, memref<8x1xf32>)
      outs(%y : memref<8x1xf32>) {
  ^bb0(%a: f32, %xx: f32, %o: f32):
    %0 = arith.addf %a, %xx : f32
    linalg.yield %0 : f32
  }
  %lo = memref.subview %S[0, 0] [7, 1] [1, 1] : memref<8x1xf32> to memref<7x1xf32, strided<[1, 1]>>
  %hi = memref.subview %x[1, 0] [7, 1] [1, 1] : memref<8x1xf32> to memref<7x1xf32, strided<[1, 1], offset: 1>>
  memref.copy %hi, %lo : memref<7x1xf32, strided<[1, 1], offset: 1>> to memref<7x1xf32, strided<[1, 1]>>
  return
}

// -----

#id = affine_map<(c, j) -> (c, j)>

// An op other than a copy reads the state after the window op: the
// state is written at the window op in the kernel, so that op would read
// the new one.
// CHECK-LABEL: func.func @generic_reads_state
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT:   gpu.launch
func.func @generic_reads_state(%S: memref<8x1xf32> {llvm.noalias}, %x: memref<8x1xf32> {llvm.noalias},
                               %y: memref<8x1xf32> {llvm.noalias}, %z: memref<8x1xf32> {llvm.noalias}) {
  // expected-remark @below {{conv window kernel not used: op 'linalg.generic' reads the conv state after the window op}}
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%S, %x : memref<8x1xf32>, memref<8x1xf32>)
      outs(%y : memref<8x1xf32>) {
  ^bb0(%a: f32, %xx: f32, %o: f32):
    %0 = arith.addf %a, %xx : f32
    linalg.yield %0 : f32
  }
  // expected-remark @below {{conv window kernel not used: the state update is not a per-channel shift of the window op's operands}}
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%S : memref<8x1xf32>) outs(%z : memref<8x1xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  }
  memref.copy %x, %S : memref<8x1xf32> to memref<8x1xf32>
  return
}

// -----

#id = affine_map<(c, j) -> (c, j)>
#w = affine_map<(c, j) -> (c)>

// A kernel formed before the window (the decode attention's, which
// FormKernels offers first) between the window op and the shift: its
// vector loads and stores name their buffers, and its workgroup scratch is
// its own, so the window kernel is still formed.
// CHECK-LABEL: func.func @launch_after_window
// CHECK:       gpu.launch
// CHECK:       sinter.kernel = "conv_window n=8 grid=1 block=256 state_stores=2 copies=3
// CHECK:       gpu.launch
// CHECK:       sinter.kernel = "formed earlier"
// CHECK-NOT:   memref.copy
func.func @launch_after_window(%S: memref<8x2xf32> {llvm.noalias}, %x: memref<8x1xf32> {llvm.noalias},
                               %y: memref<8x1xf32> {llvm.noalias}, %w: memref<8xf32> {llvm.noalias},
                               %arena: memref<64xi8> {llvm.noalias}, %q: memref<4xf32> {llvm.noalias},
                               %o: memref<4xf32> {llvm.noalias}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s0 = memref.subview %S[0, 0] [8, 1] [1, 1] : memref<8x2xf32> to memref<8x1xf32, strided<[2, 1]>>
  %s1 = memref.subview %S[0, 1] [8, 1] [1, 1] : memref<8x2xf32> to memref<8x1xf32, strided<[2, 1], offset: 1>>
  linalg.generic {indexing_maps = [#id, #id, #id, #w, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s0, %s1, %x, %w : memref<8x1xf32, strided<[2, 1]>>, memref<8x1xf32, strided<[2, 1], offset: 1>>, memref<8x1xf32>, memref<8xf32>)
      outs(%y : memref<8x1xf32>) {
  ^bb0(%a: f32, %b: f32, %xx: f32, %ww: f32, %out: f32):
    %0 = arith.addf %a, %b : f32
    %1 = arith.mulf %xx, %ww : f32
    %2 = arith.addf %0, %1 : f32
    linalg.yield %2 : f32
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1)
             workgroup(%scratch : memref<4xf32, #gpu.address_space<workgroup>>) {
    %v = vector.load %q[%c0] : memref<4xf32>, vector<4xf32>
    %e = vector.extract %v[0] : f32 from vector<4xf32>
    memref.store %e, %scratch[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %r = memref.load %scratch[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
    %u = vector.broadcast %r : f32 to vector<4xf32>
    vector.store %u, %o[%c0] : memref<4xf32>, vector<4xf32>
    gpu.terminator
  } {sinter.kernel = "formed earlier"}
  %t = memref.view %arena[%c0][] : memref<64xi8> to memref<8x1xf32>
  linalg.copy ins(%s1 : memref<8x1xf32, strided<[2, 1], offset: 1>>) outs(%t : memref<8x1xf32>)
  memref.copy %t, %s0 : memref<8x1xf32> to memref<8x1xf32, strided<[2, 1]>>
  memref.copy %x, %s1 : memref<8x1xf32> to memref<8x1xf32, strided<[2, 1], offset: 1>>
  return
}

// -----

#id = affine_map<(c, j) -> (c, j)>

// The same with a formed kernel that reads the state with a vector load
// after the window op: refused.
// CHECK-LABEL: func.func @launch_reads_state
// CHECK:       linalg.generic
func.func @launch_reads_state(%S: memref<8x2xf32> {llvm.noalias}, %x: memref<8x1xf32> {llvm.noalias},
                              %y: memref<8x1xf32> {llvm.noalias}, %o: memref<2xf32> {llvm.noalias}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s0 = memref.subview %S[0, 0] [8, 1] [1, 1] : memref<8x2xf32> to memref<8x1xf32, strided<[2, 1]>>
  %s1 = memref.subview %S[0, 1] [8, 1] [1, 1] : memref<8x2xf32> to memref<8x1xf32, strided<[2, 1], offset: 1>>
  // expected-remark @below {{conv window kernel not used: op 'gpu.launch' reads the conv state after the window op}}
  linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s0, %s1, %x : memref<8x1xf32, strided<[2, 1]>>, memref<8x1xf32, strided<[2, 1], offset: 1>>, memref<8x1xf32>)
      outs(%y : memref<8x1xf32>) {
  ^bb0(%a: f32, %b: f32, %xx: f32, %out: f32):
    %0 = arith.addf %a, %b : f32
    %1 = arith.addf %0, %xx : f32
    linalg.yield %1 : f32
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = vector.load %S[%c0, %c0] : memref<8x2xf32>, vector<2xf32>
    vector.store %v, %o[%c0] : memref<2xf32>, vector<2xf32>
    gpu.terminator
  } {sinter.kernel = "formed earlier"}
  memref.copy %x, %s1 : memref<8x1xf32> to memref<8x1xf32, strided<[2, 1], offset: 1>>
  return
}
