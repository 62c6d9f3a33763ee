// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels=remarks=1 -verify-diagnostics | FileCheck %s
// The decode-attention template (lib/Target/CUDA/Attention.cpp): the chain
// AttentionLowering builds for one query (scores, mask, max, sum of exp,
// probabilities, p . v) as two launches when the probabilities are rounded
// (the split over the cache, attention_split.mlir, cannot rebuild them);
// prefill and chains whose intermediates are read elsewhere are left to the
// other templates.

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
#v = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#mask = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// 4 q heads over 2 kv heads, head dim 16, 40 keys (not a multiple of the
// 8 keys of a block), a boolean mask into a second logits buffer,
// probabilities rounded to bf16.
// CHECK-LABEL: func.func @decode
// CHECK-SAME: (%[[Q:.+]]: memref<1x4x1x16xf32>, %[[K:.+]]: memref<1x2x40x16xf32>, %[[V:.+]]: memref<1x2x40x16xf32>, %[[MASK:.+]]: memref<1x1x1x40xi1>, %[[Y:.+]]: memref<1x4x1x16xf32>)
// CHECK-NOT: linalg.
// CHECK: %[[S:.+]] = memref.alloc() : memref<1x4x1x40xf32>
// CHECK-NOT: linalg.
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c5, {{.*}} = %c2, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c256,
// CHECK: scf.for
// CHECK: memref.load %[[Q]]
// CHECK: memref.load %[[K]]
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: scf.if
// CHECK: memref.load %[[MASK]]
// CHECK: arith.select
// CHECK: memref.store {{.*}}, %[[S]]
// CHECK: sinter.kernel = "attention_scores heads=4/2 d=16 t=40 keys_per_warp=1 grid=5x2x1"
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[P:.+]] : memref<512xf32, #gpu.address_space<workgroup>>, %[[PART:.+]] : memref<512xf32, #gpu.address_space<workgroup>>, %[[STATS:.+]] : memref<4xf32, #gpu.address_space<workgroup>>)
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: memref.store {{.*}}, %[[STATS]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[S]]
// CHECK: arith.divf
// CHECK: memref.store {{.*}}, %[[P]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[V]]
// CHECK: memref.load %[[P]]
// CHECK: memref.store {{.*}}, %[[PART]]
// CHECK: gpu.barrier
// CHECK: memref.store {{.*}}, %[[Y]]
// CHECK: sinter.kernel = "attention_softmax_pv heads=4/2 t=40 dv=16 tile=256 grid=1x2x1"
// CHECK-NOT: linalg.
// CHECK: return
func.func @decode(%q: memref<1x4x1x16xf32>, %k: memref<1x2x40x16xf32>, %v: memref<1x2x40x16xf32>, %mask: memref<1x1x1x40xi1>, %y: memref<1x4x1x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %one = arith.constant 1.0 : f32
  %c = arith.constant 0.5 : f32
  %s = memref.alloc() : memref<1x4x1x40xf32>
  %x = memref.alloc() : memref<1x4x1x40xf32>
  %m = memref.alloc() : memref<1x4x1xf32>
  %l = memref.alloc() : memref<1x4x1xf32>
  linalg.fill ins(%zero : f32) outs(%s : memref<1x4x1x40xf32>)
  // expected-remark @below {{decode attention not split over the cache: the probabilities are rounded ('linalg.generic')}}
  linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : memref<1x4x1x16xf32>, memref<1x2x40x16xf32>) outs(%s : memref<1x4x1x40xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %c : f32
    %1 = arith.mulf %b, %c : f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  linalg.generic {indexing_maps = [#id, #mask, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : memref<1x4x1x40xf32>, memref<1x1x1x40xi1>) outs(%x : memref<1x4x1x40xf32>) {
  ^bb0(%a: f32, %keep: i1, %out: f32):
    %0 = arith.select %keep, %zero, %ninf : f32
    %1 = arith.addf %a, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.fill ins(%ninf : f32) outs(%m : memref<1x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : memref<1x4x1x40xf32>) outs(%m : memref<1x4x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %0 = arith.maximumf %a, %acc : f32
    linalg.yield %0 : f32
  }
  linalg.fill ins(%zero : f32) outs(%l : memref<1x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %m : memref<1x4x1x40xf32>, memref<1x4x1xf32>) outs(%l : memref<1x4x1xf32>) {
  ^bb0(%a: f32, %mx: f32, %acc: f32):
    %0 = arith.subf %a, %mx : f32
    %1 = math.exp %0 : f32
    %2 = arith.addf %acc, %1 : f32
    linalg.yield %2 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %m, %l : memref<1x4x1x40xf32>, memref<1x4x1xf32>, memref<1x4x1xf32>) outs(%x : memref<1x4x1x40xf32>) {
  ^bb0(%a: f32, %mx: f32, %sum: f32, %out: f32):
    %0 = arith.subf %a, %mx : f32
    %1 = math.exp %0 : f32
    %2 = arith.divf %1, %sum : f32
    %3 = arith.truncf %2 : f32 to bf16
    %4 = arith.extf %3 : bf16 to f32
    linalg.yield %4 : f32
  }
  linalg.fill ins(%zero : f32) outs(%y : memref<1x4x1x16xf32>)
  linalg.generic {indexing_maps = [#q, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%x, %v : memref<1x4x1x40xf32>, memref<1x2x40x16xf32>) outs(%y : memref<1x4x1x16xf32>) {
  ^bb0(%p: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %p, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// Prefill (two queries): refused with its reason, left to the generic
// mapping.
// CHECK-LABEL: func.func @prefill
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
func.func @prefill(%q: memref<1x4x2x16xf32>, %k: memref<1x2x40x16xf32>, %s: memref<1x4x2x40xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%s : memref<1x4x2x40xf32>)
  // expected-remark @below {{decode attention kernel not used: query length 2 > 1 (prefill): left to the generic mapping}}
  linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : memref<1x4x2x16xf32>, memref<1x2x40x16xf32>) outs(%s : memref<1x4x2x40xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
#v = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// The row max is read after the chain: the kernels never write it, so the
// chain is refused (and left to the row-reduction template and the
// generic mapping).
// CHECK-LABEL: func.func @max_read_later
// CHECK-NOT: attention_
// CHECK: memref.copy
func.func @max_read_later(%q: memref<1x4x1x16xf32>, %k: memref<1x2x40x16xf32>, %v: memref<1x2x40x16xf32>, %y: memref<1x4x1x16xf32>, %mout: memref<1x4x1xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %s = memref.alloc() : memref<1x4x1x40xf32>
  %m = memref.alloc() : memref<1x4x1xf32>
  %l = memref.alloc() : memref<1x4x1xf32>
  linalg.fill ins(%zero : f32) outs(%s : memref<1x4x1x40xf32>)
  // expected-remark @below {{decode attention kernel not used: an intermediate buffer of the chain is read by 'memref.copy'}}
  linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : memref<1x4x1x16xf32>, memref<1x2x40x16xf32>) outs(%s : memref<1x4x1x40xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.fill ins(%ninf : f32) outs(%m : memref<1x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s : memref<1x4x1x40xf32>) outs(%m : memref<1x4x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %0 = arith.maximumf %a, %acc : f32
    linalg.yield %0 : f32
  }
  linalg.fill ins(%zero : f32) outs(%l : memref<1x4x1xf32>)
  linalg.generic {indexing_maps = [#id, #row, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s, %m : memref<1x4x1x40xf32>, memref<1x4x1xf32>) outs(%l : memref<1x4x1xf32>) {
  ^bb0(%a: f32, %mx: f32, %acc: f32):
    %0 = arith.subf %a, %mx : f32
    %1 = math.exp %0 : f32
    %2 = arith.addf %acc, %1 : f32
    linalg.yield %2 : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %m, %l : memref<1x4x1x40xf32>, memref<1x4x1xf32>, memref<1x4x1xf32>) outs(%s : memref<1x4x1x40xf32>) {
  ^bb0(%a: f32, %mx: f32, %sum: f32, %out: f32):
    %0 = arith.subf %a, %mx : f32
    %1 = math.exp %0 : f32
    %2 = arith.divf %1, %sum : f32
    linalg.yield %2 : f32
  }
  linalg.fill ins(%zero : f32) outs(%y : memref<1x4x1x16xf32>)
  linalg.generic {indexing_maps = [#q, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%s, %v : memref<1x4x1x40xf32>, memref<1x2x40x16xf32>) outs(%y : memref<1x4x1x16xf32>) {
  ^bb0(%p: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %p, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  memref.copy %m, %mout : memref<1x4x1xf32> to memref<1x4x1xf32>
  return
}
