// The decode MoE block at bench8's per-layer dims (hidden 2048, expert
// intermediate 512, 8 routed experts, shared intermediate 512): the routed
// down projection with the weighted sum and the shared expert folded in
// takes the deep combine plan (ExpertGemvMatch.cpp's plan): 256 threads,
// each with its 32 trips over K in two pipelined groups of 16 16-byte
// loads, so all of them are in flight before the first FMA. ptxas keeps
// it in registers (no spills, at most 255 a thread for 256 threads).
// The plan is behind experimental=expert-down-deep (off: it measured
// slower on a GPU); off gives the split plan: the 8 experts over 8 blocks
// a 64-column tile (256 blocks of 512 threads, ExpertGemvMatch.cpp).
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --compile-to=lower -o %t/lower.mlir
// RUN: sinter-opt %t/lower.mlir --sinter-cuda-form-kernels=experimental=expert-down-deep | FileCheck %s --check-prefix=DEEP
// RUN: sinter-opt %t/lower.mlir --sinter-cuda-form-kernels | FileCheck %s --check-prefix=FLAT
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --emit=ptx --cuda-experimental=expert-down-deep -o %t/sm_90a.ptx
// RUN: FileCheck %s --check-prefix=PTX < %t/sm_90a.ptx
// RUN: %ptxas -arch=sm_90a -v %t/sm_90a.ptx -o %t/sm_90a.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS
// RUN: sinterc %s --target=cuda --gpu-arch=sm_80 --emit=ptx --cuda-experimental=expert-down-deep -o %t/sm_80.ptx
// RUN: %ptxas -arch=sm_80 -v %t/sm_80.ptx -o %t/sm_80.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS

// DEEP: sinter.kernel = "expert_gemv j=8 n=1024 k=2048 {{.*}} combine=false
// DEEP: sinter.kernel = "expert_gemv j=8 n=2048 k=512 vec=8 cols=16 rows=128 threads=256 grid=128 unroll=16 groups=2 pipelined=true staged_x=false prologue=true epilogue=false combine=true shared_down n=2048 k=512
// FLAT: sinter.kernel = "expert_gemv j=8 n=2048 k=512 vec=8 cols=64 rows=64 threads=512 grid=256 unroll=8 groups=1 pipelined=false staged_x=true prologue=true epilogue=false combine=true shared_down n=2048 k=512 chunks=64 width=32 passes=1 splits=8"

// The down kernel (the second entry, 256 threads): all its 16-byte loads,
// the shared expert's 4 passes and both groups of 16 weight vectors, come
// before the first FMA; none after it.
// PTX: .visible .entry sinter_forward_kernel(
// PTX: .visible .entry sinter_forward_kernel_0(
// PTX: .maxntid 256, 1, 1
// PTX-COUNT-36: ld.global.v4.b32
// PTX-NOT: ld.global.v4.b32
// PTX: fma.rn.f32
// PTX-NOT: ld.global.v4.b32
// PTX: .visible .entry

// No kernel of the block spills (ptxas -v: one line a kernel).
// PTXAS-NOT: {{[1-9][0-9]*}} bytes spill
// PTXAS: 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: {{[1-9][0-9]*}} bytes spill
// PTXAS: 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: {{[1-9][0-9]*}} bytes spill
module {
  func.func @main(%x: tensor<1x1x1x2048xf32> {sinter.name = "x"},
                  %idx: tensor<1x8xi64> {sinter.name = "idx"},
                  %p: tensor<1x8x1x1xf32> {sinter.name = "p"},
                  %wgu: tensor<8x2048x1024xbf16> {sinter.name = "wgu"},
                  %wd: tensor<8x512x2048xbf16> {sinter.name = "wd"},
                  %sg: tensor<1x1x512xbf16> {sinter.name = "sg"},
                  %su: tensor<1x1x512xbf16> {sinter.name = "su"},
                  %ws: tensor<2048x512xbf16> {sinter.name = "ws"})
      -> (tensor<1x1x2048xf32> {sinter.name = "y"}) {
    %xr = sinter.cast %x : (tensor<1x1x1x2048xf32>) -> tensor<1x1x1x2048xbf16>
    %sd = sinter.gated_linear %sg, %su, %ws {activation = #sinter<gated_activation silu>} : (tensor<1x1x512xbf16>, tensor<1x1x512xbf16>, tensor<2048x512xbf16>) -> tensor<1x1x2048xbf16>
    %sdf = sinter.cast %sd : (tensor<1x1x2048xbf16>) -> tensor<1x1x2048xf32>
    %g1 = sinter.gather %wgu, %idx {axis = 0 : i64} : (tensor<8x2048x1024xbf16>, tensor<1x8xi64>) -> tensor<1x8x2048x1024xbf16>
    %gu = sinter.matmul %xr, %g1 : (tensor<1x1x1x2048xbf16>, tensor<1x8x2048x1024xbf16>) -> tensor<1x8x1x1024xbf16>
    %guf = sinter.cast %gu : (tensor<1x8x1x1024xbf16>) -> tensor<1x8x1x1024xf32>
    %s:2 = sinter.split %guf {axis = 3 : i64, sizes = array<i64: 512, 512>} : (tensor<1x8x1x1024xf32>) -> (tensor<1x8x1x512xf32>, tensor<1x8x1x512xf32>)
    %a = sinter.silu %s#0 : tensor<1x8x1x512xf32>
    %m = sinter.mul %a, %s#1 : (tensor<1x8x1x512xf32>, tensor<1x8x1x512xf32>) -> tensor<1x8x1x512xf32>
    %mb = sinter.cast %m : (tensor<1x8x1x512xf32>) -> tensor<1x8x1x512xbf16>
    %g2 = sinter.gather %wd, %idx {axis = 0 : i64} : (tensor<8x512x2048xbf16>, tensor<1x8xi64>) -> tensor<1x8x512x2048xbf16>
    %d = sinter.matmul %mb, %g2 : (tensor<1x8x1x512xbf16>, tensor<1x8x512x2048xbf16>) -> tensor<1x8x1x2048xbf16>
    %df = sinter.cast %d : (tensor<1x8x1x2048xbf16>) -> tensor<1x8x1x2048xf32>
    %w = sinter.mul %df, %p : (tensor<1x8x1x2048xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x1x2048xf32>
    %r = sinter.reduce_sum %w {axes = array<i64: 1>} : (tensor<1x8x1x2048xf32>) -> tensor<1x1x2048xf32>
    %y = sinter.add %r, %sdf : (tensor<1x1x2048xf32>, tensor<1x1x2048xf32>) -> tensor<1x1x2048xf32>
    return %y : tensor<1x1x2048xf32>
  }
}
