// RUN: sinter-opt %s --split-input-file --verify-diagnostics --sinter-cuda-form-kernels=remarks=1 | FileCheck %s

// The gated-delta decode-step template (lib/Target/CUDA/GatedDelta.cpp) on
// the bufferized generics LLMOps.cpp marks for T = 1: 2 heads of Dk = 32,
// Dv = 16 (8 columns x 4 row groups per warp, 2 warps, 8 state rows per
// thread). The inputs are function arguments here (no producer to fuse):
// they are loaded in the kernel. Refusals leave the generics alone and, with
// remarks=1, say why.

#s = affine_map<(b, h, m, d) -> (b, h, d, m)>
#k = affine_map<(b, h, m, d) -> (b, h * 32 + d)>
#g = affine_map<(b, h, m, d) -> (b, h)>
#col = affine_map<(b, h, m, d) -> (b, h, m)>
#uk = affine_map<(b, h, d, m) -> (b, h * 32 + d)>
#uv = affine_map<(b, h, d, m) -> (b, h * 16 + m)>
#ug = affine_map<(b, h, d, m) -> (b, h)>
#ur = affine_map<(b, h, d, m) -> (b, h, m)>
#id4 = affine_map<(b, h, d, m) -> (b, h, d, m)>
#id3 = affine_map<(b, h, m) -> (b, h, m)>

// The step as one launch: grid 1 x 2 heads, 64 threads; the state column
// slice loaded and stored once (8 rows per thread); every load (state, k,
// gates, q) issued before the first shuffle; two shuffle rounds per
// reduction (row groups 8 and 16 lanes apart); the fills absorbed; only the
// output (a function argument) stored, by row group 0. The retrieved and
// readout buffers are arena scratch nobody reads after the step: not stored.
// CHECK-LABEL: func.func @step
// CHECK-NOT:   linalg.
// CHECK:       gpu.launch
// CHECK-COUNT-8: memref.load %arg0
// CHECK:       memref.load %arg2
// CHECK:       memref.load %arg3
// CHECK:       gpu.shuffle xor
// CHECK-NOT:   memref.load
// CHECK-COUNT-3: gpu.shuffle xor
// CHECK-NOT:   memref.load
// CHECK-COUNT-8: memref.store {{.*}}, %arg0
// CHECK:       scf.if
// CHECK-NEXT:  memref.store {{.*}}, %arg6[
// CHECK-NEXT:  }
// CHECK:       sinter.kernel = "gated_delta b=1 h=2 dk=32 dv=16 grid=1x2x1 block=64 rows_per_thread=8 fused_producers=0"
// CHECK-NOT:   linalg.

