// sinter.expert_linear on the CUDA target: the row-reduction template takes
// the contraction (expert_linear_kernels.mlir: the index load and the weight
// address computed from it inside the kernel); ptxas accepts the result. bf16 one row per token with bias, f32 one row
// per slot with i32 indices.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --compile-to=lower | FileCheck %s --check-prefix=LOWER
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --emit=ptx -o %t/sm_90a.ptx
// RUN: FileCheck %s < %t/sm_90a.ptx
// RUN: %ptxas -arch=sm_90a %t/sm_90a.ptx -o %t/sm_90a.cubin
// RUN: sinterc %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t/sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t/sm_80.ptx -o %t/sm_80.cubin

// LOWER-NOT: sinter.expert_linear
// LOWER: memref.load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : memref<8x64x128xbf16>
// CHECK: .visible .entry
// CHECK: ld.global.b16

module {
  func.func @main(%x: tensor<2x128xbf16> {sinter.name = "x"},
                  %w: tensor<8x64x128xbf16> {sinter.name = "w"},
                  %b: tensor<8x64xbf16> {sinter.name = "b"},
                  %i: tensor<2x4xi64> {sinter.name = "idx"},
                  %xs: tensor<2x4x64xf32> {sinter.name = "xs"},
                  %wd: tensor<8x32x64xf32> {sinter.name = "wd"},
                  %i32: tensor<2x4xi32> {sinter.name = "idx32"})
      -> (tensor<2x4x64xbf16> {sinter.name = "y"}, tensor<2x4x32xf32> {sinter.name = "y2"}) {
    %0 = sinter.expert_linear %x, %w, %i bias %b : (tensor<2x128xbf16>, tensor<8x64x128xbf16>, tensor<2x4xi64>, tensor<8x64xbf16>) -> tensor<2x4x64xbf16>
    %1 = sinter.expert_linear %xs, %wd, %i32 : (tensor<2x4x64xf32>, tensor<8x32x64xf32>, tensor<2x4xi32>) -> tensor<2x4x32xf32>
    return %0, %1 : tensor<2x4x64xbf16>, tensor<2x4x32xf32>
  }
}
