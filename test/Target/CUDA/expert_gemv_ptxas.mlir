// The mixture-of-experts block of a decode step as the Qwen3.5 export
// writes it (gather of the stacked [E, K, N] experts + matmul, SiLU(gate) *
// up, weighted sum over the 4 selected experts), compiled for the CUDA
// target: sinter-form-expert-linears keeps the weights as they are
// (weight_kn) and ExpertGemv.cpp makes two kernels of it, the up projection
// with its bf16 rounding (hidden 2048: two pipelined groups of loads, x
// copied into shared memory), and the down projection with the gated
// product computed into shared memory and the weighted sum in the same
// kernel: its 4 experts split over 4 blocks a 32-column tile, the last of
// them to arrive (an acq_rel counter) folding the sum from a workspace.
// With the experimental form expert-cluster-combine (CLUSTER, sm_90a) the
// 4 blocks of a tile are one thread-block cluster (.reqnctapercluster, set
// by sinter-cuda-cluster-dims) and rank 0 folds the sum from the others'
// shared memory (mapa + ld.shared::cluster between two cluster barriers).
// ptxas accepts all three.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --compile-to=lower | sinter-opt --sinter-cuda-form-kernels | FileCheck %s --check-prefix=KERNELS
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --emit=ptx -o %t/sm_90a.ptx
// RUN: FileCheck %s < %t/sm_90a.ptx
// RUN: %ptxas -arch=sm_90a %t/sm_90a.ptx -o %t/sm_90a.cubin
// RUN: sinterc %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t/sm_80.ptx
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --emit=ptx --cuda-experimental=expert-cluster-combine -o %t/cluster.ptx
// RUN: FileCheck %s --check-prefix=CLUSTER < %t/cluster.ptx
// RUN: %ptxas -arch=sm_90a %t/cluster.ptx -o %t/cluster.cubin
// RUN: %ptxas -arch=sm_80 %t/sm_80.ptx -o %t/sm_80.cubin

// KERNELS-NOT: linalg.generic
// KERNELS: sinter.kernel = "expert_gemv j=4 n=128 k=2048 vec=8 cols=16 rows=128 threads=256 grid=32 unroll=8 groups=2 pipelined=true staged_x=true prologue=false epilogue=true combine=false"
// KERNELS-NOT: linalg.generic
// KERNELS: sinter.kernel = "expert_gemv j=4 n=2048 k=64 vec=8 cols=32 rows=64 threads=256 grid=256 unroll=1 groups=1 pipelined=false staged_x=true prologue=true epilogue=false combine=true splits=4"
// KERNELS-NOT: linalg.

// Two kernels, each with 128-bit weight loads and shared-memory partials;
// the up projection copies x into shared memory between its first group's
// weight loads and the second group's.
// CHECK: .visible .entry
// CHECK: ld.global.v4.b32
// CHECK: st.shared.b16
// CHECK: bar.sync
// CHECK: ld.global.v4.b32
// CHECK: ld.shared.b16
// CHECK: .visible .entry
// CHECK-NOT: cluster
// CHECK: ld.global.v4.b32
// CHECK: bar.sync
// CHECK: atom.acq_rel.gpu.add.u32
// CHECK-NOT: .visible .entry

// CLUSTER: .visible .entry
// CLUSTER: .visible .entry
// CLUSTER: .explicitcluster
// CLUSTER-NEXT: .reqnctapercluster 4, 1, 1
// CLUSTER: ld.global.v4.b32
// CLUSTER: bar.sync
// CLUSTER: barrier.cluster.arrive;
// CLUSTER-NEXT: barrier.cluster.wait;
// CLUSTER: mapa.shared::cluster.u32
// CLUSTER-NEXT: ld.shared::cluster.f32
// CLUSTER: barrier.cluster.arrive;
// CLUSTER-NOT: atom.
// CLUSTER-NOT: .visible .entry

module {
  func.func @main(%x: tensor<1x1x1x2048xbf16> {sinter.name = "x"},
                  %idx: tensor<1x4xi64> {sinter.name = "idx"},
                  %p: tensor<1x4x1x1xf32> {sinter.name = "p"},
                  %wgu: tensor<16x2048x128xbf16> {sinter.name = "wgu"},
                  %wd: tensor<16x64x2048xbf16> {sinter.name = "wd"})
      -> (tensor<1x1x2048xf32> {sinter.name = "y"}) {
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
