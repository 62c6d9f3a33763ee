// RUN: sinter-opt %s -sinter-fuse-gated-activation --sinter-lower 2>/dev/null | FileCheck %s
// RUN: sinter-opt %s --sinter-lower | FileCheck %s --check-prefix=UNFUSED

// The SEED form of the gated MLP after parallel-linear fusion: GEMM1 writes
// gate and up as the halves of one [2, 32] buffer, and GEMM2 reads both
// halves, forming silu(gate) * up as it loads them. The lowered program has
// no buffer of the [2, 16] gated product (nor of silu(gate)): the only
// scratch buffer is GEMM1's output.
// CHECK-LABEL: func.func @sinter_forward
// CHECK-NOT:   memref<2x16xf32>
// CHECK-NOT:   memref.alloc
// CHECK:       %[[GU:.+]] = memref.view %{{.+}} to memref<2x32xf32>
// CHECK-NOT:   memref<2x16xf32>
// CHECK:       linalg.generic {{.*}} outs(%[[GU]] : memref<2x32xf32>)
// CHECK-DAG:   %[[G:.+]] = memref.subview %[[GU]][0, 0] [2, 16] [1, 1]
// CHECK-DAG:   %[[U:.+]] = memref.subview %[[GU]][0, 16] [2, 16] [1, 1]
// CHECK-NOT:   memref<2x16xf32>
// CHECK:       linalg.generic {{.*}} ins(%[[G]], %[[U]], %{{.+}} : {{.*}}) outs(%{{.+}} : memref<2x8xf32>)
// CHECK:         math.exp
// CHECK-NOT:   linalg.generic
// CHECK:       return

// Without the fusion the gated product has its own buffer.
// UNFUSED-LABEL: func.func @sinter_forward
// UNFUSED:       memref.view %{{.+}} to memref<2x16xf32>
func.func @main(%x: tensor<2x8xf32> {sinter.name = "x"}, %wgu: tensor<32x8xf32> {sinter.name = "wgu"}, %wd: tensor<8x16xf32> {sinter.name = "wd"}) -> (tensor<2x8xf32> {sinter.name = "y"}) {
  %gu = sinter.linear %x, %wgu : (tensor<2x8xf32>, tensor<32x8xf32>) -> tensor<2x32xf32>
  %g, %u = sinter.split %gu {axis = 1 : i64, sizes = array<i64: 16, 16>} : (tensor<2x32xf32>) -> (tensor<2x16xf32>, tensor<2x16xf32>)
  %a = sinter.silu %g : tensor<2x16xf32>
  %m = sinter.mul %a, %u : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  %y = sinter.linear %m, %wd : (tensor<2x16xf32>, tensor<8x16xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
