//===- Passes.td - graph and fuse phase passes ---------------*- tablegen -*-===//

#ifndef SINTER_GRAPH_PASSES
#define SINTER_GRAPH_PASSES

include "mlir/Pass/PassBase.td"

def RecognizeActivationsPass : Pass<"sinter-recognize-activations"> {
  let summary = "Recognizes activations written out as their decomposition";
  let description = [{
    Exporters often spell activations out: `x * sigmoid(x)` for SiLU,
    `log(1 + exp(x))` for softplus. Later passes (the gated-activation
    fusion into a GEMM's operand load, kernel formation) match the compound
    op, so this pass folds the decompositions into `sinter.silu` and
    `sinter.softplus`. Only exact forms are matched: `sigmoid(x) * x` too,
    but never `x * sigmoid(y)` with a different `y`.

    Example:
    ```mlir
    %s = sinter.sigmoid %x : tensor<4xf32>
    %y = sinter.mul %x, %s : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    // becomes
    %y = sinter.silu %x : tensor<4xf32>
    ```
  }];
  let dependentDialects = ["::sinter::SinterDialect"];
}

def FormLinearsPass : Pass<"sinter-form-linears"> {
  let summary = "Turns constant-weight matmuls into sinter.linear";
  let description = [{
    `sinter.matmul %x, %W` with a constant 2-D float `W` ([in, out], the
    MatMul export) becomes `sinter.linear %x, W^T`, and a linear whose
    weight is a `sinter.transpose` of a constant (Gemm with transB = 0)
    gets the transposed weight directly, so that the fuse passes and the
    kernels see every projection as a linear over an [out, in] weight. For
    inline constants the transpose is folded at compile time; for resource
    (external-data) constants, whose bytes are not read while compiling, it
    is a one-source `sinter.pack_weights` plan (see docs/passes.md).

    Example:
    ```mlir
    %w = arith.constant dense<...> : tensor<64x128xf32>
    %y = sinter.matmul %x, %w : (tensor<4x64xf32>, tensor<64x128xf32>) -> tensor<4x128xf32>
    // becomes
    %wt = arith.constant dense<...> : tensor<128x64xf32>
    %y = sinter.linear %x, %wt : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
    ```
  }];
  let dependentDialects = ["::sinter::SinterDialect",
                           "::mlir::arith::ArithDialect"];
}

def FuseParallelLinearsPass : Pass<"sinter-fuse-parallel-linears"> {
  let summary = "Fuses linears reading one activation into one linear and a split";
  let description = [{
    Linears whose inputs reach the same value through `sinter.cast` and
    reshapes (`tensor.reshape`, `expand_shape`, `collapse_shape`), in one
    block, form a group (Q/K/V; GatedDeltaNet's qkv/z/b/a; gate/up). The
    linears of a group that read one value become one `sinter.linear` over
    their weights concatenated along the output dimension, in program
    order, then a `sinter.split` of its last axis whose results replace
    them. Widths may differ; a piece without bias gets zeros in the fused
    bias. Inline weights are concatenated at compile time (the source
    constants disappear once unused); when any weight is a resource
    (external data) the fused weight is a `sinter.pack_weights` plan over
    the source constants, applied at load time.

    Every piece is checked before anything is rewritten. A piece is
    refused, with a remark naming the reason, when its weight is not a
    constant, when its input differs in dtype or K (or reaches the
    activation through other casts) from the others', or when its bias is
    computed after the first piece from values not available there (a
    later bias of side-effect-free ops, like Gemm's beta * C, is moved up).
    Pieces reading different reshapes of one activation (same K) fuse: the
    fused linear reads the first piece's input and the other slices are
    reshaped back. What remains of a group
    is fused whole or not at all. Each fusion is a remark
    `sinter-fuse-parallel-linears: fused: <n> linears of widths [...] (N,
    K, dtype, biases); <bytes> weight bytes moved at compile time | by a
    weight-pack plan at load time`.

    Example:
    ```mlir
    %q = sinter.linear %x, %wq : (tensor<4x64xf32>, tensor<64x64xf32>) -> tensor<4x64xf32>
    %k = sinter.linear %x, %wk bias %bk : (tensor<4x64xf32>, tensor<16x64xf32>, tensor<16xf32>) -> tensor<4x16xf32>
    // becomes
    %y = sinter.linear %x, %wqk bias %bqk : (tensor<4x64xf32>, tensor<80x64xf32>, tensor<80xf32>) -> tensor<4x80xf32>
    %q, %k = sinter.split %y {axis = 1 : i64, sizes = array<i64: 64, 16>} : (tensor<4x80xf32>) -> (tensor<4x64xf32>, tensor<4x16xf32>)
    ```
  }];
  let dependentDialects = ["::sinter::SinterDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FuseGatedActivationPass : Pass<"sinter-fuse-gated-activation"> {
  let summary = "Folds act(gate) * up into the down projection's operand load";
  let description = [{
    The gated MLP (SwiGLU, GeGLU, ReGLU) computes
    `down(act(gate(x)) * up(x))`. This pass replaces the down `sinter.linear`
    and the multiply with one `sinter.gated_linear` whose lowering forms
    `act(gate) * up` while loading its operand, so the gated product never
    exists as a tensor (SEED rewrite 1). `act` is `sinter.silu` (or
    `x * sigmoid(x)` spelled out), `sinter.gelu` (erf or tanh form) or
    `sinter.relu`; the multiply may take its operands in either order. Gate
    and up must be linears of one input, or two results of one
    `sinter.split` of a linear (what `sinter-fuse-parallel-linears` leaves).

    Every candidate (a multiply with an activation operand) gets a remark
    `sinter-fuse-gated-activation: fused: ...` or `...: refused: <why>`;
    refused are: a broadcasting multiply, an activation or product with other
    users (fusing would compute it twice), gate and up of other origins,
    differing element types.

    Example:
    ```mlir
    %g = sinter.linear %x, %wg : ...
    %u = sinter.linear %x, %wu : ...
    %a = sinter.silu %g : tensor<1x4x16xf32>
    %m = sinter.mul %a, %u : ...
    %y = sinter.linear %m, %wd : ...
    // becomes
    %y = sinter.gated_linear %g, %u, %wd {activation = #sinter<gated_activation silu>} : ...
    ```
  }];
  let dependentDialects = ["::sinter::SinterDialect"];
}

def LowerDepthwiseConv1dPass : Pass<"sinter-lower-depthwise-conv1d"> {
  let summary = "Rewrites depthwise 1-D convs as K shifted slice multiply-adds";
  let description = [{
    A depthwise 1-D convolution (`group == C == M`, stride 1, dilation 1,
    any non-negative padding, with or without bias) becomes K shifted slices
    of the (zero-padded) input, each times one weight column broadcast per
    channel, accumulated with `sinter.add` in f32 (f64 stays f64) and cast
    back to the output type once: f16 and bf16 inputs never accumulate in
    16 bits. Inline constant weights and biases are sliced, converted and
    reshaped at compile time. The stateful decode form (a state tensor
    concatenated in front of the new input, the conv over the concat with
    zero pads, the concat's last K-1 columns sliced out as the new state) is
    the same conv and lowers the same way; the state slice is untouched.
    `sinter.causal_conv_with_state` is rewritten into the same form: the
    past state (or zeros) concatenated in front of the input, K slices,
    `present_state` the concat's last K-1 columns, the optional SiLU applied
    after rounding to the input type.

    Every other conv (2-D/3-D, group != C, M != C, strides or dilations
    other than 1, dynamic shapes, K above `max-kernel-size`) is left alone
    with a remark `sinter-lower-depthwise-conv1d: refused: <reason>`.

    Example (K = 2, causal pads [1, 0], non-constant weight):
    ```mlir
    %y = sinter.conv %x, %w {dilations = array<i64: 1>, group = 8 : i64, pads = array<i64: 1, 0>, strides = array<i64: 1>} : (tensor<1x8x16xbf16>, tensor<8x1x2xbf16>) -> tensor<1x8x16xbf16>
    // becomes
    %xf = sinter.cast %x : (tensor<1x8x16xbf16>) -> tensor<1x8x16xf32>
    %xp = sinter.pad %xf, %zero {mode = #sinter<pad_mode constant>, pads = array<i64: 0, 0, 1, 0, 0, 0>} : (tensor<1x8x16xf32>, tensor<f32>) -> tensor<1x8x17xf32>
    %s0 = tensor.extract_slice %xp[0, 0, 0] [1, 8, 16] [1, 1, 1] : tensor<1x8x17xf32> to tensor<1x8x16xf32>
    %w0 = tensor.extract_slice %w[0, 0, 0] [8, 1, 1] [1, 1, 1] : tensor<8x1x2xbf16> to tensor<8x1xbf16>
    %w0f = sinter.cast %w0 : (tensor<8x1xbf16>) -> tensor<8x1xf32>
    %p0 = sinter.mul %s0, %w0f : (tensor<1x8x16xf32>, tensor<8x1xf32>) -> tensor<1x8x16xf32>
    // ... the same for k = 1 (offset 1), then
    %acc = sinter.add %p0, %p1 : (tensor<1x8x16xf32>, tensor<1x8x16xf32>) -> tensor<1x8x16xf32>
    %y = sinter.cast %acc : (tensor<1x8x16xf32>) -> tensor<1x8x16xbf16>
    ```
  }];
  let options = [
    Option<"maxKernelSize", "max-kernel-size", "int64_t", /*default=*/"16",
           "Largest kernel size K rewritten (the rewrite emits 2K ops)">,
  ];
  let dependentDialects = ["::sinter::SinterDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // SINTER_GRAPH_PASSES
