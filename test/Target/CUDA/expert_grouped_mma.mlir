// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: sinterc %s --target=cuda --compile-to=lower | sinter-opt --sinter-cuda-form-kernels | FileCheck %s
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --emit=ptx -o %t/sm_90a.ptx
// RUN: FileCheck %s --check-prefix=PTX < %t/sm_90a.ptx
// RUN: %ptxas -arch=sm_90a %t/sm_90a.ptx -o %t/sm_90a.cubin
// RUN: sinterc %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t/sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t/sm_80.ptx -o %t/sm_80.cubin
// RUN: sinterc %s --target=cuda --compile-to=lower > %t/lower.mlir
// RUN: sed -e '/linalg.fill .*memref<40x2x64xf32>/d' %t/lower.mlir > %t/nofill.mlir
// RUN: sinter-opt %t/nofill.mlir --sinter-cuda-form-kernels | FileCheck %s --check-prefix=NOFILL
// RUN: sed -e 's/x40x/x44x/g; s/40, 40/44, 44/; s/x80x/x88x/g; s/x80xf32/x88xf32/g' %s > %t/k44.mlir
// RUN: sinterc %t/k44.mlir --target=cuda --compile-to=lower | sinter-opt --sinter-cuda-form-kernels=remarks=true 2>&1 | FileCheck %s --check-prefix=K44

// A bf16 MoE block over 40 tokens (2 picks of 3 experts each): both expert
// projections become tensor-core grouped-expert launches (ExpertGroupedMma.cpp),
// a block of 4 warps per (expert, 128 columns) that lists its picks, gathers
// their x rows 32 at a time and multiplies them with the expert's weight
// tile on mma.sync (ldmatrix for x's rows, ldmatrix.trans for W's N-major
// rows), cp.async staging both.

module {
  func.func @main(%x: tensor<40x1x1x64xbf16> {sinter.name = "x"},
                  %idx: tensor<40x2xi64> {sinter.name = "idx"},
                  %p: tensor<40x2x1x1xf32> {sinter.name = "p"},
                  %wgu: tensor<3x64x80xbf16> {sinter.name = "wgu"},
                  %wd: tensor<3x40x64xbf16> {sinter.name = "wd"})
      -> (tensor<40x1x64xf32> {sinter.name = "y"}) {
    %g1 = sinter.gather %wgu, %idx {axis = 0 : i64} : (tensor<3x64x80xbf16>, tensor<40x2xi64>) -> tensor<40x2x64x80xbf16>
    %gu = sinter.matmul %x, %g1 : (tensor<40x1x1x64xbf16>, tensor<40x2x64x80xbf16>) -> tensor<40x2x1x80xbf16>
    %guf = sinter.cast %gu : (tensor<40x2x1x80xbf16>) -> tensor<40x2x1x80xf32>
    %s:2 = sinter.split %guf {axis = 3 : i64, sizes = array<i64: 40, 40>} : (tensor<40x2x1x80xf32>) -> (tensor<40x2x1x40xf32>, tensor<40x2x1x40xf32>)
    %a = sinter.silu %s#0 : tensor<40x2x1x40xf32>
    %m = sinter.mul %a, %s#1 : (tensor<40x2x1x40xf32>, tensor<40x2x1x40xf32>) -> tensor<40x2x1x40xf32>
    %mb = sinter.cast %m : (tensor<40x2x1x40xf32>) -> tensor<40x2x1x40xbf16>
    %g2 = sinter.gather %wd, %idx {axis = 0 : i64} : (tensor<3x40x64xbf16>, tensor<40x2xi64>) -> tensor<40x2x40x64xbf16>
    %d = sinter.matmul %mb, %g2 : (tensor<40x2x1x40xbf16>, tensor<40x2x40x64xbf16>) -> tensor<40x2x1x64xbf16>
    %df = sinter.cast %d : (tensor<40x2x1x64xbf16>) -> tensor<40x2x1x64xf32>
    %w = sinter.mul %df, %p : (tensor<40x2x1x64xf32>, tensor<40x2x1x1xf32>) -> tensor<40x2x1x64xf32>
    %r = sinter.reduce_sum %w {axes = array<i64: 1>} : (tensor<40x2x1x64xf32>) -> tensor<40x1x64xf32>
    return %r : tensor<40x1x64xf32>
  }
}