func.func @step(%S: memref<1x2x32x16xf32>, %q: memref<1x64xf32>, %k: memref<1x64xf32>,
                  %v: memref<1x32xf32>, %g: memref<1x2xf32>, %beta: memref<1x2xf32>,
                  %o: memref<1x2x16xf32>, %arena: memref<512xi8>) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.17677669 : f32
  %r = memref.view %arena[%c0][] : memref<512xi8> to memref<1x2x16xf32>
  %acc = memref.view %arena[%c256][] : memref<512xi8> to memref<1x2x16xf32>
  linalg.fill ins(%zero : f32) outs(%r : memref<1x2x16xf32>)
  linalg.generic {indexing_maps = [#s, #k, #g, #col], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%S, %k, %g : memref<1x2x32x16xf32>, memref<1x64xf32>, memref<1x2xf32>) outs(%r : memref<1x2x16xf32>)
      attrs = {sinter.gated_delta_step = "retrieve"} {
  ^bb0(%s: f32, %kk: f32, %gg: f32, %out: f32):
    %e = math.exp %gg : f32
    %a = arith.mulf %s, %e : f32
    %b = arith.mulf %a, %kk : f32
    %c = arith.addf %out, %b : f32
    linalg.yield %c : f32
  }
  linalg.generic {indexing_maps = [#uk, #uv, #ug, #ug, #ur, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%k, %v, %g, %beta, %r : memref<1x64xf32>, memref<1x32xf32>, memref<1x2xf32>, memref<1x2xf32>, memref<1x2x16xf32>)
      outs(%S : memref<1x2x32x16xf32>) attrs = {sinter.gated_delta_step = "update"} {
  ^bb0(%kk: f32, %vv: f32, %gg: f32, %bb: f32, %rr: f32, %out: f32):
    %e = math.exp %gg : f32
    %a = arith.mulf %out, %e : f32
    %d = arith.subf %vv, %rr : f32
    %u = arith.mulf %bb, %d : f32
    %x = arith.mulf %kk, %u : f32
    %y = arith.addf %a, %x : f32
    linalg.yield %y : f32
  }
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x2x16xf32>)
  linalg.generic {indexing_maps = [#k, #s, #col], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %S : memref<1x64xf32>, memref<1x2x32x16xf32>) outs(%acc : memref<1x2x16xf32>)
      attrs = {sinter.gated_delta_step = "readout"} {
  ^bb0(%qq: f32, %s: f32, %out: f32):
    %a = arith.mulf %qq, %s : f32
    %b = arith.addf %out, %a : f32
    linalg.yield %b : f32
  }
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x2x16xf32>) outs(%o : memref<1x2x16xf32>) attrs = {sinter.gated_delta_step = "output"} {
  ^bb0(%in: f32, %out: f32):
    %a = arith.mulf %in, %scale : f32
    linalg.yield %a : f32
  }
  return
}

// -----

#s = affine_map<(b, h, m, d) -> (b, h, d, m)>
#k = affine_map<(b, h, m, d) -> (b, h * 32 + d)>
#g = affine_map<(b, h, m, d) -> (b, h)>
#col = affine_map<(b, h, m, d) -> (b, h, m)>
#uk = affine_map<(b, h, d, m) -> (b, h * 32 + d)>
#uv = affine_map<(b, h, d, m) -> (b, h * 16 + m)>
#ug = affine_map<(b, h, d, m) -> (b, h)>
#ur = affine_map<(b, h, d, m) -> (b, h, m)>
#id4 = affine_map<(b, h, d, m) -> (b, h, d, m)>
#id3 = affine_map<(b, h, m) -> (b, h, m)>

// Query heads sharing a state (GQA) are not handled.
// CHECK-LABEL: func.func @gqa_refused
// CHECK-NOT:   gpu.launch
// CHECK-COUNT-4: sinter.gated_delta_step

func.func @gqa_refused(%S: memref<1x2x32x16xf32>, %q: memref<1x64xf32>, %k: memref<1x64xf32>,
                  %v: memref<1x32xf32>, %g: memref<1x2xf32>, %beta: memref<1x2xf32>,
                  %o: memref<1x2x16xf32>, %arena: memref<512xi8>) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.17677669 : f32
  %r = memref.view %arena[%c0][] : memref<512xi8> to memref<1x2x16xf32>
  %acc = memref.view %arena[%c256][] : memref<512xi8> to memref<1x2x16xf32>
  linalg.fill ins(%zero : f32) outs(%r : memref<1x2x16xf32>)
  // expected-remark @+1 {{gated-delta step kernel not used: the retrieve or readout does not read the state as S[b, h, d, m] exactly once (query heads sharing a state, GQA, are not handled)}}
  linalg.generic {indexing_maps = [#s, #k, #g, #col], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%S, %k, %g : memref<1x2x32x16xf32>, memref<1x64xf32>, memref<1x2xf32>) outs(%r : memref<1x2x16xf32>)
      attrs = {sinter.gated_delta_step = "retrieve"} {
  ^bb0(%s: f32, %kk: f32, %gg: f32, %out: f32):
    %e = math.exp %gg : f32
    %a = arith.mulf %s, %e : f32
    %b = arith.mulf %a, %kk : f32
    %c = arith.addf %out, %b : f32
    linalg.yield %c : f32
  }
  linalg.generic {indexing_maps = [#uk, #uv, #ug, #ug, #ur, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%k, %v, %g, %beta, %r : memref<1x64xf32>, memref<1x32xf32>, memref<1x2xf32>, memref<1x2xf32>, memref<1x2x16xf32>)
      outs(%S : memref<1x2x32x16xf32>) attrs = {sinter.gated_delta_step = "update"} {
  ^bb0(%kk: f32, %vv: f32, %gg: f32, %bb: f32, %rr: f32, %out: f32):
    %e = math.exp %gg : f32
    %a = arith.mulf %out, %e : f32
    %d = arith.subf %vv, %rr : f32
    %u = arith.mulf %bb, %d : f32
    %x = arith.mulf %kk, %u : f32
    %y = arith.addf %a, %x : f32
    linalg.yield %y : f32
  }
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x2x16xf32>)
  linalg.generic {indexing_maps = [#k, affine_map<(b, h, m, d) -> (b, h floordiv 2, d, m)>, #col], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %S : memref<1x64xf32>, memref<1x2x32x16xf32>) outs(%acc : memref<1x2x16xf32>)
      attrs = {sinter.gated_delta_step = "readout"} {
  ^bb0(%qq: f32, %s: f32, %out: f32):
    %a = arith.mulf %qq, %s : f32
    %b = arith.addf %out, %a : f32
    linalg.yield %b : f32
  }
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x2x16xf32>) outs(%o : memref<1x2x16xf32>) attrs = {sinter.gated_delta_step = "output"} {
  ^bb0(%in: f32, %out: f32):
    %a = arith.mulf %in, %scale : f32
    linalg.yield %a : f32
  }
  return
}

// -----

#s = affine_map<(b, h, m, d) -> (b, h, d, m)>
#k = affine_map<(b, h, m, d) -> (b, h * 32 + d)>
#g = affine_map<(b, h, m, d) -> (b, h)>
#col = affine_map<(b, h, m, d) -> (b, h, m)>
#uk = affine_map<(b, h, d, m) -> (b, h * 32 + d)>
#uv = affine_map<(b, h, d, m) -> (b, h * 16 + m)>
#ug = affine_map<(b, h, d, m) -> (b, h)>
#ur = affine_map<(b, h, d, m) -> (b, h, m)>
#id4 = affine_map<(b, h, d, m) -> (b, h, d, m)>
#id3 = affine_map<(b, h, m) -> (b, h, m)>

// Something else between the step's ops: refused.
// CHECK-LABEL: func.func @op_between_refused
// CHECK-NOT:   gpu.launch
// CHECK:       memref.copy

func.func @op_between_refused(%S: memref<1x2x32x16xf32>, %q: memref<1x64xf32>, %k: memref<1x64xf32>,
                  %v: memref<1x32xf32>, %g: memref<1x2xf32>, %beta: memref<1x2xf32>,
                  %o: memref<1x2x16xf32>, %arena: memref<512xi8>) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.17677669 : f32
  %r = memref.view %arena[%c0][] : memref<512xi8> to memref<1x2x16xf32>
  %acc = memref.view %arena[%c256][] : memref<512xi8> to memref<1x2x16xf32>
  linalg.fill ins(%zero : f32) outs(%r : memref<1x2x16xf32>)
  // expected-remark @+1 {{gated-delta step kernel not used: op 'memref.copy' between the step's ops}}
  linalg.generic {indexing_maps = [#s, #k, #g, #col], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%S, %k, %g : memref<1x2x32x16xf32>, memref<1x64xf32>, memref<1x2xf32>) outs(%r : memref<1x2x16xf32>)
      attrs = {sinter.gated_delta_step = "retrieve"} {
  ^bb0(%s: f32, %kk: f32, %gg: f32, %out: f32):
    %e = math.exp %gg : f32
    %a = arith.mulf %s, %e : f32
    %b = arith.mulf %a, %kk : f32
    %c = arith.addf %out, %b : f32
    linalg.yield %c : f32
  }
  linalg.generic {indexing_maps = [#uk, #uv, #ug, #ug, #ur, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%k, %v, %g, %beta, %r : memref<1x64xf32>, memref<1x32xf32>, memref<1x2xf32>, memref<1x2xf32>, memref<1x2x16xf32>)
      outs(%S : memref<1x2x32x16xf32>) attrs = {sinter.gated_delta_step = "update"} {
  ^bb0(%kk: f32, %vv: f32, %gg: f32, %bb: f32, %rr: f32, %out: f32):
    %e = math.exp %gg : f32
    %a = arith.mulf %out, %e : f32
    %d = arith.subf %vv, %rr : f32
    %u = arith.mulf %bb, %d : f32
    %x = arith.mulf %kk, %u : f32
    %y = arith.addf %a, %x : f32
    linalg.yield %y : f32
  }
  memref.copy %q, %k : memref<1x64xf32> to memref<1x64xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<1x2x16xf32>)
  linalg.generic {indexing_maps = [#k, #s, #col], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %S : memref<1x64xf32>, memref<1x2x32x16xf32>) outs(%acc : memref<1x2x16xf32>)
      attrs = {sinter.gated_delta_step = "readout"} {
  ^bb0(%qq: f32, %s: f32, %out: f32):
    %a = arith.mulf %qq, %s : f32
    %b = arith.addf %out, %a : f32
    linalg.yield %b : f32
  }
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x2x16xf32>) outs(%o : memref<1x2x16xf32>) attrs = {sinter.gated_delta_step = "output"} {
  ^bb0(%in: f32, %out: f32):
    %a = arith.mulf %in, %scale : f32
    linalg.yield %a : f32
  }
  return
}
