// RUN: sinter-opt %s --split-input-file --sinter-donate-state | FileCheck %s
// The lowered IR: bufferized, out-params, donated copies dropped. No copy of
// a whole state is left (only the rows written and the shifted columns).
// RUN: sinter-opt %s --split-input-file --sinter-donate-state \
// RUN:   --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   --buffer-results-to-out-params="hoist-static-allocs modify-public-functions" \
// RUN:   --sinter-bind-donated-outputs --canonicalize | FileCheck %s --check-prefix=LOW
// Automatic donation off: nothing is donated.
// RUN: sinter-opt %s --split-input-file --sinter-donate-state=auto=false | FileCheck %s --check-prefix=OFF

// A KV-cache write at a position (what a scatter lowers to: a loop
// inserting into its iter_arg), read by attention after the write. The
// past cache is not read after the write: donated.
// CHECK-LABEL: func.func @kv_cache(
// CHECK-SAME:    %{{.*}}: tensor<2x8x4xf32> {bufferization.writable = true, sinter.donate_to = 1 : i64, sinter.name = "past_key.0"}
// CHECK-SAME:    -> (tensor<2x4xf32> {sinter.name = "y"}, tensor<2x8x4xf32> {sinter.donated_from = 0 : i64, sinter.name = "present.past_key.0"})
// CHECK-SAME:    sinter.entry
// LOW-LABEL: func.func @kv_cache(
// LOW-SAME:    %[[PAST:[a-z0-9]+]]: memref<2x8x4xf32> {sinter.donate_to = 1 : i64
// LOW-SAME:    %[[PRESENT:[a-z0-9]+]]: memref<2x8x4xf32> {sinter.donated_from = 0 : i64
// LOW-SAME:    sinter.donations = {{\[}}[0, 1]]
// LOW-NOT:     memref.copy %[[PAST]], %[[PRESENT]]
// LOW-NOT:     memref.copy {{.*}} : memref<2x8x4xf32> to memref<2x8x4xf32>
// LOW-NOT:     memref.alloc() {{.*}} : memref<2x8x4xf32>
// LOW:         scf.for
// LOW:           memref.subview %[[PAST]]
// LOW:           memref.copy {{.*}} : memref<4xf32, strided<[1], offset: ?>> to memref<4xf32, strided<[1], offset: ?>>
// The attention reads the updated cache, which is the past cache's buffer.
// LOW:         linalg.generic {{.*}} ins(%[[PAST]] : memref<2x8x4xf32>)
// LOW-NOT:     memref.copy {{.*}} : memref<2x8x4xf32> to memref<2x8x4xf32>
// LOW:         return
// OFF-LABEL: func.func @kv_cache(
// OFF-NOT:     sinter.donate
// OFF:         return
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#red = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @kv_cache(%past: tensor<2x8x4xf32> {bufferization.writable = false, sinter.name = "past_key.0"},
                    %k: tensor<2x4xf32> {bufferization.writable = false, sinter.name = "k"},
                    %pos: tensor<i64> {bufferization.writable = false, sinter.name = "pos"})
    -> (tensor<2x4xf32> {sinter.name = "y"}, tensor<2x8x4xf32> {sinter.name = "present.past_key.0"})
    attributes {sinter.entry, sinter.num_inputs = 3 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %p64 = tensor.extract %pos[] : tensor<i64>
  %p = arith.index_cast %p64 : i64 to index
  %present = scf.for %h = %c0 to %c2 step %c1 iter_args(%acc = %past) -> (tensor<2x8x4xf32>) {
    %row = tensor.extract_slice %k[%h, 0] [1, 4] [1, 1] : tensor<2x4xf32> to tensor<4xf32>
    %ins = tensor.insert_slice %row into %acc[%h, %p, 0] [1, 1, 4] [1, 1, 1] : tensor<4xf32> into tensor<2x8x4xf32>
    scf.yield %ins : tensor<2x8x4xf32>
  }
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.generic {indexing_maps = [#id3, #red], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%present : tensor<2x8x4xf32>) outs(%init : tensor<2x4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x4xf32>
  return %y, %present : tensor<2x4xf32>, tensor<2x8x4xf32>
}

// -----

// The convolution state shift: present = concat(state, x)[..., 1:], and
// the convolution's taps read slices of the same concat. The taps read the
// state directly, the concat goes, and the kept columns move through a
// temporary of their size (2 of 3 columns), never the whole state.
// CHECK-LABEL: func.func @conv_shift(
// CHECK-SAME:    {bufferization.writable = true, sinter.donate_to = 1 : i64, sinter.name = "conv_state.0"}
// CHECK-NOT:   tensor.concat
// CHECK:       %[[TAP0:.+]] = tensor.extract_slice %[[S:arg0]][0, 0, 0] [1, 6, 1] [1, 1, 1]
// CHECK:       %[[TAP3:.+]] = tensor.extract_slice %arg1[0, 0, 0] [1, 6, 1] [1, 1, 1]
// CHECK:       %[[KEEP:.+]] = tensor.extract_slice %[[S]][0, 0, 1] [1, 6, 2] [1, 1, 1]
// CHECK:       %[[TMP:.+]] = linalg.copy ins(%[[KEEP]] : tensor<1x6x2xf32>)
// CHECK:       %[[R1:.+]] = tensor.insert_slice %[[TMP]] into %[[S]][0, 0, 0] [1, 6, 2] [1, 1, 1]
// CHECK:       %[[R2:.+]] = tensor.insert_slice %arg1 into %[[R1]][0, 0, 2] [1, 6, 1] [1, 1, 1]
// CHECK:       return %{{.*}}, %[[R2]]
// LOW-LABEL: func.func @conv_shift(
// LOW-SAME:    %[[S:[a-z0-9]+]]: memref<1x6x3xf32> {sinter.donate_to = 1 : i64
// LOW-NOT:     memref<1x6x4xf32>
// LOW-NOT:     memref.copy {{.*}} : memref<1x6x3xf32> to memref<1x6x3xf32>
// LOW:         linalg.copy ins(%{{.*}} : memref<1x6x2xf32, strided<[18, 3, 1], offset: 1>>) outs(%{{.*}} : memref<1x6x2xf32>)
// LOW:         memref.copy %{{.*}}, %{{.*}} : memref<1x6x2xf32> to memref<1x6x2xf32, strided<[18, 3, 1]>>
// LOW:         memref.copy %{{.*}}, %{{.*}} : memref<1x6x1xf32> to memref<1x6x1xf32, strided<[18, 3, 1], offset: 2>>
// LOW-NOT:     memref.copy {{.*}} : memref<1x6x3xf32> to memref<1x6x3xf32>
// LOW:         return
#m3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @conv_shift(%state: tensor<1x6x3xf32> {bufferization.writable = false, sinter.name = "conv_state.0"},
                      %x: tensor<1x6x1xf32> {bufferization.writable = false, sinter.name = "x"})
    -> (tensor<1x6x1xf32> {sinter.name = "y"}, tensor<1x6x3xf32> {sinter.name = "present.conv_state.0"})
    attributes {sinter.entry, sinter.num_inputs = 2 : i64} {
  %cat = tensor.concat dim(2) %state, %x : (tensor<1x6x3xf32>, tensor<1x6x1xf32>) -> tensor<1x6x4xf32>
  %t0 = tensor.extract_slice %cat[0, 0, 0] [1, 6, 1] [1, 1, 1] : tensor<1x6x4xf32> to tensor<1x6x1xf32>
  %t3 = tensor.extract_slice %cat[0, 0, 3] [1, 6, 1] [1, 1, 1] : tensor<1x6x4xf32> to tensor<1x6x1xf32>
  %e = tensor.empty() : tensor<1x6x1xf32>
  %y = linalg.generic {indexing_maps = [#m3, #m3, #m3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%t0, %t3 : tensor<1x6x1xf32>, tensor<1x6x1xf32>) outs(%e : tensor<1x6x1xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x6x1xf32>
  %present = tensor.extract_slice %cat[0, 0, 1] [1, 6, 3] [1, 1, 1] : tensor<1x6x4xf32> to tensor<1x6x3xf32>
  return %y, %present : tensor<1x6x1xf32>, tensor<1x6x3xf32>
}

// -----

// A recurrent state: S' = S * decay + u, each element read at the index it
// is written. The elementwise ops write over the state (their init becomes
// the state), and a read of the updated state after it is fine.
// CHECK-LABEL: func.func @recurrence(
// CHECK-SAME:    {bufferization.writable = true, sinter.donate_to = 1 : i64, sinter.name = "recurrent_state.0"}
// CHECK:       %[[D:.+]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<4x4xf32>, tensor<4x1xf32>) outs(%arg0 : tensor<4x4xf32>)
// CHECK:       %[[U:.+]] = linalg.generic {{.*}} ins(%[[D]], %arg2 : tensor<4x4xf32>, tensor<4x4xf32>) outs(%[[D]] : tensor<4x4xf32>)
// LOW-LABEL: func.func @recurrence(
// LOW-SAME:    %[[S:[a-z0-9]+]]: memref<4x4xf32> {sinter.donate_to = 1 : i64
// LOW-NOT:     memref.copy
// LOW:         linalg.generic {{.*}} ins(%[[S]], %{{.*}} : memref<4x4xf32>, memref<4x1xf32>) outs(%[[S]] : memref<4x4xf32>)
// LOW:         linalg.generic {{.*}} ins(%[[S]], %{{.*}} : memref<4x4xf32>, memref<4x4xf32>) outs(%[[S]] : memref<4x4xf32>)
// LOW-NOT:     memref.copy {{.*}} : memref<4x4xf32> to memref<4x4xf32>
// LOW:         return
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d0, 0)>
#rowsum = affine_map<(d0, d1) -> (d0)>
func.func @recurrence(%s: tensor<4x4xf32> {bufferization.writable = false, sinter.name = "recurrent_state.0"},
                      %decay: tensor<4x1xf32> {bufferization.writable = false, sinter.name = "decay"},
                      %u: tensor<4x4xf32> {bufferization.writable = false, sinter.name = "u"})
    -> (tensor<4xf32> {sinter.name = "o"}, tensor<4x4xf32> {sinter.name = "present.recurrent_state.0"})
    attributes {sinter.entry, sinter.num_inputs = 3 : i64} {
  %e = tensor.empty() : tensor<4x4xf32>
  %d = linalg.generic {indexing_maps = [#id2, #col, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s, %decay : tensor<4x4xf32>, tensor<4x1xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x4xf32>
  %e2 = tensor.empty() : tensor<4x4xf32>
  %n = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%d, %u : tensor<4x4xf32>, tensor<4x4xf32>) outs(%e2 : tensor<4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.addf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e3 : tensor<4xf32>) -> tensor<4xf32>
  %o = linalg.generic {indexing_maps = [#id2, #rowsum], iterator_types = ["parallel", "reduction"]}
      ins(%n : tensor<4x4xf32>) outs(%z : tensor<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %m = arith.addf %a, %acc : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %o, %n : tensor<4xf32>, tensor<4x4xf32>
}
