// The bf16 shared expert as the bf16 export writes it (the gate/up halves of
// one fused projection widened to f32, silu and the product in f32, the
// product rounded to bf16 before the down projection): the fuse phase folds
// it into one sinter.gated_linear with operand_type = bf16, and the CUDA GEMV
// template takes that linear with its prologue (the silu, the product and
// its bf16 rounding cloned into the operand load). ptxas accepts the PTX.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --compile-to=lower -o %t/lower.mlir --report=%t/report.json
// RUN: FileCheck %s --check-prefix=REPORT < %t/report.json
// RUN: sinter-opt %t/lower.mlir --sinter-cuda-form-kernels | FileCheck %s
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --emit=ptx -o %t/sm_90a.ptx
// RUN: %ptxas -arch=sm_90a %t/sm_90a.ptx -o %t/sm_90a.cubin
// RUN: sinterc %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t/sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t/sm_80.ptx -o %t/sm_80.cubin

// REPORT: "decision": "fused",
// REPORT-NEXT: "detail": "silu(gate) * up (feature dim 512) formed in the operand load of the down projection, rounded to bf16 there as the graph's cast rounds it; gate and up read as bf16 (their casts to f32 looked through)

// The down projection is a GEMV over the bf16 halves of the fused output;
// its operand load forms silu(gate) * up in f32 and rounds it to bf16 (the
// graph's cast) before the multiply-accumulate with the weight.
// CHECK: gpu.launch
// CHECK: arith.divf
// CHECK: arith.mulf
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: sinter.kernel = "gemv m=1 n=64 k=512 vec=8
// CHECK-NOT: linalg.generic

module {
  func.func @main(%x: tensor<1x256xbf16> {sinter.name = "x"},
                  %wgu: tensor<1024x256xbf16> {sinter.name = "wgu"},
                  %wd: tensor<64x512xbf16> {sinter.name = "wd"})
      -> (tensor<1x64xbf16> {sinter.name = "y"}) {
    %gu = sinter.linear %x, %wgu : (tensor<1x256xbf16>, tensor<1024x256xbf16>) -> tensor<1x1024xbf16>
    %g, %u = sinter.split %gu {axis = 1 : i64, sizes = array<i64: 512, 512>} : (tensor<1x1024xbf16>) -> (tensor<1x512xbf16>, tensor<1x512xbf16>)
    %g32 = sinter.cast %g : (tensor<1x512xbf16>) -> tensor<1x512xf32>
    %u32 = sinter.cast %u : (tensor<1x512xbf16>) -> tensor<1x512xf32>
    %a = sinter.silu %g32 : tensor<1x512xf32>
    %m = sinter.mul %a, %u32 : (tensor<1x512xf32>, tensor<1x512xf32>) -> tensor<1x512xf32>
    %mb = sinter.cast %m : (tensor<1x512xf32>) -> tensor<1x512xbf16>
    %y = sinter.linear %mb, %wd : (tensor<1x512xbf16>, tensor<64x512xbf16>) -> tensor<1x64xbf16>
    return %y : tensor<1x64xbf16>
  }
}
