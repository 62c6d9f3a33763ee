// RUN: sinter-opt %s --split-input-file --sinter-prepare-entry --verify-diagnostics | FileCheck %s

// The forward is renamed, marked, and its inputs made read-only for
// bufferization.
// CHECK-LABEL: func.func @sinter_forward(
// CHECK-SAME:    %{{.+}}: tensor<2x3xf32> {bufferization.writable = false, sinter.name = "x"}
// CHECK-SAME:    %{{.+}}: tensor<i64> {bufferization.writable = false, sinter.name = "n"})
// CHECK-SAME:    -> (tensor<2x3xf32> {sinter.name = "y"})
// CHECK-SAME:    attributes {sinter.entry, sinter.num_inputs = 2 : i64}
// CHECK:       func.func private @helper
func.func @main(%x: tensor<2x3xf32> {sinter.name = "x"}, %n: tensor<i64> {sinter.name = "n"}) -> (tensor<2x3xf32> {sinter.name = "y"}) {
  return %x : tensor<2x3xf32>
}
func.func private @helper(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}

// -----

// expected-error @+1 {{input 'x' has the dynamic shape 'tensor<?x3xf32>': code generation needs static shapes; fix them with sinterc --input-shape x=D0x...xDn (or DIMPARAM=N for a named dimension)}}
func.func @main(%x: tensor<?x3xf32> {sinter.name = "x"}) -> tensor<?x3xf32> {
  return %x : tensor<?x3xf32>
}

// -----

// expected-error @+1 {{output 'u' has element type 'ui16', which the runtime cannot pass (supported: f32, f16, bf16, f64, i64, i32, i16, i8, i1)}}
func.func @main(%x: tensor<2xi16> {sinter.name = "x"}) -> (tensor<2xui16> {sinter.name = "u"}) {
  %u = tensor.bitcast %x : tensor<2xi16> to tensor<2xui16>
  return %u : tensor<2xui16>
}

// -----

// expected-error @+1 {{expected exactly one public function (the model's forward), found 2}}
module {
  func.func @a() { return }
  func.func @b() { return }
}

// -----

// expected-error @+1 {{the symbol 'sinter_forward' is reserved for the model's forward function}}
func.func private @sinter_forward()
func.func @main() { return }
