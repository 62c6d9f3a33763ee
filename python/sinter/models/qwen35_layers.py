"""One Qwen3.5-MoE layer of each kind, at the small validation dims, as ONNX.

The seed rewrites (docs/passes.md, ../shared/design/SEED.md) are checked on
these graphs: each is spelled the way torch.onnx exports the Hugging Face
`Qwen3_5Moe` modules, so the fuse passes see what they will see in a real
export. Dims from SEED.md's small configuration: hidden 64, attention 4
query / 2 KV heads of dim 16, GatedDeltaNet 4 key / 4 value heads of dim 16,
shared-expert intermediate 16; batch 1, sequence 8 (prefill).

  attention   x -> RMSNorm (Gemma style, written out, f32) ->
              q_proj (64 -> 4*16*2, query and output gate interleaved per
              head: Reshape [1,S,4,32] + Split), k_proj, v_proj (64 -> 2*16,
              GQA widths); per-head RMSNorm of q and k; K and V repeated to 4
              heads (Unsqueeze + Expand + Reshape, as repeat_kv exports);
              softmax(q k^T / 4 + causal mask) v (softmax in f32); times
              Sigmoid(gate); o_proj; residual add.
  gdn_input   x -> RMSNorm -> in_proj_qkv (64 -> 192), in_proj_z (64 -> 64),
              in_proj_b, in_proj_a (64 -> 4): four linears of one input;
              depthwise causal conv1d over the 192 qkv channels (kernel 4)
              as Conv(group=192) (in bf16 between Casts to and from f32:
              opset 18's Conv has no bf16), then SiLU written out as
              x*Sigmoid(x);
              beta = Sigmoid(b); g = -exp(A_log) * softplus(a + dt_bias)
              (Softplus written out as Log(1 + Exp)). Outputs: the conv'd
              qkv [1,S,192], z [1,S,64], beta [1,S,4], g [1,S,4].
              The conv comes in two spellings (`conv_form`):
                "prefill" (default): stateless, causal pads [3, 0];
                "decode": the conv state [1,192,3] is a graph input,
                concatenated in front of the step's input and convolved
                without pads (how an exporter writes the decode step, with
                S=1 there).
  shared_mlp  x -> RMSNorm -> gate_proj, up_proj (64 -> 16 each) and
              shared_expert_gate (64 -> 1): three linears of one input;
              silu(gate) * up (SiLU written out); down_proj (16 -> 64);
              times Sigmoid(shared_expert_gate); residual add.

Projections are MatMul against [in, out] initializers, as torch.onnx writes
nn.Linear without bias. Opset 18, IR version 8, static shapes, weights
inline from a fixed seed. `dtype` is "float32" or "bfloat16": in bf16 every
initializer, input and output is bf16, while RMSNorm and softmax run in f32
between Casts, as the Hugging Face modules do.

  .venv/bin/python -m sinter.models.qwen35_layers -o DIR   (from python/)
writes DIR/{attention,gdn_input,shared_mlp}_{f32,bf16}.onnx.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18
IR_VERSION = 8
BATCH, SEQ, HIDDEN = 1, 8, 64
ATTN_HEADS, KV_HEADS, HEAD_DIM = 4, 2, 16
GDN_K_HEADS, GDN_V_HEADS, GDN_HEAD_DIM = 4, 4, 16
CONV_KERNEL = 4
INTERMEDIATE = 16
EPS = 1e-6
SEED = 20260323

DTYPES = {"float32": TensorProto.FLOAT, "bfloat16": TensorProto.BFLOAT16}
SHORT = {"float32": "f32", "bfloat16": "bf16"}


def _np_dtype(dtype):
    if dtype == "bfloat16":
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(np.float32)


class Graph:
    """Collects nodes and initializers; names nodes the way exporters do."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.elem = DTYPES[dtype]
        self.nodes, self.inits, self.count = [], [], {}
        self.const("two_f32", np.array(2.0, np.float32))
        self.const("one_f32", np.array(1.0, np.float32))
        self.const("eps_f32", np.array(EPS, np.float32))
        self.const("last_axis", np.array([-1], np.int64))

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, name, array):
        """An initializer in the model's dtype."""
        return self.const(name, np.asarray(array, np.float32).astype(_np_dtype(self.dtype)))

    def op(self, op_type, inputs, scope, out=None, n_out=1, **attrs):
        n = self.count.get((scope, op_type), 0)
        self.count[(scope, op_type)] = n + 1
        name = f"/{scope}/{op_type}" + (f"_{n}" if n else "")
        if n_out == 1:
            outs = [out or name + "_output_0"]
        else:
            outs = [f"{name}_output_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=name, **attrs))
        return outs[0] if n_out == 1 else outs

    def to_f32(self, x, scope):
        if self.dtype == "float32":
            return x
        return self.op("Cast", [x], scope, to=TensorProto.FLOAT)

    def from_f32(self, x, scope, out=None):
        if self.dtype == "float32":
            return self.op("Identity", [x], scope, out=out) if out else x
        return self.op("Cast", [x], scope, out=out, to=self.elem)

    def linear(self, x, name, w_in_out, scope):
        """x @ W with W [in, out], as torch.onnx exports nn.Linear(bias=False)."""
        self.weight(f"{name}.weight", w_in_out)
        return self.op("MatMul", [x, f"{name}.weight"], scope)

    def silu(self, x, scope):
        return self.op("Mul", [x, self.op("Sigmoid", [x], scope)], scope)


def rms_norm(g, x, weight, scope):
    """Gemma-style RMSNorm in f32: x * 1/sqrt(mean(x^2) + eps) * (1 + w)."""
    x32 = g.to_f32(x, scope)
    sq = g.op("Pow", [x32, "two_f32"], scope)
    var = g.op("ReduceMean", [sq, "last_axis"], scope, keepdims=1)
    var = g.op("Add", [var, "eps_f32"], scope)
    rstd = g.op("Div", ["one_f32", g.op("Sqrt", [var], scope)], scope)
    g.const(f"{scope}.weight", np.asarray(weight, np.float32))
    scale = g.op("Add", ["one_f32", f"{scope}.weight"], scope)
    y = g.op("Mul", [g.op("Mul", [x32, rstd], scope), scale], scope)
    return g.from_f32(y, scope)


def _rng_weights(seed):
    rng = np.random.default_rng(seed)

    def w(n_in, n_out):
        return rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)

    def norm_w(n):
        return 0.1 * rng.standard_normal(n)

    return rng, w, norm_w


