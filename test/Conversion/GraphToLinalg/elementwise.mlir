// RUN: sinter-opt %s -sinter-convert-graph-to-linalg -split-input-file | FileCheck %s

// Broadcasting: the missing leading dim is dropped from the rhs map.
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK-SAME: (%[[A:.+]]: tensor<2x3xf32>, %[[B:.+]]: tensor<3xf32>)
// CHECK: %[[E:.+]] = tensor.empty() : tensor<2x3xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<2x3xf32>, tensor<3xf32>) outs(%[[E]] : tensor<2x3xf32>)
// CHECK: ^bb0(%[[X:.+]]: f32, %[[Y:.+]]: f32, %{{.+}}: f32):
// CHECK: %[[S:.+]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK: linalg.yield %[[S]] : f32
// CHECK: return %[[R]]
func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %r = sinter.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// Size-1 dims that stretch read index 0; bf16 is computed in f32 and
// rounded once.
// CHECK-DAG: #[[$COL:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG: #[[$LINE:.+]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func.func @mul_bf16
// CHECK: linalg.generic {indexing_maps = [#[[$COL]], #[[$LINE]], #{{.+}}]
// CHECK: ^bb0(%[[X:.+]]: bf16, %[[Y:.+]]: bf16, %{{.+}}: bf16):
// CHECK: %[[XF:.+]] = arith.extf %[[X]] : bf16 to f32
// CHECK: %[[YF:.+]] = arith.extf %[[Y]] : bf16 to f32
// CHECK: %[[P:.+]] = arith.mulf %[[XF]], %[[YF]] : f32
// CHECK: %[[T:.+]] = arith.truncf %[[P]] : f32 to bf16
// CHECK: linalg.yield %[[T]] : bf16
func.func @mul_bf16(%a: tensor<4x1xbf16>, %b: tensor<1x5xbf16>) -> tensor<4x5xbf16> {
  %r = sinter.mul %a, %b : (tensor<4x1xbf16>, tensor<1x5xbf16>) -> tensor<4x5xbf16>
  return %r : tensor<4x5xbf16>
}

// -----

// Integer mod takes the divisor's sign: fix a non-zero remainder whose sign
// differs from the divisor's.
// CHECK-LABEL: func.func @mod_i32
// CHECK: ^bb0(%[[X:.+]]: i32, %[[Y:.+]]: i32, %{{.+}}: i32):
// CHECK: %[[R:.+]] = arith.remsi %[[X]], %[[Y]] : i32
// CHECK: %[[FIX:.+]] = arith.andi
// CHECK: %[[ADJ:.+]] = arith.addi %[[R]], %[[Y]] : i32
// CHECK: %[[OUT:.+]] = arith.select %[[FIX]], %[[ADJ]], %[[R]] : i32
// CHECK: linalg.yield %[[OUT]]
func.func @mod_i32(%a: tensor<4xi32>, %b: tensor<4xi32>) -> tensor<4xi32> {
  %r = sinter.mod %a, %b : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return %r : tensor<4xi32>
}

