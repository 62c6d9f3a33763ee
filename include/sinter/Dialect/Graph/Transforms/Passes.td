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

def RaiseRmsNormPass : Pass<"sinter-raise-rms-norm"> {
  let summary = "Raises written-out RMSNorm to sinter.rms_norm";
  let description = [{
    Exporters without RMSNormalization write
    `x * (1 / sqrt(mean(x^2) + eps)) * w`: Pow (or x * x), ReduceMean with
    keepdims over the trailing axes, Add of a constant epsilon, then Sqrt
    and Div(1, .) or Reciprocal, or Rsqrt, or `x / sqrt(.)`, times x. This
    pass replaces the chain with one `sinter.rms_norm` (one kernel instead
    of a reduction and two elementwise chains; the op the opset-23 export
    imports to). A following multiply by a weight that varies only along
    the normalized axes becomes the scale operand; Gemma's `(1 + w)` is
    such a weight (canonicalization folds it when w is a constant).
    Casts around the chain (f32 compute for bf16 inputs) stay where they
    are: the f32 core is raised, so the numerics are unchanged.

    A mean of squares that does not continue as an RMSNorm is left alone
    with a remark `sinter-raise-rms-norm: refused: <why>` (non-trailing
    axes, keepdims off, epsilon not a constant or negative, the
    reciprocal RMS multiplying another value, intermediates with other
    users); every raising is a remark `sinter-raise-rms-norm: fused: ...`.

    Example:
    ```mlir
    %sq = sinter.pow %x, %two : (tensor<1x4x64xf32>, tensor<f32>) -> tensor<1x4x64xf32>
    %m = sinter.reduce_mean %sq {axes = array<i64: 2>, keepdims} : (tensor<1x4x64xf32>) -> tensor<1x4x1xf32>
    %v = sinter.add %m, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
    %s = sinter.sqrt %v : tensor<1x4x1xf32>
    %r = sinter.div %one, %s : (tensor<f32>, tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
    %n = sinter.mul %x, %r : (tensor<1x4x64xf32>, tensor<1x4x1xf32>) -> tensor<1x4x64xf32>
    %y = sinter.mul %n, %w : (tensor<1x4x64xf32>, tensor<64xf32>) -> tensor<1x4x64xf32>
    // becomes
    %y = sinter.rms_norm %x, %w {axis = 2 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<1x4x64xf32>, tensor<64xf32>) -> tensor<1x4x64xf32>
    ```
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark for every raising and every refused candidate "
           "(off in sinterc's pipeline: the report's fusions are the fuse "
           "phase's)">,
  ];
  let dependentDialects = ["::sinter::SinterDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def RaiseAttentionPass : Pass<"sinter-raise-attention"> {
  let summary = "Raises MatMul/Softmax/MatMul attention to sinter.attention";
  let description = [{
    Exports without the Attention operator write
    `softmax(q @ k^T * scale + mask) @ v`: a MatMul of q with a transposed
    (perm [0, 1, 3, 2]) key, a Mul or Div by a constant, the mask as
    `where(mask, s, -inf)` (bool, true = attend) or `s + mask` (additive),
    a Softmax over the keys, a MatMul with v. GQA's repeat_kv
    (Unsqueeze + Expand + Reshape: [B, kv, L, D] -> [B, kv, 1, L, D] ->
    [B, kv, rep, L, D] -> [B, kv * rep, L, D], head h reading kv head
    h / rep) is looked through, so the op reads the kv heads directly.
    This pass replaces the chain with one `sinter.attention` (no past:
    the cache written by the graph is the key/value operand).

    HF transformers' SDPA as torch.onnx (dynamo, opset 18) writes it is
    raised too: q and k^T each multiplied by sqrt(scale) (splat constants
    on either side of the transpose multiply into `scale`), the keys
    transposed as a 3-D [B * heads, L, D] view with perm [0, 2, 1] (row-major
    reshapes that keep the two trailing dims are looked through, repeat_kv
    included), and `where(isnan(p), 0, p)` after the softmax, which gives
    a fully masked row zeros exactly as sinter.attention does.

    Semantics: identical except a query row whose keys are all masked
    out: the decomposition gives NaN (softmax of all -inf) and
    sinter.attention gives zeros (ONNX Attention's rule). A `where` fill
    of the lowest finite float or below -1e30 counts as -inf.

    Refused, with a remark `sinter-raise-attention: refused: <why>` on the
    final MatMul: softmax not over the last axis, probabilities with other
    users, a NaN guard that fills with anything but 0 or tests another
    tensor, scores not `q @ transpose(k)`, a where fill that is not -inf,
    a mask that does not broadcast to [B, heads, S, L], heads repeated in
    another order than repeat_kv's, shapes that disagree (broadcast batch
    or heads). Every raising is a remark `...: fused: attention (...)`.

    Example:
    ```mlir
    %kt = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x8x16xf32>) -> tensor<1x4x16x8xf32>
    %s = sinter.matmul %q, %kt : (tensor<1x4x1x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32>
    %ss = sinter.mul %s, %c : (tensor<1x4x1x8xf32>, tensor<f32>) -> tensor<1x4x1x8xf32>
    %sm = sinter.where %mask, %ss, %ninf : (tensor<1x1x1x8xi1>, tensor<1x4x1x8xf32>, tensor<f32>) -> tensor<1x4x1x8xf32>
    %p = sinter.softmax %sm {axis = 3 : i64} : tensor<1x4x1x8xf32>
    %o = sinter.matmul %p, %v : (tensor<1x4x1x8xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x1x16xf32>
    // becomes
    %o, %pk, %pv = sinter.attention %q, %k, %v mask %mask {scale = 2.500000e-01 : f32, softcap = 0.000000e+00 : f32} : ...
    ```
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark for every raising and every refused candidate "
           "(off in sinterc's pipeline: the report's fusions are the fuse "
           "phase's)">,
  ];
  let dependentDialects = ["::sinter::SinterDialect",
                           "::mlir::tensor::TensorDialect"];
}

def RaiseLinearAttentionPass : Pass<"sinter-raise-linear-attention"> {
  let summary = "Raises the written-out gated-delta step to sinter.linear_attention";
  let description = [{
    Exports without LinearAttention write one GatedDeltaNet token step on
    the state S [B, H, Dk, Dv] as ordinary ops, k, v, q one token
    [B, H, 1, D], decay and beta per head [B, H, 1, 1]:
    `S1 = S * exp(g)`, `u = (v - k @ S1) * beta`,
    `S2 = S1 + transpose(k) @ u`, `o = (q @ S2) * scale`. That is
    `sinter.linear_attention` with `update_rule = gated_delta` (one head
    group, q_num_heads = kv_num_heads = H), which this pass builds: q, k,
    v, beta reshaped to the packed [B, 1, H * D] form (a transpose of a
    token-major tensor and a token slice are looked through, so the
    transposes die), the decay as the log-space gate g (the views of
    exp(g) are rebuilt on g). The new state replaces S2 and the output
    replaces o. A prefill that unrolls the recurrence is T such steps,
    each raised; then a chain of one-token ops, each reading the previous
    one's state (and nothing else reading it), whose inputs at step t are
    token t of one token-major [B, T, H, D] tensor, merges into one T-token
    op. When the outputs are concatenated along the tokens, scaled by a
    constant and transposed back to token-major (the export's readout),
    the scale goes into the op and the result is a reshape of its output.

    Candidates are adds of a state and an outer product
    `transpose(k) @ u`; refused, with a remark
    `sinter-raise-linear-attention: refused: <why>`: a decay or beta that
    is not per head, an update that is not beta * (v - k S), a delta rule
    reading another key or state, no (or several) q @ S readouts, a decay
    that is not exp of something, differing element types; a chain whose
    inputs are not the tokens of one tensor stays one op per token (remark
    `... chained one-token steps stay separate: <why>`).

    Example:
    ```mlir
    %s1 = sinter.mul %s0, %dec : (tensor<1x4x16x16xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x16x16xf32>
    %m = sinter.matmul %k, %s1 : (tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x1x16xf32>
    %d = sinter.sub %v, %m : ...
    %u = sinter.mul %d, %beta : ...
    %kc = sinter.transpose %k {perm = array<i64: 0, 1, 3, 2>} : ...
    %o2 = sinter.matmul %kc, %u : (tensor<1x4x16x1xf32>, tensor<1x4x1x16xf32>) -> tensor<1x4x16x16xf32>
    %s2 = sinter.add %s1, %o2 : ...
    %o = sinter.matmul %q, %s2 : (tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x1x16xf32>
    // becomes (views elided)
    %o, %s2 = sinter.linear_attention %qp, %kp, %vp state %s0 decay %g beta %b {kv_num_heads = 4 : i64, q_num_heads = 4 : i64, scale = 1.0 : f32, update_rule = #sinter<update_rule gated_delta>} : ...
    ```
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark for every raising and every refused candidate "
           "(off in sinterc's pipeline: the report's fusions are the fuse "
           "phase's)">,
  ];
  let dependentDialects = ["::sinter::SinterDialect",
                           "::mlir::tensor::TensorDialect"];
}

def RaiseMoeRouterPass : Pass<"sinter-raise-moe-router"> {
  let summary = "Raises a mixture-of-experts router to sinter.moe_router";
  let description = [{
    A MoE router picks the k largest router logits of each token and weighs
    the picked experts by a softmax. Two spellings are raised to one
    `sinter.moe_router` (one kernel instead of the topk's rank and pick
    kernels and the softmax's reductions): TopK(largest, last axis) of the
    logits whose values feed only a Softmax over the last axis, and
    Softmax(last axis) -> TopK -> values / ReduceSum(values, last axis,
    keepdims). A widening cast (bf16/f16 -> f32) of the logits is read
    through. Refused, with a remark `sinter-raise-moe-router: refused:
    <why>`: smallest-k, a non-last axis, k > 16, rows over 1024, top-k
    values read by anything else, probabilities not renormalised.

    Example:
    ```mlir
    %l = sinter.cast %x : (tensor<1x256xbf16>) -> tensor<1x256xf32>
    %v, %i = sinter.topk %l {axis = 1 : i64, k = 8 : i64, largest} : (tensor<1x256xf32>) -> (tensor<1x8xf32>, tensor<1x8xi64>)
    %w = sinter.softmax %v {axis = 1 : i64} : tensor<1x8xf32>
    // becomes
    %w, %i = sinter.moe_router %x {k = 8 : i64} : (tensor<1x256xbf16>) -> (tensor<1x8xf32>, tensor<1x8xi64>)
    ```
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark for every raising and every refused candidate "
           "(off in sinterc's pipeline: the report's fusions are the fuse "
           "phase's)">,
  ];
  let dependentDialects = ["::sinter::SinterDialect"];
}

def RaiseRotaryEmbeddingPass : Pass<"sinter-raise-rotary-embedding"> {
  let summary = "Raises split-half RoPE to sinter.rotary_embedding";
  let description = [{
    Exports without RotaryEmbedding write rotate-half RoPE on the first
    rot_dim = 2h features of x [B, H, S, D] as
    `concat(x1 * cos - x2 * sin, x2 * cos + x1 * sin, x[..., 2h:])` along
    the last axis, x1 = x[..., 0:h], x2 = x[..., h:2h] (pieces of one
    Split, or Slices), cos and sin [B, 1, S, h] (Unsqueeze of [B, S, h]).
    That is exactly `sinter.rotary_embedding` (non-interleaved,
    rotary_dim = 2h), which this pass builds. When cos and sin are
    Gathers of [max_pos, h] tables by the same int64 position ids, the op
    takes the tables and the ids (it gathers the rows itself, as the
    opset-23 import does); otherwise the [B, S, h] rows.

    Candidates are concats of the last axis of 4-D tensors whose first
    piece is a Sub, and adds with a rotate_half product; refused, with a remark
    `sinter-raise-rotary-embedding: refused: <why>`: halves not
    products of slices of one tensor, halves of other offsets or widths
    (interleaved pairs, swapped halves), cos/sin differing between the
    halves, a third piece that is not the unrotated tail, cos/sin not
    [B, 1, S, h].

    Hugging Face's spelling is matched too: `x_rot * C +
    concat(-x2, x1) * S` (x_rot = x[..., 0:2h] or x, then concatenated
    with x[..., 2h:]) with full-width C and S whose halves are equal: a
    Concat(c, c) (under Cos/Sin/Cast and the head-axis Unsqueeze), or a
    Gather of a constant table with equal halves (the table's first half
    becomes a new constant). Refused there: halves not provably equal,
    x * cos reading another tensor than rotate_half, a missing tail.

    Example:
    ```mlir
    %x1, %x2, %r = sinter.split %x {axis = 3 : i64, sizes = array<i64: 2, 2, 12>} : ...
    %a = sinter.sub (x1 * cos), (x2 * sin)
    %b = sinter.add (x2 * cos), (x1 * sin)
    %y = tensor.concat dim(3) %a, %b, %r : ...
    // becomes
    %y = sinter.rotary_embedding %x, %cos_table, %sin_table positions %ids {rotary_dim = 4 : i64} : ...
    ```
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark for every raising and every refused candidate "
           "(off in sinterc's pipeline: the report's fusions are the fuse "
           "phase's)">,
  ];
  let dependentDialects = ["::sinter::SinterDialect",
                           "::mlir::tensor::TensorDialect"];
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

def FormExpertLinearsPass : Pass<"sinter-form-expert-linears"> {
  let summary = "Turns matmuls over gathered expert weights into sinter.expert_linear";
  let description = [{
    The mixture-of-experts export computes each expert projection as
    `sinter.matmul %x, (sinter.gather %W, %idx {axis = 0})` with a constant
    `W` [E, K, N] and `idx` [T, J]: the gather copies J whole expert
    matrices per token before the matmul reads them again. This pass
    replaces the pair by `sinter.expert_linear`, which reads the selected
    experts where they lie. The matmul's lhs must be [T, 1, 1, K] (one row
    per token, broadcast over the slots) or [T, J, 1, K] (one row per slot);
    it is collapsed to the op's [T, K] / [T, J, K] and the [T, J, N] result
    expanded back to [T, J, 1, N]. The weight keeps its [E, K, N] layout
    (`weight_kn`): inline, external-data and computed weights alike, with
    no per-expert transpose at compile or load time.

    HF transformers' experts (`batched_mm`, as torch.onnx writes them) are
    `sinter.matmul (sinter.gather_nd %W, %idx), %x` with `W` [E, N, K]
    (already expert_linear's [out, in] layout), `idx` [M, 1] and `x`
    [M, K, 1], M = T * J: the router's [T, J] indices flattened (and
    clipped to [0, E - 1]), the token rows repeated over the J slots. The
    [T, J] indices are recovered through the reshapes (a clip of
    moe_router's indices over E experts is the identity and is dropped;
    any other clip is kept), the up projection reads the unrepeated [T, K]
    rows, the down projection [T, J, K]; indices of unknown origin give
    T = M, J = 1. Every candidate (a matmul whose rhs is a gather, or
    whose lhs is a gather_nd) gets one `fused` or `refused` remark.

    Example:
    ```mlir
    %g = sinter.gather %W, %idx {axis = 0 : i64} : (tensor<8x64x32xf32>, tensor<4x2xi64>) -> tensor<4x2x64x32xf32>
    %y = sinter.matmul %x, %g : (tensor<4x1x1x64xf32>, tensor<4x2x64x32xf32>) -> tensor<4x2x1x32xf32>
    // becomes
    %x2 = tensor.collapse_shape %x [[0, 1, 2], [3]] : tensor<4x1x1x64xf32> into tensor<4x64xf32>
    %e = sinter.expert_linear %x2, %W, %idx {weight_kn} : (tensor<4x64xf32>, tensor<8x64x32xf32>, tensor<4x2xi64>) -> tensor<4x2x32xf32>
    %y = tensor.expand_shape %e [[0], [1], [2, 3]] output_shape [4, 2, 1, 32] : tensor<4x2x32xf32> into tensor<4x2x1x32xf32>
    ```
  }];
  let dependentDialects = ["::sinter::SinterDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
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