def _finish(g, name, inputs, outputs):
    graph = helper.make_graph(
        g.nodes, name,
        [helper.make_tensor_value_info(n, e, s) for n, e, s in inputs],
        [helper.make_tensor_value_info(n, e, s) for n, e, s in outputs],
        initializer=g.inits)
    model = helper.make_model(graph, producer_name="sinter qwen35_layers.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def build_attention(dtype="float32", seq=SEQ):
    """The full-attention block (one of every 4 layers)."""
    g = Graph(dtype)
    _, w, norm_w = _rng_weights(SEED + 1)
    H, KV, D = ATTN_HEADS, KV_HEADS, HEAD_DIM
    g.const("q_heads_shape", np.array([BATCH, seq, H, 2 * D], np.int64))
    g.const("kv_heads_shape", np.array([BATCH, seq, KV, D], np.int64))
    g.const("rep_shape", np.array([BATCH, KV, H // KV, seq, D], np.int64))
    g.const("heads_shape", np.array([BATCH, H, seq, D], np.int64))
    g.const("attn_shape", np.array([BATCH, seq, H * D], np.int64))
    g.const("split_halves", np.array([D, D], np.int64))
    g.const("axis_2", np.array([2], np.int64))
    g.const("scale", np.array(1.0 / np.sqrt(D), np.float32))
    g.const("neg_inf", np.array(-np.inf, np.float32))
    g.const("causal_mask", np.tril(np.ones((seq, seq), bool)).reshape(1, 1, seq, seq))

    h = rms_norm(g, "x", norm_w(HIDDEN), "input_layernorm")
    s = "self_attn"
    qg = g.linear(h, "self_attn.q_proj", w(HIDDEN, H * D * 2), s)
    k = g.linear(h, "self_attn.k_proj", w(HIDDEN, KV * D), s)
    v = g.linear(h, "self_attn.v_proj", w(HIDDEN, KV * D), s)
    # Query and gate interleaved per head: view [B, S, H, 2D], chunk in two.
    qg = g.op("Reshape", [qg, "q_heads_shape"], s)
    q, gate = g.op("Split", [qg, "split_halves"], s, n_out=2, axis=-1)
    gate = g.op("Reshape", [gate, "attn_shape"], s)
    k = g.op("Reshape", [k, "kv_heads_shape"], s)
    v = g.op("Reshape", [v, "kv_heads_shape"], s)
    q = rms_norm(g, q, norm_w(D), "self_attn/q_norm")
    k = rms_norm(g, k, norm_w(D), "self_attn/k_norm")
    q = g.op("Transpose", [q], s, perm=[0, 2, 1, 3])
    k = g.op("Transpose", [k], s, perm=[0, 2, 1, 3])
    v = g.op("Transpose", [v], s, perm=[0, 2, 1, 3])

    def repeat_kv(t):
        t = g.op("Unsqueeze", [t, "axis_2"], s)
        t = g.op("Expand", [t, "rep_shape"], s)
        return g.op("Reshape", [t, "heads_shape"], s)

    k, v = repeat_kv(k), repeat_kv(v)
    kt = g.op("Transpose", [k], s, perm=[0, 1, 3, 2])
    scores = g.to_f32(g.op("MatMul", [q, kt], s), s)
    scores = g.op("Mul", [scores, "scale"], s)
    scores = g.op("Where", ["causal_mask", scores, "neg_inf"], s)
    probs = g.from_f32(g.op("Softmax", [scores], s, axis=-1), s)
    a = g.op("Transpose", [g.op("MatMul", [probs, v], s)], s, perm=[0, 2, 1, 3])
    a = g.op("Reshape", [a, "attn_shape"], s)
    a = g.op("Mul", [a, g.op("Sigmoid", [gate], s)], s)
    a = g.linear(a, "self_attn.o_proj", w(H * D, HIDDEN), s)
    g.op("Add", ["x", a], "residual", out="y")

    shape = [BATCH, seq, HIDDEN]
    return _finish(g, "qwen35_attention", [("x", g.elem, shape)], [("y", g.elem, shape)])


def build_gdn_input(dtype="float32", seq=SEQ, conv_form="prefill"):
    """The GatedDeltaNet input block: four projections of one input, the
    depthwise causal conv1d and SiLU (the recurrence itself is not here)."""
    if conv_form not in ("prefill", "decode"):
        raise ValueError(f"conv_form: prefill or decode, not {conv_form!r}")
    g = Graph(dtype)
    rng, w, norm_w = _rng_weights(SEED + 2)
    key_dim = GDN_K_HEADS * GDN_HEAD_DIM
    value_dim = GDN_V_HEADS * GDN_HEAD_DIM
    conv_dim = 2 * key_dim + value_dim
    K = CONV_KERNEL
    g.weight("linear_attn.A_log", np.log(rng.uniform(1, 16, GDN_V_HEADS)))
    g.weight("linear_attn.dt_bias", np.ones(GDN_V_HEADS) + 0.1 * rng.standard_normal(GDN_V_HEADS))
    g.weight("one", np.array(1.0))

    h = rms_norm(g, "x", norm_w(HIDDEN), "input_layernorm")
    s = "linear_attn"
    qkv = g.linear(h, "linear_attn.in_proj_qkv", w(HIDDEN, conv_dim), s)
    z = g.linear(h, "linear_attn.in_proj_z", w(HIDDEN, value_dim), s)
    b = g.linear(h, "linear_attn.in_proj_b", w(HIDDEN, GDN_V_HEADS), s)
    a = g.linear(h, "linear_attn.in_proj_a", w(HIDDEN, GDN_V_HEADS), s)

    # Depthwise causal conv1d over the channels: [B, S, C] -> [B, C, S].
    # Opset 18's Conv has no bf16: in bf16 the conv runs in f32 between
    # Casts (the weight is an f32 initializer holding the bf16 values).
    conv_w = rng.standard_normal((conv_dim, 1, K)) / np.sqrt(K)
    conv_w = conv_w.astype(np.float32).astype(_np_dtype(dtype)).astype(np.float32)
    if dtype == "float32":
        g.weight("linear_attn.conv1d.weight", conv_w)
    else:
        g.const("linear_attn.conv1d.weight", conv_w)
    xc = g.op("Transpose", [qkv], s, perm=[0, 2, 1])
    if conv_form == "prefill":
        pads = [K - 1, 0]
    else:
        xc = g.op("Concat", ["conv_state", xc], s, axis=2)
        pads = [0, 0]
    xc = g.from_f32(g.op("Conv", [g.to_f32(xc, s), "linear_attn.conv1d.weight"], s,
                         group=conv_dim, kernel_shape=[K], pads=pads, strides=[1],
                         dilations=[1]), s)
    xc = g.silu(xc, s)
    g.op("Transpose", [xc], s, out="mixed_qkv", perm=[0, 2, 1])
    g.op("Identity", [z], s, out="z")
    g.op("Sigmoid", [b], s, out="beta")
    sp = g.op("Add", [a, "linear_attn.dt_bias"], s)
    sp = g.op("Log", [g.op("Add", ["one", g.op("Exp", [sp], s)], s)], s)
    neg_a = g.op("Neg", [g.op("Exp", ["linear_attn.A_log"], s)], s)
    g.op("Mul", [neg_a, sp], s, out="g")

    inputs = [("x", g.elem, [BATCH, seq, HIDDEN])]
    if conv_form == "decode":
        inputs.append(("conv_state", g.elem, [BATCH, conv_dim, K - 1]))
    outputs = [("mixed_qkv", g.elem, [BATCH, seq, conv_dim]),
               ("z", g.elem, [BATCH, seq, value_dim]),
               ("beta", g.elem, [BATCH, seq, GDN_V_HEADS]),
               ("g", g.elem, [BATCH, seq, GDN_V_HEADS])]
    return _finish(g, f"qwen35_gdn_input_{conv_form}", inputs, outputs)


def build_shared_mlp(dtype="float32", seq=SEQ):
    """The shared expert: SwiGLU MLP scaled by sigmoid(shared_expert_gate)."""
    g = Graph(dtype)
    _, w, norm_w = _rng_weights(SEED + 3)
    h = rms_norm(g, "x", norm_w(HIDDEN), "post_attention_layernorm")
    s = "mlp/shared_expert"
    gate = g.linear(h, "mlp.shared_expert.gate_proj", w(HIDDEN, INTERMEDIATE), s)
    up = g.linear(h, "mlp.shared_expert.up_proj", w(HIDDEN, INTERMEDIATE), s)
    act = g.op("Mul", [g.silu(gate, s), up], s)
    down = g.linear(act, "mlp.shared_expert.down_proj", w(INTERMEDIATE, HIDDEN), s)
    eg = g.linear(h, "mlp.shared_expert_gate", w(HIDDEN, 1), "mlp")
    m = g.op("Mul", [g.op("Sigmoid", [eg], "mlp"), down], "mlp")
    g.op("Add", ["x", m], "residual", out="y")
    shape = [BATCH, seq, HIDDEN]
    return _finish(g, "qwen35_shared_mlp", [("x", g.elem, shape)], [("y", g.elem, shape)])


LAYERS = {
    "attention": build_attention,
    "gdn_input": build_gdn_input,
    "shared_mlp": build_shared_mlp,
}


def make_inputs(model, seed=0):
    """Random inputs (standard normal) for every graph input, in its dtype."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for vi in model.graph.input:
        t = vi.type.tensor_type
        shape = [d.dim_value for d in t.shape.dim]
        dt = "bfloat16" if t.elem_type == TensorProto.BFLOAT16 else "float32"
        feeds[vi.name] = rng.standard_normal(shape).astype(np.float32).astype(_np_dtype(dt))
    return feeds


def as_float32(model):
    """The same graph with bf16 initializers, inputs, outputs and Casts
    turned into f32: an ONNX Runtime oracle for a bf16 model (ORT's CPU
    provider has no bf16 kernels). Values are the bf16 values, exactly."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for i, init in enumerate(m.graph.initializer):
        if init.data_type == TensorProto.BFLOAT16:
            arr = numpy_helper.to_array(init).astype(np.float32)
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(arr, init.name))
    for vi in list(m.graph.input) + list(m.graph.output):
        if vi.type.tensor_type.elem_type == TensorProto.BFLOAT16:
            vi.type.tensor_type.elem_type = TensorProto.FLOAT
    for node in m.graph.node:
        for attr in node.attribute:
            if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.BFLOAT16:
                attr.i = TensorProto.FLOAT
    return m


def write_all(folder, seq=SEQ):
    """Writes every layer in both dtypes; returns the paths."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name, build in LAYERS.items():
        for dtype in DTYPES:
            path = os.path.join(folder, f"{name}_{SHORT[dtype]}.onnx")
            onnx.save(build(dtype, seq), path)
            paths.append(path)
    return paths


def main():
    ap = argparse.ArgumentParser(description="Writes one Qwen3.5-MoE layer of each kind as ONNX.")
    ap.add_argument("-o", "--output-dir", default=".")
    ap.add_argument("--seq", type=int, default=SEQ)
    args = ap.parse_args()
    for p in write_all(args.output_dir, args.seq):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