// CHECK-LABEL: func.func @fmod_f32
// CHECK: arith.remf
// CHECK-NOT: arith.select
// CHECK: linalg.yield
func.func @fmod_f32(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %r = sinter.mod %a, %b {fmod} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// max propagates NaN; comparisons on i1 are unsigned.
// CHECK-LABEL: func.func @max_f32
// CHECK: arith.maximumf
func.func @max_f32(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %r = sinter.max %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// CHECK-LABEL: func.func @less_i1
// CHECK: arith.cmpi ult
func.func @less_i1(%a: tensor<4xi1>, %b: tensor<4xi1>) -> tensor<4xi1> {
  %r = sinter.less %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return %r : tensor<4xi1>
}

// -----

// where needs no compute type; the rank-0 operand maps to ().
// CHECK-DAG: #[[$SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @where_bf16
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}, #[[$SCALAR]], #{{.+}}]
// CHECK: ^bb0(%[[C:.+]]: i1, %[[X:.+]]: bf16, %[[Y:.+]]: bf16, %{{.+}}: bf16):
// CHECK-NEXT: %[[S:.+]] = arith.select %[[C]], %[[X]], %[[Y]] : bf16
// CHECK-NEXT: linalg.yield %[[S]]
func.func @where_bf16(%c: tensor<3xi1>, %a: tensor<2x3xbf16>, %b: tensor<bf16>) -> tensor<2x3xbf16> {
  %r = sinter.where %c, %a, %b : (tensor<3xi1>, tensor<2x3xbf16>, tensor<bf16>) -> tensor<2x3xbf16>
  return %r : tensor<2x3xbf16>
}

// -----

// Round is half to even, not math.round (half away from zero).
// CHECK-LABEL: func.func @round_f16
// CHECK: arith.extf %{{.+}} : f16 to f32
// CHECK: math.roundeven %{{.+}} : f32
// CHECK: arith.truncf %{{.+}} : f32 to f16
func.func @round_f16(%x: tensor<4xf16>) -> tensor<4xf16> {
  %r = sinter.round %x : tensor<4xf16>
  return %r : tensor<4xf16>
}

// CHECK-LABEL: func.func @gelu_erf
// CHECK: math.erf
func.func @gelu_erf(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = sinter.gelu %x : tensor<4xf32>
  return %r : tensor<4xf32>
}

// CHECK-LABEL: func.func @gelu_tanh
// CHECK: math.tanh
func.func @gelu_tanh(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = sinter.gelu %x {tanh_approximation} : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Casts: to i1 tests != 0 (NaN is true), float to int truncates, f16 to bf16
// goes through f32.
// CHECK-LABEL: func.func @cast_to_i1
// CHECK: arith.cmpf une
func.func @cast_to_i1(%a: tensor<4xf32>) -> tensor<4xi1> {
  %r = sinter.cast %a : (tensor<4xf32>) -> tensor<4xi1>
  return %r : tensor<4xi1>
}

// CHECK-LABEL: func.func @cast_bf16_to_i32
// CHECK: %[[F:.+]] = arith.extf %{{.+}} : bf16 to f32
// CHECK: arith.fptosi %[[F]] : f32 to i32
func.func @cast_bf16_to_i32(%a: tensor<4xbf16>) -> tensor<4xi32> {
  %r = sinter.cast %a : (tensor<4xbf16>) -> tensor<4xi32>
  return %r : tensor<4xi32>
}

// CHECK-LABEL: func.func @cast_f16_to_bf16
// CHECK: %[[F:.+]] = arith.extf %{{.+}} : f16 to f32
// CHECK: arith.truncf %[[F]] : f32 to bf16
func.func @cast_f16_to_bf16(%a: tensor<4xf16>) -> tensor<4xbf16> {
  %r = sinter.cast %a : (tensor<4xf16>) -> tensor<4xbf16>
  return %r : tensor<4xbf16>
}

// CHECK-LABEL: func.func @cast_i1_to_i32
// CHECK: arith.extui %{{.+}} : i1 to i32
func.func @cast_i1_to_i32(%a: tensor<4xi1>) -> tensor<4xi32> {
  %r = sinter.cast %a : (tensor<4xi1>) -> tensor<4xi32>
  return %r : tensor<4xi32>
}

// -----

// clip with only an upper bound.
// CHECK-LABEL: func.func @clip_max
// CHECK: ^bb0(%[[X:.+]]: f32, %[[HI:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[R:.+]] = arith.minimumf %[[X]], %[[HI]] : f32
// CHECK-NEXT: linalg.yield %[[R]]
func.func @clip_max(%x: tensor<4xf32>, %hi: tensor<f32>) -> tensor<4xf32> {
  %r = sinter.clip %x max %hi : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
