// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file | FileCheck %s
// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file \
// RUN:   -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   -convert-linalg-to-loops -lower-affine -convert-scf-to-cf -expand-strided-metadata -lower-affine \
// RUN:   -finalize-memref-to-llvm -convert-math-to-llvm -convert-math-to-libm -convert-arith-to-llvm \
// RUN:   -convert-func-to-llvm -convert-cf-to-llvm -reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// GQA decode step: the cache is concatenated in front, query head h reads
// KV head h floordiv 2, Q and K are each scaled by sqrt(scale), the causal
// frontier is j <= i + past_length (7), softmax guards fully masked rows.
// CHECK-DAG: #[[$Q:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[$K:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// CHECK-DAG: #[[$V:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
// CHECK-LABEL: func.func @attention_gqa_decode
// CHECK-SAME: (%[[Q:.+]]: tensor<1x4x1x16xf32>, %[[K:.+]]: tensor<1x2x1x16xf32>, %[[V:.+]]: tensor<1x2x1x16xf32>, %[[PK:.+]]: tensor<1x2x7x16xf32>, %[[PV:.+]]: tensor<1x2x7x16xf32>)
// CHECK: %[[KC:.+]] = tensor.concat dim(2) %[[PK]], %[[K]]
// CHECK: %[[VC:.+]] = tensor.concat dim(2) %[[PV]], %[[V]]
// CHECK: %[[S:.+]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$K]], #{{.+}}]{{.*}} ins(%[[Q]], %[[KC]] :
// CHECK: arith.constant 5.000000e-01 : f32
// CHECK: %[[L:.+]] = linalg.generic {{.*}} ins(%[[S]] :
// CHECK: %[[J:.+]] = linalg.index 3 : index
// CHECK: %[[LIM:.+]] = arith.addi %{{.+}}, %{{.+}} : index
// CHECK: arith.cmpi sle, %[[J]], %[[LIM]] : index
// CHECK: %[[MAX:.+]] = linalg.generic {{.*}} ins(%[[L]] : tensor<1x4x1x8xf32>) outs(%{{.+}} : tensor<1x4x1xf32>)
// CHECK: arith.maximumf
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}} ins(%[[L]], %[[MAX]] :
// CHECK: math.exp
// CHECK: %[[P:.+]] = linalg.generic {{.*}} ins(%[[L]], %[[MAX]], %[[SUM]] :
// CHECK: arith.divf
// CHECK: %[[Y:.+]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$V]], #{{.+}}]{{.*}} ins(%[[P]], %[[VC]] :
// CHECK: return %[[Y]], %[[KC]], %[[VC]]
// LLVM-LABEL: llvm.func @attention_gqa_decode
func.func @attention_gqa_decode(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<1x2x7x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) {
  %y, %k2, %v2 = sinter.attention %q, %k, %v past %pk, %pv {is_causal, scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
  return %y, %k2, %v2 : tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
}

// -----

// A bool mask (true = keep) becomes a 0 / -inf bias, broadcast from
// [S_q, S_kv]; softcap applies before it. f16 computes in f32.
// CHECK-DAG: #[[$MASK:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-LABEL: func.func @attention_mask_softcap_f16
// CHECK-SAME: %[[M:[^:]+]]: tensor<3x5xi1>
// CHECK: arith.extf %{{.+}} : f16 to f32
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[$MASK]], #{{.+}}]{{.*}} ins(%{{.+}}, %[[M]] : tensor<2x2x3x5xf32>, tensor<3x5xi1>)
// CHECK: ^bb0(%[[X:.+]]: f32, %[[KEEP:.+]]: i1, %{{.+}}: f32):
// CHECK: %[[C:.+]] = arith.constant 2.000000e+00 : f32
// CHECK: %[[D:.+]] = arith.divf %[[X]], %[[C]]
// CHECK: %[[T:.+]] = math.tanh %[[D]]
// CHECK: %[[CAP:.+]] = arith.mulf %[[C]], %[[T]]
// CHECK: %[[B:.+]] = arith.select %[[KEEP]], %{{.+}}, %{{.+}} : f32
// CHECK: arith.addf %[[CAP]], %[[B]]
// CHECK: arith.truncf %{{.+}} : f32 to f16
// LLVM-LABEL: llvm.func @attention_mask_softcap_f16
func.func @attention_mask_softcap_f16(%q: tensor<2x2x3x8xf16>, %k: tensor<2x2x5x8xf16>, %v: tensor<2x2x5x8xf16>, %m: tensor<3x5xi1>) -> (tensor<2x2x3x8xf16>, tensor<2x2x5x8xf16>, tensor<2x2x5x8xf16>) {
  %y, %k2, %v2 = sinter.attention %q, %k, %v mask %m {scale = 0.35355339 : f32, softcap = 2.0 : f32} : (tensor<2x2x3x8xf16>, tensor<2x2x5x8xf16>, tensor<2x2x5x8xf16>, tensor<3x5xi1>) -> (tensor<2x2x3x8xf16>, tensor<2x2x5x8xf16>, tensor<2x2x5x8xf16>)
  return %y, %k2, %v2 : tensor<2x2x3x8xf16>, tensor<2x2x5x8xf16>, tensor<2x2x5x8xf16>
}

// -----

// Partial rotation with position ids: the rotated [.., rotary_dim] part is
// computed by a generic that gathers cos/sin rows, then written over a copy
// of the input.
// CHECK-LABEL: func.func @rotary_partial_positions
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x4x16xf32>, %[[COS:.+]]: tensor<64x4xf32>, %[[SIN:.+]]: tensor<64x4xf32>, %[[P:.+]]: tensor<1x4xi64>)
// CHECK: %[[R:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<1x2x4x8xf32>)
// CHECK: %[[D:.+]] = linalg.index 3 : index
// CHECK: %[[FIRST:.+]] = arith.cmpi ult, %[[D]], %{{.+}} : index
// CHECK: %[[POS:.+]] = tensor.extract %[[P]]
// CHECK: %[[ROW:.+]] = arith.index_cast %[[POS]] : i64 to index
// CHECK: tensor.extract %[[COS]][%[[ROW]], %{{.+}}] : tensor<64x4xf32>
// CHECK: tensor.extract %[[SIN]][%[[ROW]], %{{.+}}] : tensor<64x4xf32>
// CHECK: arith.select %[[FIRST]]
// CHECK: tensor.insert_slice %[[R]] into %[[X]][0, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1]
// LLVM-LABEL: llvm.func @rotary_partial_positions
func.func @rotary_partial_positions(%x: tensor<1x2x4x16xf32>, %cos: tensor<64x4xf32>, %sin: tensor<64x4xf32>, %p: tensor<1x4xi64>) -> tensor<1x2x4x16xf32> {
  %r = sinter.rotary_embedding %x, %cos, %sin positions %p {rotary_dim = 8 : i64} : (tensor<1x2x4x16xf32>, tensor<64x4xf32>, tensor<64x4xf32>, tensor<1x4xi64>) -> tensor<1x2x4x16xf32>
  return %r : tensor<1x2x4x16xf32>
}

