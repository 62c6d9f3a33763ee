// RUN: sinter-opt %s | sinter-opt | FileCheck %s
// RUN: sinter-opt %s --mlir-print-op-generic | sinter-opt | FileCheck %s

// Round trip of every sinter op through its custom assembly format (and, in
// the second run, through the generic form), with each optional operand both
// present and absent and every value of each enum attribute.

// CHECK-LABEL: func.func @binary
// CHECK-SAME: (%[[A:.+]]: tensor<2x3xf32>, %[[B:.+]]: tensor<3xf32>, %[[P:.+]]: tensor<4xi1>, %[[Q:.+]]: tensor<1xi1>, %[[I:.+]]: tensor<4xi32>)
func.func @binary(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %p: tensor<4xi1>,
                  %q: tensor<1xi1>, %i: tensor<4xi32>) {
  // CHECK: sinter.add %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: sinter.sub %[[A]], %[[B]] :
  // CHECK: sinter.mul %[[A]], %[[B]] :
  // CHECK: sinter.div %[[A]], %[[B]] :
  // CHECK: sinter.pow %[[A]], %[[B]] :
  // CHECK: sinter.max %[[A]], %[[B]] :
  // CHECK: sinter.min %[[A]], %[[B]] :
  // CHECK: sinter.and %[[P]], %[[Q]] : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  // CHECK: sinter.or %[[P]], %[[Q]] :
  // CHECK: sinter.xor %[[P]], %[[Q]] :
  // CHECK: sinter.mod %[[I]], %[[I]] : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  // CHECK: sinter.mod %[[A]], %[[B]] {fmod} :
  %0 = sinter.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = sinter.sub %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = sinter.mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %3 = sinter.div %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = sinter.pow %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %5 = sinter.max %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %6 = sinter.min %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %7 = sinter.and %p, %q : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  %8 = sinter.or %p, %q : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  %9 = sinter.xor %p, %q : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  %10 = sinter.mod %i, %i : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %11 = sinter.mod %a, %b {fmod} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// CHECK-LABEL: func.func @compare_where
// CHECK-SAME: (%[[A:.+]]: tensor<4xf32>, %[[B:.+]]: tensor<1xf32>, %[[I:.+]]: tensor<4xi64>, %[[C:.+]]: tensor<4xi1>)
func.func @compare_where(%a: tensor<4xf32>, %b: tensor<1xf32>, %i: tensor<4xi64>,
                         %c: tensor<4xi1>) {
  // CHECK: sinter.equal %[[A]], %[[B]] : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xi1>
  // CHECK: sinter.less %[[I]], %[[I]] : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  // CHECK: sinter.less_equal %[[A]], %[[B]] :
  // CHECK: sinter.greater %[[A]], %[[B]] :
  // CHECK: sinter.greater_equal %[[A]], %[[B]] :
  // CHECK: sinter.where %[[C]], %[[A]], %[[B]] : (tensor<4xi1>, tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
  %0 = sinter.equal %a, %b : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xi1>
  %1 = sinter.less %i, %i : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  %2 = sinter.less_equal %a, %b : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xi1>
  %3 = sinter.greater %a, %b : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xi1>
  %4 = sinter.greater_equal %a, %b : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xi1>
  %5 = sinter.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
  return
}

// CHECK-LABEL: func.func @unary
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>, %[[I:.+]]: tensor<4xi8>, %[[P:.+]]: tensor<4xi1>)
func.func @unary(%x: tensor<2x3xf32>, %i: tensor<4xi8>, %p: tensor<4xi1>) {
  // CHECK: sinter.neg %[[I]] : tensor<4xi8>
  // CHECK: sinter.abs %[[I]] : tensor<4xi8>
  // CHECK: sinter.sign %[[X]] : tensor<2x3xf32>
  // CHECK: sinter.relu %[[X]] : tensor<2x3xf32>
  // CHECK: sinter.not %[[P]] : tensor<4xi1>
  // CHECK: sinter.exp %[[X]]
  // CHECK: sinter.log %[[X]]
  // CHECK: sinter.sqrt %[[X]]
  // CHECK: sinter.rsqrt %[[X]]
  // CHECK: sinter.reciprocal %[[X]]
  // CHECK: sinter.sigmoid %[[X]]
  // CHECK: sinter.silu %[[X]]
  // CHECK: sinter.tanh %[[X]]
  // CHECK: sinter.erf %[[X]]
  // CHECK: sinter.softplus %[[X]]
  // CHECK: sinter.softsign %[[X]]
  // CHECK: sinter.sin %[[X]]
  // CHECK: sinter.cos %[[X]]
  // CHECK: sinter.tan %[[X]]
  // CHECK: sinter.asin %[[X]]
  // CHECK: sinter.acos %[[X]]
  // CHECK: sinter.atan %[[X]]
  // CHECK: sinter.sinh %[[X]]
  // CHECK: sinter.cosh %[[X]]
  // CHECK: sinter.asinh %[[X]]
  // CHECK: sinter.acosh %[[X]]
  // CHECK: sinter.atanh %[[X]]
  // CHECK: sinter.floor %[[X]]
  // CHECK: sinter.ceil %[[X]]
  // CHECK: sinter.round %[[X]] : tensor<2x3xf32>
  %0 = sinter.neg %i : tensor<4xi8>
  %1 = sinter.abs %i : tensor<4xi8>
  %2 = sinter.sign %x : tensor<2x3xf32>
  %3 = sinter.relu %x : tensor<2x3xf32>
  %4 = sinter.not %p : tensor<4xi1>
  %5 = sinter.exp %x : tensor<2x3xf32>
  %6 = sinter.log %x : tensor<2x3xf32>
  %7 = sinter.sqrt %x : tensor<2x3xf32>
  %8 = sinter.rsqrt %x : tensor<2x3xf32>
  %9 = sinter.reciprocal %x : tensor<2x3xf32>
  %10 = sinter.sigmoid %x : tensor<2x3xf32>
  %11 = sinter.silu %x : tensor<2x3xf32>
  %12 = sinter.tanh %x : tensor<2x3xf32>
  %13 = sinter.erf %x : tensor<2x3xf32>
  %14 = sinter.softplus %x : tensor<2x3xf32>
  %15 = sinter.softsign %x : tensor<2x3xf32>
  %16 = sinter.sin %x : tensor<2x3xf32>
  %17 = sinter.cos %x : tensor<2x3xf32>
  %18 = sinter.tan %x : tensor<2x3xf32>
  %19 = sinter.asin %x : tensor<2x3xf32>
  %20 = sinter.acos %x : tensor<2x3xf32>
  %21 = sinter.atan %x : tensor<2x3xf32>
  %22 = sinter.sinh %x : tensor<2x3xf32>
  %23 = sinter.cosh %x : tensor<2x3xf32>
  %24 = sinter.asinh %x : tensor<2x3xf32>
  %25 = sinter.acosh %x : tensor<2x3xf32>
  %26 = sinter.atanh %x : tensor<2x3xf32>
  %27 = sinter.floor %x : tensor<2x3xf32>
  %28 = sinter.ceil %x : tensor<2x3xf32>
  %29 = sinter.round %x : tensor<2x3xf32>
  return
}

