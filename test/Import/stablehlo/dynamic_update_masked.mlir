// dynamic_update_slice at data-dependent offsets that is not a cache write
// (here both dims are partial): the update is spread to the operand's
// shape by a sinter.gather of clip(p - offset, 0, size - 1) per dim, and a
// mask offset <= p < offset + size selects it, so that every offset is
// read inside a kernel (the CUDA target cannot read one on the host).
// RUN: sinterc %s --compile-to=import | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: tensor<4x6xf32> {{.*}}, %[[U:.+]]: tensor<2x3xf32> {{.*}}, %[[P:.+]]: tensor<i32>
// CHECK: %[[O0:.+]] = sinter.clip %{{.+}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<i64>
// CHECK: %[[R0:.+]] = sinter.sub %{{.+}}, %[[O0]] : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
// CHECK: %[[I0:.+]] = sinter.clip %[[R0]]
// CHECK: %[[G0:.+]] = sinter.gather %[[U]], %[[I0]] {axis = 0 : i64} : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
// CHECK: sinter.greater_equal %[[R0]]
// CHECK: sinter.less %[[R0]]
// CHECK: %[[G1:.+]] = sinter.gather %[[G0]], %{{.+}} {axis = 1 : i64} : (tensor<4x3xf32>, tensor<6xi64>) -> tensor<4x6xf32>
// CHECK: %[[M:.+]] = sinter.and %{{.+}}, %{{.+}} : (tensor<4x1xi1>, tensor<1x6xi1>) -> tensor<4x6xi1>
// CHECK: %[[W:.+]] = sinter.where %[[M]], %[[G1]], %[[X]]
// CHECK: return %[[W]]
module @jit_f {
  func.func public @main(%arg0: tensor<4x6xf32>, %arg1: tensor<2x3xf32>, %arg2: tensor<i32>) -> (tensor<4x6xf32>) {
    %0 = stablehlo.dynamic_update_slice %arg0, %arg1, %arg2, %arg2 : (tensor<4x6xf32>, tensor<2x3xf32>, tensor<i32>, tensor<i32>) -> tensor<4x6xf32>
    return %0 : tensor<4x6xf32>
  }
}