// The up projection: K = 64 (two 32-deep slices), N = 80 (one partial
// column tile); the down: K = 40 (a partial second slice), N = 64.
// The fills of their f32 outputs are folded into the epilogues (which
// store fill + sum instead of loading the filled buffer): no fill kernel
// before them; the reduce_sum's fill stays. (bench8 prefill 512 on an
// H200: 8.67 ms with the fills and the rounding copy as kernels of their
// own, 8.15 ms folded.)
// CHECK-LABEL: func.func @sinter_forward
// CHECK-NOT:   linalg.fill
// CHECK:       gpu.launch
// CHECK:       memref.atomic_rmw addi
// CHECK:       nvvm.cp.async.shared.global
// CHECK:       nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>
// CHECK:       nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>
// CHECK:       nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
// The up projection's bf16 rounding copy into [40, 2, 1, 80] (truncf,
// extf) is computed by its epilogue from the sums it stores: no kernel of
// its own reads the [40, 2, 80] output back.
// CHECK-NOT:   llvm.load {{.*}}vector<2xf32>
// CHECK:       llvm.store {{.*}}vector<2xf32>
// CHECK:       llvm.extractelement
// CHECK-NEXT:  arith.truncf {{.*}} : f32 to bf16
// CHECK-NEXT:  arith.extf {{.*}} : bf16 to f32
// CHECK:       llvm.store {{.*}}vector<2xf32>
// CHECK:       sinter.kernel = "expert_grouped_mma t=40 j=2 n=80 k=64 experts=3 grid=1x3 threads=128 tile=32x128x32 stages=4 mma=mma.sync.m16n8k16 fill=folded consumer=fused"
// CHECK-NOT:   memref<40x2x80xf32>
// CHECK-NOT:   linalg.fill
// CHECK:       gpu.launch
// CHECK:       sinter.kernel = "expert_grouped_mma t=40 j=2 n=64 k=40 experts=3 grid=1x3 threads=128 tile=32x128x32 stages=4 mma=mma.sync.m16n8k16 fill=folded"
// CHECK:       linalg.fill {{.*}}memref<40x1x64xf32>

// A projection not reached from a fill (the down projection's fill deleted
// from the lowered IR): its epilogue loads out[t, j, n] and adds its sums;
// the up projection still folds its own.
// NOFILL-LABEL: func.func @sinter_forward
// NOFILL:       sinter.kernel = "expert_grouped_mma t=40 j=2 n=80 k=64 experts=3 grid=1x3 threads=128 tile=32x128x32 stages=4 mma=mma.sync.m16n8k16 fill=folded consumer=fused"
// NOFILL-NOT:   linalg.fill
// NOFILL:       gpu.launch
// NOFILL:       llvm.load {{.*}}vector<2xf32>
// NOFILL:       sinter.kernel = "expert_grouped_mma t=40 j=2 n=64 k=40 experts=3 grid=1x3 threads=128 tile=32x128x32 stages=4 mma=mma.sync.m16n8k16"
// NOFILL:       linalg.fill {{.*}}memref<40x1x64xf32>

// PTX:         atom.shared.add.u32
// PTX:         cp.async.cg.shared.global
// PTX:         ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX:         ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX:         mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// An intermediate of 44: the down projection's K = 44 is not a multiple of
// 8 (no 16-byte chunks of x rows): the scalar kernel takes it, with the
// reason.
// K44: remark: sinter-cuda-form-kernels: tensor-core grouped expert kernel not used: K = 44 and N = 64 are not both multiples of 8
// K44: sinter.kernel = "expert_grouped_mma t=40 j=2 n=88 k=64
// The scalar kernel accumulates onto its output: its fill stays.
// K44: linalg.fill {{.*}}memref<40x2x64xf32>
// K44: sinter.kernel = "expert_grouped t=40 j=2 n=64 k=44
