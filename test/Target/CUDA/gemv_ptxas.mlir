// The GEMV template's PTX: 128-bit loads, warp shuffles, the split-K
// barrier, and ptxas accepts it for every supported architecture. Shapes:
// bf16 with bias and split-K (2x2048 -> 40), f32 with odd K (scalar loads),
// bf16 with 4 columns per warp and odd N, a gated bf16 linear (silu).
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --emit=ptx -o %t/sm_90a.ptx
// RUN: FileCheck %s < %t/sm_90a.ptx
// RUN: %ptxas -arch=sm_90a %t/sm_90a.ptx -o %t/sm_90a.cubin
// RUN: sinterc %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t/sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t/sm_80.ptx -o %t/sm_80.cubin
// RUN: sinterc %s --target=cuda --gpu-arch=sm_89 --emit=ptx -o %t/sm_89.ptx
// RUN: %ptxas -arch=sm_89 %t/sm_89.ptx -o %t/sm_89.cubin

// CHECK-DAG: ld.global.v4.b32
// CHECK-DAG: shfl.sync.bfly.b32
// CHECK-DAG: bar.sync
// CHECK-DAG: .shared .align {{[0-9]+}} .b8

module {
  func.func @main(%x: tensor<2x2048xbf16> {sinter.name = "x"},
                  %w: tensor<40x2048xbf16> {sinter.name = "w"},
                  %b: tensor<40xbf16> {sinter.name = "b"},
                  %x2: tensor<3x37xf32> {sinter.name = "x2"},
                  %w2: tensor<9x37xf32> {sinter.name = "w2"},
                  %x3: tensor<1x1024xbf16> {sinter.name = "x3"},
                  %w3: tensor<20001x1024xbf16> {sinter.name = "w3"},
                  %g: tensor<1x512xbf16> {sinter.name = "g"},
                  %u: tensor<1x512xbf16> {sinter.name = "u"},
                  %wd: tensor<64x512xbf16> {sinter.name = "wd"})
      -> (tensor<2x40xbf16> {sinter.name = "y"}, tensor<3x9xf32> {sinter.name = "y2"},
          tensor<1x20001xbf16> {sinter.name = "y3"}, tensor<1x64xbf16> {sinter.name = "y4"}) {
    %0 = sinter.linear %x, %w bias %b : (tensor<2x2048xbf16>, tensor<40x2048xbf16>, tensor<40xbf16>) -> tensor<2x40xbf16>
    %1 = sinter.linear %x2, %w2 : (tensor<3x37xf32>, tensor<9x37xf32>) -> tensor<3x9xf32>
    %2 = sinter.linear %x3, %w3 : (tensor<1x1024xbf16>, tensor<20001x1024xbf16>) -> tensor<1x20001xbf16>
    %3 = sinter.gated_linear %g, %u, %wd {activation = #sinter<gated_activation silu>} : (tensor<1x512xbf16>, tensor<1x512xbf16>, tensor<64x512xbf16>) -> tensor<1x64xbf16>
    return %0, %1, %2, %3 : tensor<2x40xbf16>, tensor<3x9xf32>, tensor<1x20001xbf16>, tensor<1x64xbf16>
  }
}
