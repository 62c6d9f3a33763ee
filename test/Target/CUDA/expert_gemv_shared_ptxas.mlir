// The decode MoE block as bench8 has it, in the sinter dialect (as the GPU
// bundle's expert_gemv_shared_roundx case, smaller): x an f32 row rounded
// to bf16, the routed experts, and a shared expert whose gated down
// projection is added to the routed sum. Two kernels: the up projection
// computing the rounding as it copies x, and the down projection that
// also computes the shared expert's down projection (one segment of 32
// lanes a row, xor shuffles); the output add is left. ptxas accepts both
// for sm_80 and sm_90a.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --compile-to=lower | sinter-opt --sinter-cuda-form-kernels | FileCheck %s --check-prefix=KERNELS
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --emit=ptx -o %t/sm_90a.ptx
// RUN: FileCheck %s < %t/sm_90a.ptx
// RUN: %ptxas -arch=sm_90a %t/sm_90a.ptx -o %t/sm_90a.cubin
// RUN: sinterc %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t/sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t/sm_80.ptx -o %t/sm_80.cubin

// KERNELS-NOT: linalg.generic
// KERNELS: sinter.kernel = "expert_gemv j=4 n=128 k=512 vec=8 cols=16 rows=128 threads=256 grid=32 unroll=4 groups=1 pipelined=false staged_x=true prologue=true epilogue=true combine=false"
// KERNELS-NOT: linalg.generic
// KERNELS: sinter.kernel = "expert_gemv j=4 n=512 k=64 vec=8 cols=16 rows=256 threads=512 grid=32 unroll=1 groups=1 pipelined=false staged_x=false prologue=true epilogue=false combine=true shared_down n=512 k=256 chunks=32 width=32 passes=1"
// KERNELS: linalg.generic
// KERNELS-NOT: linalg.generic

// The up projection rounds the f32 row (round to nearest even, NaN kept)
// as it stores it to shared memory; the down projection's 16-byte
// shared-weight loads, its shuffles.
// CHECK: .visible .entry
// CHECK: ld.global.b32
// CHECK: setp.nan.f32
// CHECK: st.shared.b16
// CHECK: .visible .entry
// CHECK: ld.global.v4.b32
// CHECK-COUNT-5: shfl.sync.bfly.b32
module {
  func.func @main(%x: tensor<1x1x1x512xf32> {sinter.name = "x"},
                  %idx: tensor<1x4xi64> {sinter.name = "idx"},
                  %p: tensor<1x4x1x1xf32> {sinter.name = "p"},
                  %wgu: tensor<8x512x128xbf16> {sinter.name = "wgu"},
                  %wd: tensor<8x64x512xbf16> {sinter.name = "wd"},
                  %sg: tensor<1x1x256xbf16> {sinter.name = "sg"},
                  %su: tensor<1x1x256xbf16> {sinter.name = "su"},
                  %ws: tensor<512x256xbf16> {sinter.name = "ws"})
      -> (tensor<1x1x512xf32> {sinter.name = "y"}) {
    %xr = sinter.cast %x : (tensor<1x1x1x512xf32>) -> tensor<1x1x1x512xbf16>
    %sd = sinter.gated_linear %sg, %su, %ws {activation = #sinter<gated_activation silu>} : (tensor<1x1x256xbf16>, tensor<1x1x256xbf16>, tensor<512x256xbf16>) -> tensor<1x1x512xbf16>
    %sdf = sinter.cast %sd : (tensor<1x1x512xbf16>) -> tensor<1x1x512xf32>
    %g1 = sinter.gather %wgu, %idx {axis = 0 : i64} : (tensor<8x512x128xbf16>, tensor<1x4xi64>) -> tensor<1x4x512x128xbf16>
    %gu = sinter.matmul %xr, %g1 : (tensor<1x1x1x512xbf16>, tensor<1x4x512x128xbf16>) -> tensor<1x4x1x128xbf16>
    %guf = sinter.cast %gu : (tensor<1x4x1x128xbf16>) -> tensor<1x4x1x128xf32>
    %s:2 = sinter.split %guf {axis = 3 : i64, sizes = array<i64: 64, 64>} : (tensor<1x4x1x128xf32>) -> (tensor<1x4x1x64xf32>, tensor<1x4x1x64xf32>)
    %a = sinter.silu %s#0 : tensor<1x4x1x64xf32>
    %m = sinter.mul %a, %s#1 : (tensor<1x4x1x64xf32>, tensor<1x4x1x64xf32>) -> tensor<1x4x1x64xf32>
    %mb = sinter.cast %m : (tensor<1x4x1x64xf32>) -> tensor<1x4x1x64xbf16>
    %g2 = sinter.gather %wd, %idx {axis = 0 : i64} : (tensor<8x64x512xbf16>, tensor<1x4xi64>) -> tensor<1x4x64x512xbf16>
    %d = sinter.matmul %mb, %g2 : (tensor<1x4x1x64xbf16>, tensor<1x4x64x512xbf16>) -> tensor<1x4x1x512xbf16>
    %df = sinter.cast %d : (tensor<1x4x1x512xbf16>) -> tensor<1x4x1x512xf32>
    %w = sinter.mul %df, %p : (tensor<1x4x1x512xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x1x512xf32>
    %r = sinter.reduce_sum %w {axes = array<i64: 1>} : (tensor<1x4x1x512xf32>) -> tensor<1x1x512xf32>
    %y = sinter.add %r, %sdf : (tensor<1x1x512xf32>, tensor<1x1x512xf32>) -> tensor<1x1x512xf32>
    return %y : tensor<1x1x512xf32>
  }
}

