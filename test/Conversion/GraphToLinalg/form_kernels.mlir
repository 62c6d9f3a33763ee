// RUN: sinter-opt %s -sinter-form-kernels -split-input-file | FileCheck %s
// RUN: sinter-opt %s -sinter-form-kernels='remarks=true' -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: sinter-opt %s -sinter-form-kernels='max-recomputed-ops=0' -split-input-file | FileCheck %s --check-prefix=NOBCAST

#id = affine_map<(d0, d1) -> (d0, d1)>

// An elementwise chain (exp, then add) is one generic; the exp result never
// exists as a tensor.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>, %[[Y:.+]]: tensor<4x8xf32>)
// CHECK: %[[R:.+]] = linalg.generic
// CHECK-SAME: ins(%[[X]], %[[Y]] : tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: math.exp
// CHECK: arith.addf
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]
func.func @chain(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %1 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%0, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A producer with two users stays: fusing would compute exp twice.
// CHECK-LABEL: func.func @two_users
// CHECK: %[[E:.+]] = linalg.generic
// CHECK: math.exp
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[E]], %{{.+}} :
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[E]], %{{.+}} :
func.func @two_users(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  // REMARK: remark: sinter-form-kernels: operand 0 not fused: the producer has several users; fusing would compute it once per user
  %1 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%0, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  // REMARK: remark: sinter-form-kernels: operand 0 not fused: the producer has several users; fusing would compute it once per user
  %2 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%0, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %1, %2 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// RMSNorm's x * x goes into the sum of squares; the reduction's result is
// not fused into the normalization (it needs the whole row first), but the
// normalization reads it without the keepdims expand_shape, and the cheap
// rsqrt(mean + eps) is recomputed per element instead of being a kernel.
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>, %[[W:.+]]: tensor<8xf32>)
// CHECK: %[[SUM:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%[[X]] : tensor<4x8xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[Y:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%[[X]], %[[SUM]], %[[W]] : tensor<4x8xf32>, tensor<4xf32>, tensor<8xf32>)
// CHECK: math.rsqrt
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
// NOBCAST-LABEL: func.func @rms_norm
// NOBCAST-COUNT-3: linalg.generic
// NOBCAST-NOT: linalg.generic
// NOBCAST: return
func.func @rms_norm(%x: tensor<4x8xf32>, %w: tensor<8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 8.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %er = tensor.empty() : tensor<4xf32>
  %sq = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.mulf %a, %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%er : tensor<4xf32>) -> tensor<4xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%sq : tensor<4x8xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %inv = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%sum : tensor<4xf32>) outs(%er : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.divf %a, %n : f32
    %p = arith.addf %m, %eps : f32
    %r = math.rsqrt %p : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %inv1 = tensor.expand_shape %inv [[0, 1]] output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32>
  // REMARK: remark: sinter-form-kernels: operand 1 not fused: the producer has reduction loops
  %y = linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0, 0)>, affine_map<(d0, d1) -> (d1)>, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %inv1, %w : tensor<4x8xf32>, tensor<4x1xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %r: f32, %g: f32, %o: f32):
    %t = arith.mulf %a, %r : f32
    %u = arith.mulf %t, %g : f32
    linalg.yield %u : f32
  } -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// An elementwise producer of a matmul operand stays its own kernel: the
