// The MoE down projection with its weighted sum (ExpertGemv.cpp), its 4
// experts split over 4 blocks a 32-column tile (Plan::splits,
// ExpertGemvMatch.cpp): 64 tiles x 4 = 256 blocks. Each block stages its
// one expert's act(gate) * up row in shared memory.
//
// The default (and before sm_90): it writes its column
// sums to a module workspace and counts itself on the tile's arrival
// counter (atom.acq_rel.gpu); the block that sees 3 others before it folds
// the weighted sum over all 4 experts in slot order (the combine's body:
// the bf16 rounding, the product with the routing weight, the add), stores
// the output, and puts the counter back to 0 for the next launch.
//
// The experimental form expert-cluster-combine on sm_90 (CLUSTER,
// Plan::cluster; off by default: measured slower): the tile's 4 blocks are
// consecutive (split = block mod 4) and one cluster of the launch; each
// keeps its column sums in row 0 of its fold memory; after a cluster
// barrier the rank-0 block's writers read the 4 sums of their column from
// ranks 0..3 (distributed shared memory), a second barrier keeps the
// blocks alive until then, and rank 0 folds in the same slot order. No
// workspace or counter.
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --compile-to=lower -o %t.lower.mlir
// RUN: sinter-opt %t.lower.mlir --sinter-cuda-form-kernels | FileCheck %s
// RUN: sinter-opt %t.lower.mlir --sinter-cuda-form-kernels=experimental=expert-cluster-combine | FileCheck %s --check-prefix=CLUSTER
// RUN: sinter-opt %t.lower.mlir "--sinter-cuda-form-kernels=gpu-arch=sm_80 experimental=expert-cluster-combine" | FileCheck %s
// RUN: sinter-opt %t.lower.mlir --sinter-cuda-form-kernels=experimental=expert-cluster-combine --gpu-kernel-outlining --sinter-cuda-cluster-dims | FileCheck %s --check-prefix=DIMS

// CLUSTER-NOT: sinter_expert_sums
// CLUSTER-NOT: sinter_expert_arrivals
// CLUSTER: combine=false"
// CLUSTER: gpu.launch clusters({{.*}}) in (%{{[^ ]+}} = %c4{{[_0-9]*}}, %{{[^ ]+}} = %c1{{[_0-9]*}}, %{{[^ ]+}} = %c1{{[_0-9]*}}) blocks(%[[BID:[^,]+]], {{.*}}) in (%{{[^ ]+}} = %c256{{[_0-9]*}}, {{.*}} threads({{.*}}) in (%{{[^ ]+}} = %c256{{[_0-9]*}}, {{.*}} workgroup(%[[FOLD:[^ ]+]] : memref<64x32xf32, #gpu.address_space<workgroup>>
// CLUSTER: %[[SPLIT:.+]] = arith.remui %[[BID]], %c4{{[_0-9]*}}
// CLUSTER: math.exp
// CLUSTER: vector.load
// The column sum into row 0 of the fold memory, then the barrier.
// CLUSTER: memref.store %{{.+}}, %[[FOLD]][%c0{{[_0-9]*}}, %{{.+}}] : memref<64x32xf32, #gpu.address_space<workgroup>>
// CLUSTER: llvm.inline_asm has_side_effects "barrier.cluster.arrive;\0A\09barrier.cluster.wait;", "~{memory}"
// CLUSTER: arith.cmpi eq, %[[SPLIT]], %c0{{[_0-9]*}}
// CLUSTER: scf.if %{{.+}} -> (f32, f32, f32, f32)
// CLUSTER-COUNT-4: mapa.shared::cluster.u32
// CLUSTER: llvm.inline_asm has_side_effects "barrier.cluster.arrive;
// The fold over the 4 experts, in slot order, from the gathered sums.
// CLUSTER: scf.if
// CLUSTER: arith.truncf
// CLUSTER: arith.mulf
// CLUSTER: arith.addf
// CLUSTER: memref.store %{{.+}}, %{{.+}} : memref<1x1x2048xf32>
// CLUSTER-NOT: atom
// CLUSTER: gpu.terminator
// CLUSTER: combine=true splits=4 cluster"

// The cluster size moves from the launch onto the kernel.
// DIMS: gpu.launch_func @{{[^ ]+}} blocks in (%c32,
// DIMS: gpu.launch_func @[[DOWN:[^ ]+]]::@{{[^ ]+}} blocks in (%c256{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c256
// DIMS-NOT: clusters in
// DIMS: gpu.module @[[DOWN]]
// DIMS: gpu.func @{{.+}} kernel attributes {{{.*}}nvvm.cluster_dim = array<i32: 4, 1, 1>

// CHECK: module attributes {sinter.workspaces = ["sinter_expert_sums_8192", "sinter_expert_arrivals_64"]}
// CHECK-DAG: memref.global "private" constant @sinter_expert_arrivals_64 : memref<64xi32> = dense<0>
// CHECK-DAG: memref.global "private" constant @sinter_expert_sums_8192 : memref<8192xf32>
// The up projection first (not split: no combine).
// CHECK: gpu.launch
// CHECK: combine=false"
// CHECK: %[[SUMS:.+]] = memref.get_global @sinter_expert_sums_8192
// CHECK: %[[ARR:.+]] = memref.get_global @sinter_expert_arrivals_64
// CHECK: gpu.launch blocks({{.*}}) in (%{{.+}} = %c256{{.*}}) threads({{.*}}) in (%{{.+}} = %c256
// x staged: silu(gate) * up of the block's expert into shared memory.
// CHECK: math.exp
// CHECK: memref.store {{.*}} : memref<64xbf16, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: vector.load
// The block's column sum to the workspace, then the count.
// CHECK: memref.store %{{.+}}, %[[SUMS]][%{{.+}}] : memref<8192xf32>
// CHECK: gpu.barrier
// CHECK: llvm.inline_asm "atom.acq_rel.gpu.add.u32 $0, [$1], 1;"
// CHECK: gpu.barrier
// CHECK: %[[LAST:.+]] = arith.cmpf oeq, %{{.+}}, %cst{{.*}} : f32
// CHECK: scf.if
// The fold over the 4 experts, in slot order.
// CHECK: memref.load %[[SUMS]]
// CHECK: arith.truncf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: memref.load %[[SUMS]]
// CHECK: memref.load %[[SUMS]]
// CHECK: memref.load %[[SUMS]]
// CHECK: memref.store %{{.+}}, %{{.+}} : memref<1x1x2048xf32>
// CHECK: memref.store %c0_i32, %[[ARR]]
// CHECK: gpu.terminator
// CHECK: cols=32 rows=64 threads=256 grid=256 {{.*}} staged_x=true prologue=true epilogue=false combine=true splits=4"
// CHECK-NOT: linalg.generic

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
