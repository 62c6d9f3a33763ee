// The MoE router folded into the up projection (ExpertGemvRouter.cpp): the
// decode step's block of expert_gemv_ptxas.mlir with the router computed
// from bf16 logits (16 experts, k = 4) instead of given. At sm_90a the
// router's launch is gone: every warp of the up projection's blocks selects
// the picks with the router's keys (bf16: 32 bits, one redux.sync a round), a
// block stops at its own slot's round, and the last block stores the
// weights and indices, which the down projection's kernel reads. Two
// kernels, ptxas accepts them. For sm_75 (no redux.sync; the pass's option,
// sinterc takes sm_80 and later) the fold is refused and the router stays a
// launch of its own (MoeRouter.cpp).
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --compile-to=lower -o %t/lower.mlir
// RUN: sinter-opt %t/lower.mlir --sinter-cuda-form-kernels | FileCheck %s --check-prefix=KERNELS
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --emit=ptx -o %t/sm_90a.ptx
// RUN: FileCheck %s < %t/sm_90a.ptx
// RUN: %ptxas -arch=sm_90a %t/sm_90a.ptx -o %t/sm_90a.cubin
// RUN: sinterc %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t/sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t/sm_80.ptx -o %t/sm_80.cubin
// RUN: sinter-opt %t/lower.mlir --sinter-cuda-form-kernels="gpu-arch=sm_75" | FileCheck %s --check-prefix=SM75

// KERNELS-NOT: sinter.moe_router
// KERNELS: gpu.launch
// The logits (a guarded load: 16 of 32 lanes), then x's loads for the
// block's copy, issued before the rounds.
// KERNELS: scf.if
// KERNELS: memref.load %{{.+}} : memref<1x1x16xbf16>
// KERNELS-COUNT-8: memref.load %{{.+}} : memref<1x2048xbf16>
// The router's keys: the bf16 logits widened, narrowed to 32 bits; the
// selection rounds up to the block's slot, one warp max a round.
// KERNELS: arith.extf {{.*}} : bf16 to f32
// KERNELS: arith.bitcast {{.*}} : f32 to i32
// KERNELS: scf.for {{.*}} -> (i32, f32, f32, i32)
// KERNELS: arith.cmpi ult, {{.*}} : i32
// KERNELS: nvvm.redux.sync umax
// KERNELS-NOT: nvvm.redux.sync
// KERNELS: math.exp
// KERNELS: scf.yield
// The last block (grid 32) stores the router's results.
// KERNELS: %[[LAST:.+]] = arith.cmpi eq, %{{.+}}, %c31
// KERNELS: scf.if
// KERNELS: math.exp
// KERNELS: arith.divf
// KERNELS: memref.store {{.*}} : memref<1x1x4xf32>
// KERNELS: memref.store {{.*}} : memref<1x1x4xi64>
// Then the experts' weights at the pick.
// KERNELS: vector.load
// KERNELS: sinter.kernel = "expert_gemv j=4 n=128 k=2048 {{.*}} combine=false router experts=16 k=4"
// KERNELS-NOT: sinter.moe_router
// KERNELS: sinter.kernel = "expert_gemv j=4 n=2048 k=64 {{.*}} combine=true splits=4"
// KERNELS-NOT: moe_router rows

// CHECK: .visible .entry
// CHECK: redux.sync.max.u32
// CHECK: ld.global.v4.b32
// CHECK: .visible .entry
// CHECK-NOT: redux.sync
// CHECK: ld.global.v4.b32
// CHECK-NOT: .visible .entry

// SM75: sinter.kernel = "moe_router rows=1 experts=16 k=4 slots=1"
// SM75: sinter.kernel = "expert_gemv j=4 n=128 k=2048 {{.*}} combine=false"
// SM75-NOT: router experts

module {
  func.func @main(%x: tensor<1x1x1x2048xbf16> {sinter.name = "x"},
                  %lg: tensor<1x1x16xbf16> {sinter.name = "lg"},
                  %wgu: tensor<16x2048x128xbf16> {sinter.name = "wgu"},
                  %wd: tensor<16x64x2048xbf16> {sinter.name = "wd"})
      -> (tensor<1x1x2048xf32> {sinter.name = "y"}) {
    %pw, %pi = sinter.moe_router %lg {k = 4 : i64} : (tensor<1x1x16xbf16>) -> (tensor<1x1x4xf32>, tensor<1x1x4xi64>)
    %idx = tensor.collapse_shape %pi [[0], [1, 2]] : tensor<1x1x4xi64> into tensor<1x4xi64>
    %pc = tensor.collapse_shape %pw [[0], [1, 2]] : tensor<1x1x4xf32> into tensor<1x4xf32>
    %p = tensor.expand_shape %pc [[0], [1, 2, 3]] output_shape [1, 4, 1, 1] : tensor<1x4xf32> into tensor<1x4x1x1xf32>
    %g1 = sinter.gather %wgu, %idx {axis = 0 : i64} : (tensor<16x2048x128xbf16>, tensor<1x4xi64>) -> tensor<1x4x2048x128xbf16>
    %gu = sinter.matmul %x, %g1 : (tensor<1x1x1x2048xbf16>, tensor<1x4x2048x128xbf16>) -> tensor<1x4x1x128xbf16>
    %guf = sinter.cast %gu : (tensor<1x4x1x128xbf16>) -> tensor<1x4x1x128xf32>
    %s:2 = sinter.split %guf {axis = 3 : i64, sizes = array<i64: 64, 64>} : (tensor<1x4x1x128xf32>) -> (tensor<1x4x1x64xf32>, tensor<1x4x1x64xf32>)
    %a = sinter.silu %s#0 : tensor<1x4x1x64xf32>
    %m = sinter.mul %a, %s#1 : (tensor<1x4x1x64xf32>, tensor<1x4x1x64xf32>) -> tensor<1x4x1x64xf32>
    %mb = sinter.cast %m : (tensor<1x4x1x64xf32>) -> tensor<1x4x1x64xbf16>
    %g2 = sinter.gather %wd, %idx {axis = 0 : i64} : (tensor<16x64x2048xbf16>, tensor<1x4xi64>) -> tensor<1x4x64x2048xbf16>
    %d = sinter.matmul %mb, %g2 : (tensor<1x4x1x64xbf16>, tensor<1x4x64x2048xbf16>) -> tensor<1x4x1x2048xbf16>
    %df = sinter.cast %d : (tensor<1x4x1x2048xbf16>) -> tensor<1x4x1x2048xf32>
    %w = sinter.mul %df, %p : (tensor<1x4x1x2048xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x1x2048xf32>
    %r = sinter.reduce_sum %w {axes = array<i64: 1>} : (tensor<1x4x1x2048xf32>) -> tensor<1x1x2048xf32>
    return %r : tensor<1x1x2048xf32>
  }
}