// CHECK-LABEL: func.func @unary_with_attrs
// CHECK-SAME: (%[[X:.+]]: tensor<4xbf16>)
func.func @unary_with_attrs(%x: tensor<4xbf16>) {
  // CHECK: sinter.gelu %[[X]] : tensor<4xbf16>
  // CHECK: sinter.gelu %[[X]] {tanh_approximation} : tensor<4xbf16>
  // A default-valued alpha is not printed.
  // CHECK: sinter.leaky_relu %[[X]] : tensor<4xbf16>
  // CHECK: sinter.leaky_relu %[[X]] {alpha = 2.000000e-01 : f32}
  // CHECK: sinter.elu %[[X]] {alpha = 5.000000e-01 : f32}
  // CHECK: sinter.celu %[[X]] {alpha = 2.000000e+00 : f32}
  // CHECK: sinter.thresholded_relu %[[X]] {alpha = 1.500000e+00 : f32}
  // CHECK: sinter.selu %[[X]] {alpha = 1.670000e+00 : f32, gamma = 1.050000e+00 : f32}
  // CHECK: sinter.hard_sigmoid %[[X]] {alpha = 2.000000e-01 : f32, beta = 5.000000e-01 : f32}
  %0 = sinter.gelu %x : tensor<4xbf16>
  %1 = sinter.gelu %x {tanh_approximation} : tensor<4xbf16>
  %2 = sinter.leaky_relu %x : tensor<4xbf16>
  %3 = sinter.leaky_relu %x {alpha = 0.2 : f32} : tensor<4xbf16>
  %4 = sinter.elu %x {alpha = 0.5 : f32} : tensor<4xbf16>
  %5 = sinter.celu %x {alpha = 2.0 : f32} : tensor<4xbf16>
  %6 = sinter.thresholded_relu %x {alpha = 1.5 : f32} : tensor<4xbf16>
  %7 = sinter.selu %x {alpha = 1.67 : f32, gamma = 1.05 : f32} : tensor<4xbf16>
  %8 = sinter.hard_sigmoid %x {alpha = 0.2 : f32, beta = 0.5 : f32} : tensor<4xbf16>
  return
}

