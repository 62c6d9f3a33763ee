// RUN: sinter-opt %s --split-input-file --sinter-donate-state | FileCheck %s
// The pairs sinter-donate-state refuses, each with its reason in
// sinter.donation_refusals (sinterc --report prints them; a pair forced
// with --donate is an error with the same reason).

// Refused: the past cache is still read after the write (y reads past, not
// present); writing in place would change y.
// CHECK-LABEL: func.func @read_after_update(
// CHECK-NOT:     sinter.donate_to
// CHECK-SAME:    sinter.donation_refusals = ["input 'past_key' -> output 'present_key': the input is still read by 'linalg.generic' at {{.*}} after 'tensor.insert_slice' at {{.*}} overwrites it"]
#i2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @read_after_update(%past: tensor<4x8xf32> {bufferization.writable = false, sinter.name = "past_key"},
                             %x: tensor<1x8xf32> {bufferization.writable = false, sinter.name = "x"})
    -> (tensor<4x8xf32> {sinter.name = "present_key"}, tensor<4x8xf32> {sinter.name = "y"})
    attributes {sinter.entry, sinter.num_inputs = 2 : i64} {
  %present = tensor.insert_slice %x into %past[1, 0] [1, 8] [1, 1] : tensor<1x8xf32> into tensor<4x8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [#i2, #i2], iterator_types = ["parallel", "parallel"]}
      ins(%past : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  return %present, %y : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Refused: the cache grows (a concat), so the shape changes.
// CHECK-LABEL: func.func @shape_change(
// CHECK-NOT:     sinter.donate_to
// CHECK-SAME:    sinter.donation_refusals = ["input 'past_value' -> output 'present_value': the shape changes (tensor<4x8xf32> -> tensor<5x8xf32>)"]
func.func @shape_change(%past: tensor<4x8xf32> {bufferization.writable = false, sinter.name = "past_value"},
                        %x: tensor<1x8xf32> {bufferization.writable = false, sinter.name = "x"})
    -> (tensor<5x8xf32> {sinter.name = "present_value"})
    attributes {sinter.entry, sinter.num_inputs = 2 : i64} {
  %c = tensor.concat dim(0) %past, %x : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<5x8xf32>
  return %c : tensor<5x8xf32>
}

// -----

// Refused: the state comes back in another dtype.
// CHECK-LABEL: func.func @dtype_change(
// CHECK-NOT:     sinter.donate_to
// CHECK-SAME:    sinter.donation_refusals = ["input 'conv_state' -> output 'present.conv_state': the dtype changes (tensor<4x8xf32> -> tensor<4x8xf16>)"]
#j2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @dtype_change(%s: tensor<4x8xf32> {bufferization.writable = false, sinter.name = "conv_state"})
    -> (tensor<4x8xf16> {sinter.name = "present.conv_state"})
    attributes {sinter.entry, sinter.num_inputs = 1 : i64} {
  %e = tensor.empty() : tensor<4x8xf16>
  %t = linalg.generic {indexing_maps = [#j2, #j2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e : tensor<4x8xf16>) {
  ^bb0(%a: f32, %o: f16):
    %h = arith.truncf %a : f32 to f16
    linalg.yield %h : f16
  } -> tensor<4x8xf16>
  return %t : tensor<4x8xf16>
}

// -----

// Refused: the updated state is also another output; the two outputs
// cannot both be the input's buffer.
// CHECK-LABEL: func.func @output_used_twice(
// CHECK-NOT:     sinter.donate_to
// CHECK-SAME:    sinter.donation_refusals = ["input 'past_key' -> output 'present_key': the same value is also another output; two outputs cannot share the input's buffer"]
func.func @output_used_twice(%past: tensor<4x8xf32> {bufferization.writable = false, sinter.name = "past_key"},
                             %x: tensor<1x8xf32> {bufferization.writable = false, sinter.name = "x"})
    -> (tensor<4x8xf32> {sinter.name = "present_key"}, tensor<4x8xf32> {sinter.name = "cache_copy"})
    attributes {sinter.entry, sinter.num_inputs = 2 : i64} {
  %present = tensor.insert_slice %x into %past[1, 0] [1, 8] [1, 1] : tensor<1x8xf32> into tensor<4x8xf32>
  return %present, %present : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Refused: the names pair up, but the output is not the input updated (it
// is a fresh tensor), whatever the names say.
// CHECK-LABEL: func.func @names_only(
// CHECK-NOT:     sinter.donate_to
// CHECK-SAME:    sinter.donation_refusals = ["input 'past_key' -> output 'present_key': the output is not an update of the input: it is computed by 'linalg.generic' at {{.*}}, and no chain of in-place writes {{.*}}"]
#k2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @names_only(%past: tensor<4x8xf32> {bufferization.writable = false, sinter.name = "past_key"},
                      %x: tensor<4x8xf32> {bufferization.writable = false, sinter.name = "x"})
    -> (tensor<4x8xf32> {sinter.name = "present_key"})
    attributes {sinter.entry, sinter.num_inputs = 2 : i64} {
  %e = tensor.empty() : tensor<4x8xf32>
  %t = linalg.generic {indexing_maps = [#k2, #k2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %h = arith.negf %a : f32
    linalg.yield %h : f32
  } -> tensor<4x8xf32>
  return %t : tensor<4x8xf32>
}

// -----

// An elementwise op that also reads the state transposed: writing the
// state in place would clobber elements still to be read. One-shot
// bufferization's analysis refuses it.
// CHECK-LABEL: func.func @transposed_read(
// CHECK-NOT:     sinter.donate_to
// CHECK-SAME:    sinter.donation_refusals = ["input 'h_in' -> output 'h_out': bufferization cannot update it in place {{.*}}"]
#t2 = affine_map<(d0, d1) -> (d0, d1)>
#tt = affine_map<(d0, d1) -> (d1, d0)>
func.func @transposed_read(%h: tensor<4x4xf32> {bufferization.writable = false, sinter.name = "h_in"})
    -> (tensor<4x4xf32> {sinter.name = "h_out"})
    attributes {sinter.entry, sinter.num_inputs = 1 : i64} {
  %e = tensor.empty() : tensor<4x4xf32>
  %t = linalg.generic {indexing_maps = [#t2, #tt, #t2], iterator_types = ["parallel", "parallel"]}
      ins(%h, %h : tensor<4x4xf32>, tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  return %t : tensor<4x4xf32>
}