// -----

// Interleaved pairs (2i, 2i+1); caches indexed [b, s, i]; full rotation
// needs no insert_slice.
// CHECK-LABEL: func.func @rotary_interleaved
// CHECK-SAME: (%[[X:.+]]: tensor<2x2x3x8xf32>, %[[COS:.+]]: tensor<2x3x4xf32>, %{{.+}}: tensor<2x3x4xf32>)
// CHECK: %[[B:.+]] = linalg.index 0 : index
// CHECK: %[[S:.+]] = linalg.index 2 : index
// CHECK: %[[D:.+]] = linalg.index 3 : index
// CHECK: %[[I:.+]] = arith.shrui %[[D]], %{{.+}} : index
// CHECK: arith.andi %[[D]]
// CHECK: tensor.extract %[[COS]][%[[B]], %[[S]], %[[I]]] : tensor<2x3x4xf32>
// CHECK-NOT: tensor.insert_slice
// LLVM-LABEL: llvm.func @rotary_interleaved
func.func @rotary_interleaved(%x: tensor<2x2x3x8xf32>, %cos: tensor<2x3x4xf32>, %sin: tensor<2x3x4xf32>) -> tensor<2x2x3x8xf32> {
  %r = sinter.rotary_embedding %x, %cos, %sin {interleaved, rotary_dim = 8 : i64} : (tensor<2x2x3x8xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x2x3x8xf32>
  return %r : tensor<2x2x3x8xf32>
}

// -----

// gated_delta: an scf.for over tokens carries the f32 state and the
// output; the state is decayed and updated in place (it is the update's
// init), then read by the query through the GQA map.
// CHECK-DAG: #[[$SK:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 * 16 + d3)>
// CHECK-DAG: #[[$SGQA:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 floordiv 2, d3, d2)>
// CHECK-LABEL: func.func @linear_attention_gated_delta
// CHECK-SAME: %[[S0:[^:]+]]: tensor<1x2x16x16xf32>
// CHECK: %[[R:.+]]:2 = scf.for %[[T:[^ ]+]] = %{{.+}} iter_args(%[[ST:[^ ]+]] = %[[S0]], %[[O:[^ ]+]] = %{{.+}})
// CHECK: %[[KT:.+]] = tensor.extract_slice %{{.+}}[0, %[[T]], 0] [1, 1, 32] [1, 1, 1] : tensor<1x1x32xf32> to tensor<1x32xf32>
// CHECK: %[[RET:.+]] = linalg.generic {{.*}} ins(%[[ST]], %[[KT]], %{{.+}} :
// CHECK: math.exp
// CHECK: %[[S2:.+]] = linalg.generic {{.*}} outs(%[[ST]] : tensor<1x2x16x16xf32>)
// CHECK: math.exp
// CHECK: arith.subf
// CHECK: %[[OT:.+]] = linalg.generic {indexing_maps = [#[[$SK]], #[[$SGQA]], #{{.+}}]{{.*}} ins(%{{.+}}, %[[S2]] :
// CHECK: tensor.collapse_shape
// CHECK: %[[NEWO:.+]] = tensor.insert_slice %{{.+}} into %[[O]][0, %[[T]], 0] [1, 1, 64]
// CHECK: scf.yield %[[S2]], %[[NEWO]]
// CHECK: return %[[R]]#1, %[[R]]#0
// LLVM-LABEL: llvm.func @linear_attention_gated_delta
func.func @linear_attention_gated_delta(%q: tensor<1x1x64xf32>, %k: tensor<1x1x32xf32>, %v: tensor<1x1x32xf32>, %s0: tensor<1x2x16x16xf32>, %g: tensor<1x1x2xf32>, %b: tensor<1x1x2xf32>) -> (tensor<1x1x64xf32>, tensor<1x2x16x16xf32>) {
  %o, %s = sinter.linear_attention %q, %k, %v state %s0 decay %g beta %b {kv_num_heads = 2 : i64, q_num_heads = 4 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule gated_delta>} : (tensor<1x1x64xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>, tensor<1x2x16x16xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) -> (tensor<1x1x64xf32>, tensor<1x2x16x16xf32>)
  return %o, %s : tensor<1x1x64xf32>, tensor<1x2x16x16xf32>
}

// -----

// linear rule without a past state: zero f32 state, no delta read;
// bf16 state is converted at the end.
// CHECK-LABEL: func.func @linear_attention_linear_bf16
// CHECK: %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x2x4x4xf32>)
// CHECK: %[[R:.+]]:2 = scf.for {{.*}} iter_args(%{{[^ ]+}} = %[[Z]],
// CHECK-NOT: arith.subf
// CHECK: scf.yield
// CHECK: linalg.generic {{.*}} ins(%[[R]]#0 : tensor<1x2x4x4xf32>) outs(%{{.+}} : tensor<1x2x4x4xbf16>)
// LLVM-LABEL: llvm.func @linear_attention_linear_bf16
func.func @linear_attention_linear_bf16(%q: tensor<1x3x8xbf16>, %k: tensor<1x3x8xbf16>, %v: tensor<1x3x8xbf16>) -> (tensor<1x3x8xbf16>, tensor<1x2x4x4xbf16>) {
  %o, %s = sinter.linear_attention %q, %k, %v {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 5.0e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x3x8xbf16>, tensor<1x3x8xbf16>, tensor<1x3x8xbf16>) -> (tensor<1x3x8xbf16>, tensor<1x2x4x4xbf16>)
  return %o, %s : tensor<1x3x8xbf16>, tensor<1x2x4x4xbf16>
}

// -----

// The past state is concatenated in front of the input; the depthwise taps
// read [b, c, t + k]; present_state is the last K-1 positions.
// CHECK-DAG: #[[$PAD:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 + d3)>
// CHECK-DAG: #[[$W:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, 0, d3)>
// CHECK-LABEL: func.func @causal_conv_decode
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x1xf32>, %[[W:.+]]: tensor<8x1x4xf32>, %[[S:.+]]: tensor<1x8x3xf32>)
// CHECK: %[[CAT:.+]] = tensor.concat dim(2) %[[S]], %[[X]] : (tensor<1x8x3xf32>, tensor<1x8x1xf32>) -> tensor<1x8x4xf32>
// CHECK: %[[ACC:.+]] = linalg.generic {indexing_maps = [#[[$PAD]], #[[$W]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[CAT]], %[[W]] :
// CHECK: %[[Y:.+]] = linalg.generic {{.*}} ins(%[[ACC]] :
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: %[[P:.+]] = tensor.extract_slice %[[CAT]][0, 0, 1] [1, 8, 3] [1, 1, 1]
// CHECK: return %[[Y]], %[[P]]
// LLVM-LABEL: llvm.func @causal_conv_decode
func.func @causal_conv_decode(%x: tensor<1x8x1xf32>, %w: tensor<8x1x4xf32>, %s0: tensor<1x8x3xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>) {
  %y, %s = sinter.causal_conv_with_state %x, %w state %s0 {silu} : (tensor<1x8x1xf32>, tensor<8x1x4xf32>, tensor<1x8x3xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  return %y, %s : tensor<1x8x1xf32>, tensor<1x8x3xf32>
}

// -----

// Without a state the prefix is zeros; the bias seeds the accumulator.
// CHECK-LABEL: func.func @causal_conv_prefill_bias
// CHECK: %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x4x2xf32>)
// CHECK: tensor.concat dim(2) %[[Z]], %{{.+}} : (tensor<2x4x2xf32>, tensor<2x4x6xf32>) -> tensor<2x4x8xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.+}} : tensor<4xf32>) outs(%{{.+}} : tensor<2x4x6xf32>)
// CHECK-NOT: math.exp
// LLVM-LABEL: llvm.func @causal_conv_prefill_bias
func.func @causal_conv_prefill_bias(%x: tensor<2x4x6xf32>, %w: tensor<4x1x3xf32>, %b: tensor<4xf32>) -> (tensor<2x4x6xf32>, tensor<2x4x2xf32>) {
  %y, %s = sinter.causal_conv_with_state %x, %w bias %b : (tensor<2x4x6xf32>, tensor<4x1x3xf32>, tensor<4xf32>) -> (tensor<2x4x6xf32>, tensor<2x4x2xf32>)
  return %y, %s : tensor<2x4x6xf32>, tensor<2x4x2xf32>
}
