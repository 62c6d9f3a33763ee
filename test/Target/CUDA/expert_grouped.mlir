// RUN: sinterc %s --target=cuda --compile-to=lower | sinter-opt --sinter-cuda-form-kernels=gpu-arch=sm_75 | FileCheck %s
// RUN: sinterc %s --target=cuda --compile-to=lower | sinter-opt --sinter-cuda-form-kernels="gpu-arch=sm_75 remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=SM75
// RUN: sinterc %s --target=cuda --emit=ptx -o %t.ptx && FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: sed -e 's/tensor<4x/tensor<5000x/g' %s > %t.big.mlir
// RUN: sinterc %t.big.mlir --target=cuda --compile-to=lower | sinter-opt --sinter-cuda-form-kernels=remarks=true -o /dev/null 2>&1 | FileCheck %s --check-prefix=BIG

// A MoE block over 4 tokens (2 picks of 3 experts each): both expert
// projections (sinter.expert_linear at T > 1) become grouped-expert
// launches, a block per (expert, tile of 256 columns) that lists its picks
// in shared memory (atomic counter) and reads its weights once for them.
// Before sm_80 (no bf16 mma.sync) the tensor-core kernel refuses
// (expert_grouped_mma.mlir has it) and the scalar one takes both.

module {
  func.func @main(%x: tensor<4x1x1x64xbf16> {sinter.name = "x"},
                  %idx: tensor<4x2xi64> {sinter.name = "idx"},
                  %p: tensor<4x2x1x1xf32> {sinter.name = "p"},
                  %wgu: tensor<3x64x64xbf16> {sinter.name = "wgu"},
                  %wd: tensor<3x32x64xbf16> {sinter.name = "wd"})
      -> (tensor<4x1x64xf32> {sinter.name = "y"}) {
    %g1 = sinter.gather %wgu, %idx {axis = 0 : i64} : (tensor<3x64x64xbf16>, tensor<4x2xi64>) -> tensor<4x2x64x64xbf16>
    %gu = sinter.matmul %x, %g1 : (tensor<4x1x1x64xbf16>, tensor<4x2x64x64xbf16>) -> tensor<4x2x1x64xbf16>
    %guf = sinter.cast %gu : (tensor<4x2x1x64xbf16>) -> tensor<4x2x1x64xf32>
    %s:2 = sinter.split %guf {axis = 3 : i64, sizes = array<i64: 32, 32>} : (tensor<4x2x1x64xf32>) -> (tensor<4x2x1x32xf32>, tensor<4x2x1x32xf32>)
    %a = sinter.silu %s#0 : tensor<4x2x1x32xf32>
    %m = sinter.mul %a, %s#1 : (tensor<4x2x1x32xf32>, tensor<4x2x1x32xf32>) -> tensor<4x2x1x32xf32>
    %mb = sinter.cast %m : (tensor<4x2x1x32xf32>) -> tensor<4x2x1x32xbf16>
    %g2 = sinter.gather %wd, %idx {axis = 0 : i64} : (tensor<3x32x64xbf16>, tensor<4x2xi64>) -> tensor<4x2x32x64xbf16>
    %d = sinter.matmul %mb, %g2 : (tensor<4x2x1x32xbf16>, tensor<4x2x32x64xbf16>) -> tensor<4x2x1x64xbf16>
    %df = sinter.cast %d : (tensor<4x2x1x64xbf16>) -> tensor<4x2x1x64xf32>
    %w = sinter.mul %df, %p : (tensor<4x2x1x64xf32>, tensor<4x2x1x1xf32>) -> tensor<4x2x1x64xf32>
    %r = sinter.reduce_sum %w {axes = array<i64: 1>} : (tensor<4x2x1x64xf32>) -> tensor<4x1x64xf32>
    return %r : tensor<4x1x64xf32>
  }
}


// CHECK-LABEL: func.func @sinter_forward
// CHECK:       gpu.launch
// CHECK:       memref.atomic_rmw addi
// CHECK:       gpu.barrier
// CHECK:       sinter.kernel = "expert_grouped t=4 j=2 n=64 k=64 experts=3 grid=1x3 threads=256 cols=1 batch=8"
// CHECK:       gpu.launch
// CHECK:       memref.atomic_rmw addi
// CHECK:       sinter.kernel = "expert_grouped t=4 j=2 n=64 k=32 experts=3 grid=1x3 threads=256 cols=1 batch=8"

// SM75-COUNT-2: remark: sinter-cuda-form-kernels: tensor-core grouped expert kernel not used: mma.sync m16n8k16 with bf16 needs sm_80+

// PTX:         atom.shared.add.u32
// PTX:         bar.sync

// 5000 tokens x 2 picks do not fit the shared pick list.
// BIG: remark: sinter-cuda-form-kernels: grouped expert kernel not used: 10000 picks do not fit the shared list of 8192