// CHECK-LABEL: func.func @classify_cast_clip
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>, %[[LO:.+]]: tensor<f32>, %[[HI:.+]]: tensor<f32>)
func.func @classify_cast_clip(%x: tensor<4xf32>, %lo: tensor<f32>, %hi: tensor<f32>) {
  // CHECK: sinter.isnan %[[X]] : (tensor<4xf32>) -> tensor<4xi1>
  // CHECK: sinter.isinf %[[X]] : (tensor<4xf32>) -> tensor<4xi1>
  // CHECK: sinter.isinf %[[X]] {detect_negative = false} :
  // CHECK: sinter.cast %[[X]] : (tensor<4xf32>) -> tensor<4xbf16>
  // CHECK: sinter.cast %[[X]] : (tensor<4xf32>) -> tensor<4xi1>
  // CHECK: sinter.clip %[[X]] : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: sinter.clip %[[X]] min %[[LO]] : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  // CHECK: sinter.clip %[[X]] max %[[HI]] : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  // CHECK: sinter.clip %[[X]] min %[[LO]] max %[[HI]] : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
  %0 = sinter.isnan %x : (tensor<4xf32>) -> tensor<4xi1>
  %1 = sinter.isinf %x : (tensor<4xf32>) -> tensor<4xi1>
  %2 = sinter.isinf %x {detect_negative = false} : (tensor<4xf32>) -> tensor<4xi1>
  %3 = sinter.cast %x : (tensor<4xf32>) -> tensor<4xbf16>
  %4 = sinter.cast %x : (tensor<4xf32>) -> tensor<4xi1>
  %5 = sinter.clip %x : (tensor<4xf32>) -> tensor<4xf32>
  %6 = sinter.clip %x min %lo : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %7 = sinter.clip %x max %hi : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %8 = sinter.clip %x min %lo max %hi : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
  return
}