// contraction reads each element once per output column (16 times here).
// CHECK-LABEL: func.func @into_contraction
// CHECK: %[[N:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[N]], %{{.+}} :
func.func @into_contraction(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %eo = tensor.empty() : tensor<4x16xf32>
  %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.tanh %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%eo : tensor<4x16xf32>) -> tensor<4x16xf32>
  // REMARK: remark: sinter-form-kernels: operand 0 not fused: the consumer reads each producer element 16 times (a contraction or reduction operand); fusing would recompute it
  %mm = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%n, %w : tensor<4x8xf32>, tensor<16x8xf32>) outs(%init : tensor<4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %mm : tensor<4x16xf32>
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>

// The lowering's expand/collapse between elementwise ops does not stop the
// chain: the collapse is folded into the consumer by expanding its loops.
// CHECK-LABEL: func.func @through_reshape
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: arith.negf
// CHECK-NOT: linalg.generic
func.func @through_reshape(%x: tensor<2x3x4xf32>) -> tensor<6x4xf32> {
  %e = tensor.empty() : tensor<2x3x4xf32>
  %e2 = tensor.empty() : tensor<6x4xf32>
  %0 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<2x3x4xf32>) outs(%e : tensor<2x3x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<2x3x4xf32>
  %c = tensor.collapse_shape %0 [[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
  %1 = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%c : tensor<6x4xf32>) outs(%e2 : tensor<6x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.negf %a : f32
    linalg.yield %r : f32
  } -> tensor<6x4xf32>
  return %1 : tensor<6x4xf32>
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#w = affine_map<(d0, d1, d2) -> (d1)>

// The depthwise conv1d's shifted windows of the zero-padded input (K = 2,
// causal pad 1): the cast to f32, the pad and the slices become index
// arithmetic with a bounds check inside the one multiply-add generic.
// CHECK-LABEL: func.func @padded_windows
// CHECK-SAME: (%[[X:.+]]: tensor<1x4x8xbf16>, %[[W0:.+]]: tensor<4xf32>, %[[W1:.+]]: tensor<4xf32>)
// CHECK-NOT: tensor.pad
// CHECK: %[[R:.+]] = linalg.generic
// CHECK-SAME: ins(%[[W0]], %[[W1]] : tensor<4xf32>, tensor<4xf32>)
// CHECK: linalg.index 2
// CHECK: tensor.extract %[[X]]
// CHECK: arith.extf
// CHECK: arith.cmpi sge
// CHECK: arith.select
// CHECK: tensor.extract %[[X]]
// CHECK: arith.extf
// CHECK: arith.select
// CHECK: arith.truncf
// CHECK-NOT: linalg.generic
// CHECK-NOT: tensor.pad
// CHECK: return %[[R]]
func.func @padded_windows(%x: tensor<1x4x8xbf16>, %w0: tensor<4xf32>, %w1: tensor<4xf32>) -> tensor<1x4x8xbf16> {
  %zero = arith.constant 0.0 : f32
  %ef = tensor.empty() : tensor<1x4x8xf32>
  %eb = tensor.empty() : tensor<1x4x8xbf16>
  %xf = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x8xbf16>) outs(%ef : tensor<1x4x8xf32>) {
  ^bb0(%a: bf16, %o: f32):
    %r = arith.extf %a : bf16 to f32
    linalg.yield %r : f32
  } -> tensor<1x4x8xf32>
  %p = tensor.pad %xf low[0, 0, 1] high[0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index):
    tensor.yield %zero : f32
  } : tensor<1x4x8xf32> to tensor<1x4x9xf32>
  %s0 = tensor.extract_slice %p[0, 0, 0] [1, 4, 8] [1, 1, 1] : tensor<1x4x9xf32> to tensor<1x4x8xf32>
  %s1 = tensor.extract_slice %p[0, 0, 1] [1, 4, 8] [1, 1, 1] : tensor<1x4x9xf32> to tensor<1x4x8xf32>
  %y = linalg.generic {indexing_maps = [#id3, #w, #id3, #w, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s0, %w0, %s1, %w1 : tensor<1x4x8xf32>, tensor<4xf32>, tensor<1x4x8xf32>, tensor<4xf32>) outs(%eb : tensor<1x4x8xbf16>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %d: f32, %o: bf16):
    %m0 = arith.mulf %a, %b : f32
    %m1 = arith.mulf %c, %d : f32
    %s = arith.addf %m0, %m1 : f32
    %r = arith.truncf %s : f32 to bf16
    linalg.yield %r : bf16
  } -> tensor<1x4x8xbf16>
  return %y : tensor<1x4x8xbf16>
}

// -----

// A fill with several users, none of which takes it as a linalg init (two
// insert_slice destinations, as a padded concat leaves): nothing to clone
// per user, and the pass must not crash (it read past an empty use list
// on HF's Qwen3.5 export).
// CHECK-LABEL: func.func @fill_no_init_user
// CHECK-COUNT-1: linalg.fill
// CHECK: tensor.insert_slice
// CHECK: tensor.insert_slice
func.func @fill_no_init_user(%x: tensor<4xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %c = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%c : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %0 = tensor.insert_slice %x into %f[0] [4] [1] : tensor<4xf32> into tensor<8xf32>
  %1 = tensor.insert_slice %x into %f[4] [4] [1] : tensor<4xf32> into tensor<8xf32>
  return %0, %1 : tensor<8xf32>, tensor<8xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>

// One zero fill (CSE merged them) initializes two contractions with work in
// between: each gets its own fill right before it, the original is gone
// (left at the top, the later contraction's fill was layers away from it,
// and the CUDA GEMV takes only a contraction whose fill is right before).
// CHECK-LABEL: func.func @fill_next_to_each_user
// CHECK-NOT: linalg.fill
// CHECK: %[[F0:.+]] = linalg.fill
// CHECK-NEXT: %[[A:.+]] = linalg.generic
// CHECK-SAME: outs(%[[F0]] :
// CHECK: math.tanh
// CHECK: %[[F1:.+]] = linalg.fill
// CHECK-NEXT: linalg.generic
// CHECK-SAME: outs(%[[F1]] :
func.func @fill_next_to_each_user(%x: tensor<1x8xf32>, %w: tensor<8x8xf32>) -> tensor<1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %eo = tensor.empty() : tensor<1x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%eo : tensor<1x8xf32>) -> tensor<1x8xf32>
  %a = linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x8xf32>, tensor<8x8xf32>) outs(%init : tensor<1x8xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x8xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<1x8xf32>) outs(%eo : tensor<1x8xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = math.tanh %p : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %b = linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%t, %w : tensor<1x8xf32>, tensor<8x8xf32>) outs(%init : tensor<1x8xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x8xf32>
  return %b : tensor<1x8xf32>
}
