// A GEMV whose activation is a one-row slice of a fused projection with an
// odd width (bench8's shared-expert down projection reads the [1, 1, 512]
// halves of a 1281-wide output): the row stride is odd but the row is never
// stepped, so the template still uses 16-byte (vec=8) loads. A slice at an
// odd offset (513) still gets scalar loads.
// RUN: sinterc %s --target=cuda --gpu-arch=sm_90a --compile-to=lower -o %t.mlir
// RUN: sinter-opt %t.mlir --sinter-cuda-form-kernels | FileCheck %s

// CHECK-DAG: sinter.kernel = "gemv m=1 n=64 k=512 vec=8
// CHECK-DAG: sinter.kernel = "gemv m=1 n=32 k=512 vec=1

module {
  func.func @main(%x: tensor<1x256xbf16> {sinter.name = "x"},
                  %wf: tensor<1025x256xbf16> {sinter.name = "wf"},
                  %wd: tensor<64x512xbf16> {sinter.name = "wd"},
                  %wo: tensor<32x512xbf16> {sinter.name = "wo"})
      -> (tensor<1x64xbf16> {sinter.name = "y"}, tensor<1x32xbf16> {sinter.name = "z"}) {
    %f = sinter.linear %x, %wf : (tensor<1x256xbf16>, tensor<1025x256xbf16>) -> tensor<1x1025xbf16>
    %a, %b, %c = sinter.split %f {axis = 1 : i64, sizes = array<i64: 512, 1, 512>} : (tensor<1x1025xbf16>) -> (tensor<1x512xbf16>, tensor<1x1xbf16>, tensor<1x512xbf16>)
    %y = sinter.linear %a, %wd : (tensor<1x512xbf16>, tensor<64x512xbf16>) -> tensor<1x64xbf16>
    %z = sinter.linear %c, %wo : (tensor<1x512xbf16>, tensor<32x512xbf16>) -> tensor<1x32xbf16>
    return %y, %z : tensor<1x64xbf16>, tensor<1x32xbf16>
  }
}