// CHECK-LABEL: func.func @reductions
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
func.func @reductions(%x: tensor<2x3x4xf32>) {
  // CHECK: sinter.reduce_sum %[[X]] {axes = array<i64: 1>, keepdims} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  // CHECK: sinter.reduce_mean %[[X]] {axes = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  // CHECK: sinter.reduce_max %[[X]] {axes = array<i64: 2>}
  // CHECK: sinter.reduce_min %[[X]] {axes = array<i64: 2>}
  // CHECK: sinter.reduce_prod %[[X]] {axes = array<i64: 2>}
  // CHECK: sinter.reduce_l1 %[[X]] {axes = array<i64: 2>}
  // CHECK: sinter.reduce_l2 %[[X]] {axes = array<i64: 2>}
  // CHECK: sinter.reduce_sum_square %[[X]] {axes = array<i64: 2>}
  // CHECK: sinter.reduce_log_sum %[[X]] {axes = array<i64: 2>}
  // CHECK: sinter.reduce_log_sum_exp %[[X]] {axes = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<f32>
  // CHECK: sinter.argmax %[[X]] {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x4xi64>
  // CHECK: sinter.argmin %[[X]] {axis = 2 : i64, keepdims, select_last_index} : (tensor<2x3x4xf32>) -> tensor<2x3x1xi64>
  %0 = sinter.reduce_sum %x {axes = array<i64: 1>, keepdims} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %1 = sinter.reduce_mean %x {axes = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  %2 = sinter.reduce_max %x {axes = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %3 = sinter.reduce_min %x {axes = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %4 = sinter.reduce_prod %x {axes = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %5 = sinter.reduce_l1 %x {axes = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %6 = sinter.reduce_l2 %x {axes = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %7 = sinter.reduce_sum_square %x {axes = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %8 = sinter.reduce_log_sum %x {axes = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %9 = sinter.reduce_log_sum_exp %x {axes = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<f32>
  %10 = sinter.argmax %x {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x4xi64>
  %11 = sinter.argmin %x {axis = 2 : i64, keepdims, select_last_index} : (tensor<2x3x4xf32>) -> tensor<2x3x1xi64>
  return
}

// CHECK-LABEL: func.func @normalizations
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>, %[[W:.+]]: tensor<8xf32>, %[[B:.+]]: tensor<8xf32>, %[[I:.+]]: tensor<5xi32>)
func.func @normalizations(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>,
                          %i: tensor<5xi32>) {
  // CHECK: sinter.softmax %[[X]] {axis = 1 : i64} : tensor<2x8xf32>
  // CHECK: sinter.log_softmax %[[X]] {axis = 0 : i64} : tensor<2x8xf32>
  // CHECK: sinter.rms_norm %[[X]], %[[W]] {axis = 1 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  // CHECK: sinter.layer_norm %[[X]], %[[W]] {axis = 1 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  // CHECK: sinter.layer_norm %[[X]], %[[W]] bias %[[B]] {axis = 1 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  // CHECK: sinter.cumsum %[[I]] {axis = 0 : i64} : tensor<5xi32>
  // CHECK: sinter.cumsum %[[I]] {axis = 0 : i64, exclusive, reverse} : tensor<5xi32>
  // CHECK: sinter.topk %[[X]] {axis = 1 : i64, k = 2 : i64, largest} : (tensor<2x8xf32>) -> (tensor<2x2xf32>, tensor<2x2xi64>)
  // CHECK: sinter.topk %[[X]] {axis = 1 : i64, k = 3 : i64} :
  %0 = sinter.softmax %x {axis = 1 : i64} : tensor<2x8xf32>
  %1 = sinter.log_softmax %x {axis = 0 : i64} : tensor<2x8xf32>
  %2 = sinter.rms_norm %x, %w {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %3:3 = sinter.layer_norm %x, %w {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  %4:3 = sinter.layer_norm %x, %w bias %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  %5 = sinter.cumsum %i {axis = 0 : i64} : tensor<5xi32>
  %6 = sinter.cumsum %i {axis = 0 : i64, exclusive, reverse} : tensor<5xi32>
  %7:2 = sinter.topk %x {axis = 1 : i64, k = 2 : i64, largest} : (tensor<2x8xf32>) -> (tensor<2x2xf32>, tensor<2x2xi64>)
  %8:2 = sinter.topk %x {axis = 1 : i64, k = 3 : i64} : (tensor<2x8xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>)
  return
}

// CHECK-LABEL: func.func @linear_algebra
// CHECK-SAME: (%[[A:.+]]: tensor<4x1x8x16xf32>, %[[B:.+]]: tensor<3x16x2xf32>, %[[X:.+]]: tensor<1x4x64xf16>, %[[W:.+]]: tensor<128x64xf16>, %[[BIAS:.+]]: tensor<128xf16>, %[[I:.+]]: tensor<1x8x16xf32>, %[[K:.+]]: tensor<8x1x4xf32>, %[[KB:.+]]: tensor<8xf32>)
func.func @linear_algebra(%a: tensor<4x1x8x16xf32>, %b: tensor<3x16x2xf32>,
                          %x: tensor<1x4x64xf16>, %w: tensor<128x64xf16>,
                          %bias: tensor<128xf16>, %in: tensor<1x8x16xf32>,
                          %k: tensor<8x1x4xf32>, %kb: tensor<8xf32>) {
  // CHECK: sinter.matmul %[[A]], %[[B]] : (tensor<4x1x8x16xf32>, tensor<3x16x2xf32>) -> tensor<4x3x8x2xf32>
  // CHECK: sinter.linear %[[X]], %[[W]] : (tensor<1x4x64xf16>, tensor<128x64xf16>) -> tensor<1x4x128xf16>
  // CHECK: sinter.linear %[[X]], %[[W]] bias %[[BIAS]] : (tensor<1x4x64xf16>, tensor<128x64xf16>, tensor<128xf16>) -> tensor<1x4x128xf16>
  // CHECK: sinter.conv %[[I]], %[[K]] {dilations = array<i64: 1>, group = 8 : i64, pads = array<i64: 3, 0>, strides = array<i64: 1>} : (tensor<1x8x16xf32>, tensor<8x1x4xf32>) -> tensor<1x8x16xf32>
  // CHECK: sinter.conv %[[I]], %[[K]] bias %[[KB]] {dilations = array<i64: 2>, group = 8 : i64, pads = array<i64: 0, 0>, strides = array<i64: 2>} : (tensor<1x8x16xf32>, tensor<8x1x4xf32>, tensor<8xf32>) -> tensor<1x8x5xf32>
  %0 = sinter.matmul %a, %b : (tensor<4x1x8x16xf32>, tensor<3x16x2xf32>) -> tensor<4x3x8x2xf32>
  %1 = sinter.linear %x, %w : (tensor<1x4x64xf16>, tensor<128x64xf16>) -> tensor<1x4x128xf16>
  %2 = sinter.linear %x, %w bias %bias : (tensor<1x4x64xf16>, tensor<128x64xf16>, tensor<128xf16>) -> tensor<1x4x128xf16>
  %3 = sinter.conv %in, %k {dilations = array<i64: 1>, group = 8 : i64, pads = array<i64: 3, 0>, strides = array<i64: 1>} : (tensor<1x8x16xf32>, tensor<8x1x4xf32>) -> tensor<1x8x16xf32>
  %4 = sinter.conv %in, %k bias %kb {dilations = array<i64: 2>, group = 8 : i64, pads = array<i64: 0, 0>, strides = array<i64: 2>} : (tensor<1x8x16xf32>, tensor<8x1x4xf32>, tensor<8xf32>) -> tensor<1x8x5xf32>
  return
}

// CHECK-LABEL: func.func @data_movement
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>, %[[Y:.+]]: tensor<3x1xf32>, %[[Z:.+]]: tensor<4x8xf32>, %[[V:.+]]: tensor<f32>, %[[S:.+]]: tensor<4x4xf32>)
func.func @data_movement(%x: tensor<2x3xf32>, %y: tensor<3x1xf32>, %z: tensor<4x8xf32>,
                         %v: tensor<f32>, %s: tensor<4x4xf32>) {
  // CHECK: sinter.transpose %[[X]] {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  // CHECK: sinter.expand %[[Y]] : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
  // CHECK: sinter.reverse %[[X]] {axes = array<i64: 0, 1>} : tensor<2x3xf32>
  // CHECK: sinter.split %[[Z]] {axis = 1 : i64, sizes = array<i64: 2, 6>} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x6xf32>)
  // CHECK: sinter.pad %[[X]], %[[V]] {mode = #sinter<pad_mode constant>, pads = array<i64: 1, 0, 1, 0>} : (tensor<2x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  // CHECK: sinter.pad %[[X]], %[[V]] {mode = #sinter<pad_mode reflect>, pads = array<i64: 0, 1, 0, 1>}
  // CHECK: sinter.pad %[[X]], %[[V]] {mode = #sinter<pad_mode edge>, pads = array<i64: 0, -1, 0, 0>}
  // CHECK: sinter.pad %[[X]], %[[V]] {mode = #sinter<pad_mode wrap>, pads = array<i64: 1, 1, 1, 1>}
  // CHECK: sinter.trilu %[[S]] {k = 0 : i64, upper} : tensor<4x4xf32>
  // CHECK: sinter.trilu %[[S]] {k = -1 : i64} : tensor<4x4xf32>
  %0 = sinter.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %1 = sinter.expand %y : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
  %2 = sinter.reverse %x {axes = array<i64: 0, 1>} : tensor<2x3xf32>
  %3:2 = sinter.split %z {axis = 1 : i64, sizes = array<i64: 2, 6>} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x6xf32>)
  %4 = sinter.pad %x, %v {mode = #sinter<pad_mode constant>, pads = array<i64: 1, 0, 1, 0>} : (tensor<2x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  %5 = sinter.pad %x, %v {mode = #sinter<pad_mode reflect>, pads = array<i64: 0, 1, 0, 1>} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x5xf32>
  %6 = sinter.pad %x, %v {mode = #sinter<pad_mode edge>, pads = array<i64: 0, -1, 0, 0>} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x2xf32>
  %7 = sinter.pad %x, %v {mode = #sinter<pad_mode wrap>, pads = array<i64: 1, 1, 1, 1>} : (tensor<2x3xf32>, tensor<f32>) -> tensor<4x5xf32>
  %8 = sinter.trilu %s {k = 0 : i64, upper} : tensor<4x4xf32>
  %9 = sinter.trilu %s {k = -1 : i64} : tensor<4x4xf32>
  return
}

// CHECK-LABEL: func.func @gather_scatter
// CHECK-SAME: (%[[T:.+]]: tensor<256x64xf32>, %[[IDS:.+]]: tensor<1x4xi64>, %[[D:.+]]: tensor<3x3xf32>, %[[I:.+]]: tensor<2x3xi32>, %[[U:.+]]: tensor<2x3xf32>, %[[NI:.+]]: tensor<1x1xi64>, %[[NU:.+]]: tensor<1x3xf32>)
func.func @gather_scatter(%t: tensor<256x64xf32>, %ids: tensor<1x4xi64>,
                          %d: tensor<3x3xf32>, %i: tensor<2x3xi32>, %u: tensor<2x3xf32>,
                          %ni: tensor<1x1xi64>, %nu: tensor<1x3xf32>) {
  // CHECK: sinter.gather %[[T]], %[[IDS]] {axis = 0 : i64} : (tensor<256x64xf32>, tensor<1x4xi64>) -> tensor<1x4x64xf32>
  // CHECK: sinter.gather_elements %[[D]], %[[I]] {axis = 1 : i64} : (tensor<3x3xf32>, tensor<2x3xi32>) -> tensor<2x3xf32>
  // CHECK: sinter.gather_nd %[[D]], %[[NI]] {batch_dims = 0 : i64} : (tensor<3x3xf32>, tensor<1x1xi64>) -> tensor<1x3xf32>
  // CHECK: sinter.scatter_elements %[[D]], %[[I]], %[[U]] {axis = 0 : i64, reduction = #sinter<reduction none>} : (tensor<3x3xf32>, tensor<2x3xi32>, tensor<2x3xf32>) -> tensor<3x3xf32>
  // CHECK: sinter.scatter_elements %[[D]], %[[I]], %[[U]] {axis = 1 : i64, reduction = #sinter<reduction add>}
  // CHECK: sinter.scatter_elements %[[D]], %[[I]], %[[U]] {axis = 0 : i64, reduction = #sinter<reduction mul>}
  // CHECK: sinter.scatter_nd %[[D]], %[[NI]], %[[NU]] {reduction = #sinter<reduction max>} : (tensor<3x3xf32>, tensor<1x1xi64>, tensor<1x3xf32>) -> tensor<3x3xf32>
  // CHECK: sinter.scatter_nd %[[D]], %[[NI]], %[[NU]] {reduction = #sinter<reduction min>}
  %0 = sinter.gather %t, %ids {axis = 0 : i64} : (tensor<256x64xf32>, tensor<1x4xi64>) -> tensor<1x4x64xf32>
  %1 = sinter.gather_elements %d, %i {axis = 1 : i64} : (tensor<3x3xf32>, tensor<2x3xi32>) -> tensor<2x3xf32>
  %2 = sinter.gather_nd %d, %ni {batch_dims = 0 : i64} : (tensor<3x3xf32>, tensor<1x1xi64>) -> tensor<1x3xf32>
  %3 = sinter.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = #sinter<reduction none>} : (tensor<3x3xf32>, tensor<2x3xi32>, tensor<2x3xf32>) -> tensor<3x3xf32>
  %4 = sinter.scatter_elements %d, %i, %u {axis = 1 : i64, reduction = #sinter<reduction add>} : (tensor<3x3xf32>, tensor<2x3xi32>, tensor<2x3xf32>) -> tensor<3x3xf32>
  %5 = sinter.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = #sinter<reduction mul>} : (tensor<3x3xf32>, tensor<2x3xi32>, tensor<2x3xf32>) -> tensor<3x3xf32>
  %6 = sinter.scatter_nd %d, %ni, %nu {reduction = #sinter<reduction max>} : (tensor<3x3xf32>, tensor<1x1xi64>, tensor<1x3xf32>) -> tensor<3x3xf32>
  %7 = sinter.scatter_nd %d, %ni, %nu {reduction = #sinter<reduction min>} : (tensor<3x3xf32>, tensor<1x1xi64>, tensor<1x3xf32>) -> tensor<3x3xf32>
  return
}

// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:.+]]: tensor<1x4x1x16xf32>, %[[K:.+]]: tensor<1x2x1x16xf32>, %[[V:.+]]: tensor<1x2x1x16xf32>, %[[PK:.+]]: tensor<1x2x7x16xf32>, %[[PV:.+]]: tensor<1x2x7x16xf32>, %[[M:.+]]: tensor<1x1x1x8xi1>)
func.func @attention(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
                     %v: tensor<1x2x1x16xf32>, %pk: tensor<1x2x7x16xf32>,
                     %pv: tensor<1x2x7x16xf32>, %m: tensor<1x1x1x8xi1>) {
  // CHECK: sinter.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32, softcap = 0.000000e+00 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>)
  // CHECK: sinter.attention %[[Q]], %[[K]], %[[V]] past %[[PK]], %[[PV]] {is_causal, scale = 2.500000e-01 : f32, softcap = 0.000000e+00 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
  // CHECK: sinter.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] past %[[PK]], %[[PV]] {scale = 1.250000e-01 : f32, softcap = 5.000000e+01 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x1x1x8xi1>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
  %0:3 = sinter.attention %q, %k, %v {scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>)
  %1:3 = sinter.attention %q, %k, %v past %pk, %pv {is_causal, scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
  %2:3 = sinter.attention %q, %k, %v mask %m past %pk, %pv {scale = 1.25e-01 : f32, softcap = 50.0 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x1x1x8xi1>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
  return
}

// CHECK-LABEL: func.func @attention_additive_mask
// CHECK-SAME: (%[[Q:.+]]: tensor<1x2x3x8xf16>, %[[M:.+]]: tensor<3x3xf16>)
func.func @attention_additive_mask(%q: tensor<1x2x3x8xf16>, %m: tensor<3x3xf16>) {
  // CHECK: sinter.attention %[[Q]], %[[Q]], %[[Q]] mask %[[M]] {scale = 5.000000e-01 : f32, softcap = 0.000000e+00 : f32} : (tensor<1x2x3x8xf16>, tensor<1x2x3x8xf16>, tensor<1x2x3x8xf16>, tensor<3x3xf16>) -> (tensor<1x2x3x8xf16>, tensor<1x2x3x8xf16>, tensor<1x2x3x8xf16>)
  %0:3 = sinter.attention %q, %q, %q mask %m {scale = 0.5 : f32, softcap = 0.0 : f32} : (tensor<1x2x3x8xf16>, tensor<1x2x3x8xf16>, tensor<1x2x3x8xf16>, tensor<3x3xf16>) -> (tensor<1x2x3x8xf16>, tensor<1x2x3x8xf16>, tensor<1x2x3x8xf16>)
  return
}

// CHECK-LABEL: func.func @rotary_embedding
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x4x16xf32>, %[[C:.+]]: tensor<64x4xf32>, %[[P:.+]]: tensor<1x4xi64>, %[[BC:.+]]: tensor<1x4x8xf32>)
func.func @rotary_embedding(%x: tensor<1x2x4x16xf32>, %c: tensor<64x4xf32>,
                            %p: tensor<1x4xi64>, %bc: tensor<1x4x8xf32>) {
  // CHECK: sinter.rotary_embedding %[[X]], %[[C]], %[[C]] positions %[[P]] {rotary_dim = 8 : i64} : (tensor<1x2x4x16xf32>, tensor<64x4xf32>, tensor<64x4xf32>, tensor<1x4xi64>) -> tensor<1x2x4x16xf32>
  // CHECK: sinter.rotary_embedding %[[X]], %[[BC]], %[[BC]] {interleaved, rotary_dim = 16 : i64} : (tensor<1x2x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x2x4x16xf32>
  %0 = sinter.rotary_embedding %x, %c, %c positions %p {rotary_dim = 8 : i64} : (tensor<1x2x4x16xf32>, tensor<64x4xf32>, tensor<64x4xf32>, tensor<1x4xi64>) -> tensor<1x2x4x16xf32>
  %1 = sinter.rotary_embedding %x, %bc, %bc {interleaved, rotary_dim = 16 : i64} : (tensor<1x2x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x2x4x16xf32>
  return
}

// CHECK-LABEL: func.func @tensor_scatter
// CHECK-SAME: (%[[C:.+]]: tensor<1x2x16x8xf32>, %[[U:.+]]: tensor<1x2x1x8xf32>, %[[P:.+]]: tensor<1xi64>)
func.func @tensor_scatter(%c: tensor<1x2x16x8xf32>, %u: tensor<1x2x1x8xf32>,
                          %p: tensor<1xi64>) {
  // CHECK: sinter.tensor_scatter %[[C]], %[[U]], %[[P]] {axis = 2 : i64, mode = #sinter<cache_mode linear>} : (tensor<1x2x16x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) -> tensor<1x2x16x8xf32>
  // CHECK: sinter.tensor_scatter %[[C]], %[[U]] {axis = 2 : i64, mode = #sinter<cache_mode circular>} : (tensor<1x2x16x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x16x8xf32>
  %0 = sinter.tensor_scatter %c, %u, %p {axis = 2 : i64, mode = #sinter<cache_mode linear>} : (tensor<1x2x16x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) -> tensor<1x2x16x8xf32>
  %1 = sinter.tensor_scatter %c, %u {axis = 2 : i64, mode = #sinter<cache_mode circular>} : (tensor<1x2x16x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x16x8xf32>
  return
}

// CHECK-LABEL: func.func @linear_attention
// CHECK-SAME: (%[[Q:.+]]: tensor<1x3x32xf32>, %[[S:.+]]: tensor<1x2x16x16xf32>, %[[G:.+]]: tensor<1x3x2xf32>, %[[B:.+]]: tensor<1x3x1xf32>, %[[GK:.+]]: tensor<1x3x32xf32>)
func.func @linear_attention(%q: tensor<1x3x32xf32>, %s: tensor<1x2x16x16xf32>,
                            %g: tensor<1x3x2xf32>, %b: tensor<1x3x1xf32>,
                            %gk: tensor<1x3x32xf32>) {
  // CHECK: sinter.linear_attention %[[Q]], %[[Q]], %[[Q]] {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.500000e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  // CHECK: sinter.linear_attention %[[Q]], %[[Q]], %[[Q]] state %[[S]] decay %[[GK]] {{{.*}}update_rule = #sinter<update_rule gated>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x2x16x16xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  // CHECK: sinter.linear_attention %[[Q]], %[[Q]], %[[Q]] beta %[[B]] {{{.*}}update_rule = #sinter<update_rule delta>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x1xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  // CHECK: sinter.linear_attention %[[Q]], %[[Q]], %[[Q]] state %[[S]] decay %[[G]] beta %[[B]] {{{.*}}update_rule = #sinter<update_rule gated_delta>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x2x16x16xf32>, tensor<1x3x2xf32>, tensor<1x3x1xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  %0:2 = sinter.linear_attention %q, %q, %q {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule linear>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  %1:2 = sinter.linear_attention %q, %q, %q state %s decay %gk {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule gated>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x2x16x16xf32>, tensor<1x3x32xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  %2:2 = sinter.linear_attention %q, %q, %q beta %b {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule delta>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x1xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  %3:2 = sinter.linear_attention %q, %q, %q state %s decay %g beta %b {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule gated_delta>} : (tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x3x32xf32>, tensor<1x2x16x16xf32>, tensor<1x3x2xf32>, tensor<1x3x1xf32>) -> (tensor<1x3x32xf32>, tensor<1x2x16x16xf32>)
  return
}

// CHECK-LABEL: func.func @causal_conv_with_state
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x1xf32>, %[[W:.+]]: tensor<8x1x4xf32>, %[[B:.+]]: tensor<8xf32>, %[[S:.+]]: tensor<1x8x3xf32>)
func.func @causal_conv_with_state(%x: tensor<1x8x1xf32>, %w: tensor<8x1x4xf32>,
                                  %b: tensor<8xf32>, %s: tensor<1x8x3xf32>) {
  // CHECK: sinter.causal_conv_with_state %[[X]], %[[W]] : (tensor<1x8x1xf32>, tensor<8x1x4xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  // CHECK: sinter.causal_conv_with_state %[[X]], %[[W]] bias %[[B]] {silu} : (tensor<1x8x1xf32>, tensor<8x1x4xf32>, tensor<8xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  // CHECK: sinter.causal_conv_with_state %[[X]], %[[W]] state %[[S]] {silu} : (tensor<1x8x1xf32>, tensor<8x1x4xf32>, tensor<1x8x3xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  // CHECK: sinter.causal_conv_with_state %[[X]], %[[W]] bias %[[B]] state %[[S]] : (tensor<1x8x1xf32>, tensor<8x1x4xf32>, tensor<8xf32>, tensor<1x8x3xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  %0:2 = sinter.causal_conv_with_state %x, %w : (tensor<1x8x1xf32>, tensor<8x1x4xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  %1:2 = sinter.causal_conv_with_state %x, %w bias %b {silu} : (tensor<1x8x1xf32>, tensor<8x1x4xf32>, tensor<8xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  %2:2 = sinter.causal_conv_with_state %x, %w state %s {silu} : (tensor<1x8x1xf32>, tensor<8x1x4xf32>, tensor<1x8x3xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  %3:2 = sinter.causal_conv_with_state %x, %w bias %b state %s : (tensor<1x8x1xf32>, tensor<8x1x4xf32>, tensor<8xf32>, tensor<1x8x3xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
  return
}

// CHECK-LABEL: func.func @gated_linear
// CHECK-SAME: (%[[G:.+]]: tensor<1x4x16xbf16>, %[[U:.+]]: tensor<1x4x16xbf16>, %[[W:.+]]: tensor<64x16xbf16>, %[[B:.+]]: tensor<64xbf16>)
func.func @gated_linear(%g: tensor<1x4x16xbf16>, %u: tensor<1x4x16xbf16>, %w: tensor<64x16xbf16>, %b: tensor<64xbf16>) {
  // CHECK: sinter.gated_linear %[[G]], %[[U]], %[[W]] {activation = #sinter<gated_activation silu>} : (tensor<1x4x16xbf16>, tensor<1x4x16xbf16>, tensor<64x16xbf16>) -> tensor<1x4x64xbf16>
  // CHECK: sinter.gated_linear %[[G]], %[[U]], %[[W]] bias %[[B]] {activation = #sinter<gated_activation gelu_tanh>} : (tensor<1x4x16xbf16>, tensor<1x4x16xbf16>, tensor<64x16xbf16>, tensor<64xbf16>) -> tensor<1x4x64xbf16>
  %0 = sinter.gated_linear %g, %u, %w {activation = #sinter<gated_activation silu>} : (tensor<1x4x16xbf16>, tensor<1x4x16xbf16>, tensor<64x16xbf16>) -> tensor<1x4x64xbf16>
  %1 = sinter.gated_linear %g, %u, %w bias %b {activation = #sinter<gated_activation gelu_tanh>} : (tensor<1x4x16xbf16>, tensor<1x4x16xbf16>, tensor<64x16xbf16>, tensor<64xbf16>) -> tensor<1x4x64xbf16>
  return
}

// The product rounded to the weight's type as it is loaded (gate and up f32).
// CHECK-LABEL: func.func @gated_linear_operand_type
// CHECK: sinter.gated_linear %{{.+}}, %{{.+}}, %{{.+}} {activation = #sinter<gated_activation silu>, operand_type = bf16} : (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<64x16xbf16>) -> tensor<1x4x64xbf16>
func.func @gated_linear_operand_type(%g: tensor<1x4x16xf32>, %u: tensor<1x4x16xf32>, %w: tensor<64x16xbf16>) {
  %0 = sinter.gated_linear %g, %u, %w {activation = #sinter<gated_activation silu>, operand_type = bf16} : (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<64x16xbf16>) -> tensor<1x4x64xbf16>
  return
}
