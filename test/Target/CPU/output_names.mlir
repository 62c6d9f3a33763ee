// ONNX value names such as "/model/Add_output_0" become file names with
// every character other than [A-Za-z0-9._-] replaced by '_'.
// RUN: rm -rf %t && mkdir -p %t
// RUN: sinterc %s --target=cpu -o %t/model
// RUN: %python %S/Inputs/tensors.py npy %t/x.npy float32 2 1.5,-2
// RUN: %t/model --input /in:0=%t/x.npy --output-dir %t/out
// RUN: %python %S/Inputs/tensors.py dump %t/out/_model_Add_output_0.npy | FileCheck %s
// RUN: %python %S/Inputs/tensors.py dump %t/out/scalar.npy | FileCheck %s --check-prefix=SCALAR
// CHECK: float32[2] 3 -4
// SCALAR: float32[] 2.25

func.func @main(%x: tensor<2xf32> {sinter.name = "/in:0"}) -> (tensor<2xf32> {sinter.name = "/model/Add_output_0"}, tensor<f32> {sinter.name = "scalar"}) {
  %0 = sinter.add %x, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %c = arith.constant dense<1.5> : tensor<f32>
  %1 = sinter.mul %c, %c : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0, %1 : tensor<2xf32>, tensor<f32>
}
