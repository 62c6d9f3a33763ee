// The pack kernels through the whole CUDA codegen: a plan with a
// transposed bf16 source (and a copied one) along axis 0 and a plan with a
// transposed f32 source along axis 1 give sinter_pack_transpose_2 and _4
// beside the forward's kernels (tiles through shared memory, coalesced
// global loads and stores), and ptxas accepts them; the weight table keeps
// the plans for the runtime, which launches the kernels by name.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --emit=ptx -o %t/sm_90a.ptx
// RUN: FileCheck %s < %t/sm_90a.ptx
// RUN: %ptxas -arch=sm_90a %t/sm_90a.ptx -o %t/sm_90a.cubin
// RUN: sinterc %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t/sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t/sm_80.ptx -o %t/sm_80.cubin
// RUN: sinterc %s --target=cuda --compile-to=codegen | FileCheck %s --check-prefix=TABLE

// CHECK-LABEL: .visible .entry sinter_pack_transpose_2(
// CHECK: .maxntid 32, 8, 1
// CHECK: .shared .align 2 .b8 {{.*}}[2112];
// CHECK: ld.global.b16
// CHECK: st.shared.b16
// CHECK: bar.sync
// CHECK: ld.shared.b16
// CHECK: st.global.b16
// CHECK-LABEL: .visible .entry sinter_pack_transpose_4(
// CHECK: .shared .align 4 .b8 {{.*}}[4224];
// CHECK: ld.global.b32

// TABLE: sinter.packs = [{axis = 0 : i64, pieces = [array<i64: 1, 0, 0>, array<i64: 0, 1, 3>]}, {axis = 1 : i64, pieces = [array<i64: 0, 3, 0>, array<i64: 1, 4, 2>]}]
func.func @main(%x: tensor<2x6xbf16> {sinter.name = "x"}, %z: tensor<4x5xf32> {sinter.name = "z"}) -> (tensor<2x5xbf16> {sinter.name = "y"}, tensor<4x5xf32> {sinter.name = "s"}) {
  %a = arith.constant dense<1.0> : tensor<6x3xbf16>
  %b = arith.constant dense<2.0> : tensor<2x6xbf16>
  %w = sinter.pack_weights %a, %b {axis = 0 : i64, offsets = array<i64: 0, 3>, transpose = array<i1: true, false>} : (tensor<6x3xbf16>, tensor<2x6xbf16>) -> tensor<5x6xbf16>
  %y = sinter.linear %x, %w : (tensor<2x6xbf16>, tensor<5x6xbf16>) -> tensor<2x5xbf16>
  %c = arith.constant dense<3.0> : tensor<4x2xf32>
  %d = arith.constant dense<4.0> : tensor<3x4xf32>
  %v = sinter.pack_weights %c, %d {axis = 1 : i64, offsets = array<i64: 0, 2>, transpose = array<i1: false, true>} : (tensor<4x2xf32>, tensor<3x4xf32>) -> tensor<4x5xf32>
  %s = sinter.add %z, %v : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
  return %y, %s : tensor<2x5xbf16>, tensor<4x5xf32>
}
