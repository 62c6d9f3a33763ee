"""ONNX exporter for the Qwen3.5-MoE decode step (weights embedded).

  build_decode(cfg, form)   form "opset27": Attention, RotaryEmbedding,
                            RMSNormalization, TensorScatter, LinearAttention
                            (gated_delta), CausalConvWithState;
                            form "decomposed": opset 18 only (MatMul/Softmax
                            attention, ScatterND cache write, the GDN
                            recurrence as MatMul/Mul/Add for one token,
                            Concat + Conv + Slice for the conv).

Both forms: MoE as TopK + Softmax + Gather of stacked expert weights +
batched MatMul (topk="argmax": TopK as ArgMax rounds); linears as MatMul
against [in, out] initializers. Weights given as Ext are external data
(build_external; bench_weights.py); bf16 ones multiply bf16 activations
between two Casts.

Decode graph signature (static shapes, batch 1, one token):
  inputs   input_ids int64 [1, 1], position_ids int64 [1, 1], then every
           state of reference.init_state(cfg) (same names, f32):
           conv_state.i [1, conv_dim, K-1], recurrent_state.i [1, Hv, Dk, Dv]
           (GDN layers), past_key.i / past_value.i [1, KV, max_len, D]
           (attention layers: a static cache written at position_ids).
  outputs  logits [1, 1, vocab], then present.<state name> for each state.

  .venv/bin/python -m sinter.models.qwen35.export --config nano -o DIR
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from . import reference
from .configs import CONFIGS, Config

FORMS = {"opset27": 27, "decomposed": 18}
F32 = TensorProto.FLOAT
BF16 = TensorProto.BFLOAT16


class Ext:
    """A weight written as ONNX external data (build_external places it in
    the file): shape and element type only; the exporter never holds the
    values (bench8's weights are GBs). `fan_in` scales the deterministic values that
    bench_weights.fill writes later; `.T` / `.transpose` give the layout
    the graph stores (the file holds that layout)."""

    def __init__(self, shape, dtype=BF16, fan_in=1):
        self.shape, self.dtype, self.fan_in = tuple(shape), dtype, fan_in

    @property
    def T(self):
        return Ext(self.shape[::-1], self.dtype, self.fan_in)

    def transpose(self, *perm):
        return Ext([self.shape[i] for i in perm], self.dtype, self.fan_in)


def _stored(w, perm=None):
    """The array (or Ext) the graph stores for a weight, transposed by perm."""
    if isinstance(w, Ext):
        return w.T if perm is None else w.transpose(*perm)
    return np.ascontiguousarray(w.T if perm is None else w.transpose(*perm))


class _G:
    def __init__(self, form, seq=1):
        self.form, self.T = form, seq
        self.nodes, self.inits, self.count, self.names = [], [], {}, set()
        self.external = []     # (name, Ext) in the order the weights file holds them
        self.low = {}          # name of a bf16 weight -> its Ext

    def const(self, name, array):
        if name not in self.names:
            self.names.add(name)
            if isinstance(array, Ext):
                self.external.append((name, array))
                if array.dtype != F32:
                    self.low[name] = array
                t = TensorProto(name=name, data_type=array.dtype, dims=array.shape)
                self.inits.append(t)
            else:
                self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def matmul(self, x, wname, scope):
        """x (f32) @ weight; a bf16 weight multiplies bf16 activations and the
        product comes back as f32 (norms, softmax, recurrence stay f32)."""
        if wname not in self.low:
            return self.op("MatMul", [x, wname], scope)
        x = self.op("Cast", [x], scope, to=self.low[wname].dtype)
        return self.op("Cast", [self.op("MatMul", [x, wname], scope)], scope, to=F32)

    def i64(self, name, values):
        return self.const(name, np.array(values, np.int64))

    def f32(self, name, value):
        return self.const(name, np.array(value, np.float32))

    def op(self, op_type, inputs, scope, out=None, n_out=1, **attrs):
        n = self.count.get((scope, op_type), 0)
        self.count[(scope, op_type)] = n + 1
        name = f"/{scope}/{op_type}" + (f"_{n}" if n else "")
        outs = [out or name + "_output_0"] if n_out == 1 else [
            f"{name}_output_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=name, **attrs))
        return outs[0] if n_out == 1 else outs

    def linear(self, x, wname, w_out_in, scope):
        self.const(wname, _stored(w_out_in))
        return self.matmul(x, wname, scope)

    def reshape(self, x, shape, scope):
        key = "shape_" + "_".join(map(str, shape)).replace("-", "m")
        return self.op("Reshape", [x, self.i64(key, shape)], scope)

    def silu(self, x, scope):
        return self.op("Mul", [x, self.op("Sigmoid", [x], scope)], scope)


def _rms_norm(g, x, scale, eps, scope, gemma=True):
    """RMSNorm over the last axis; Gemma style multiplies by (1 + w)."""
    s = (1.0 + scale if gemma else scale).astype(np.float32)
    if g.form == "opset27":
        g.const(scope + ".scale", s)
        return g.op("RMSNormalization", [x, scope + ".scale"], scope, axis=-1, epsilon=eps)
    g.const(scope + ".weight", scale.astype(np.float32))
    sq = g.op("Pow", [x, g.f32("two", 2.0)], scope)
    var = g.op("ReduceMean", [sq, g.i64("axes_m1", [-1])], scope, keepdims=1)
    std = g.op("Sqrt", [g.op("Add", [var, g.f32("eps", eps)], scope)], scope)
    rstd = g.op("Div", [g.f32("one", 1.0), std], scope)
    w = g.op("Add", [g.f32("one", 1.0), scope + ".weight"], scope) if gemma else scope + ".weight"
    return g.op("Mul", [g.op("Mul", [x, rstd], scope), w], scope)


def _attention(g, cfg, w, i, x):
    s = f"layers.{i}/self_attn"
    p = f"layers.{i}.self_attn."
    Hq, KV, D, L, T = cfg.attn_heads, cfg.kv_heads, cfg.head_dim, cfg.max_len, g.T
    qg = g.linear(x, p + "q_proj.weight", w[p + "q_proj.weight"], s)
    k = g.linear(x, p + "k_proj.weight", w[p + "k_proj.weight"], s)
    v = g.linear(x, p + "v_proj.weight", w[p + "v_proj.weight"], s)
    qg = g.reshape(qg, [1, T, Hq, 2 * D], s)
    q, gate = g.op("Split", [qg, g.i64("split_hd", [D, D])], s, n_out=2, axis=-1)
    gate = g.reshape(gate, [1, T, Hq * D], s)
    k = g.reshape(k, [1, T, KV, D], s)
    v = g.reshape(v, [1, T, KV, D], s)
    q = _rms_norm(g, q, w[p + "q_norm.weight"], cfg.eps, f"layers.{i}/self_attn/q_norm")
    k = _rms_norm(g, k, w[p + "k_norm.weight"], cfg.eps, f"layers.{i}/self_attn/k_norm")
    q = g.op("Transpose", [q], s, perm=[0, 2, 1, 3])   # [1, H, 1, D]
    k = g.op("Transpose", [k], s, perm=[0, 2, 1, 3])
    v = g.op("Transpose", [v], s, perm=[0, 2, 1, 3])
    r = cfg.rot_dim
    past_k, past_v = f"past_key.{i}", f"past_value.{i}"
    pres_k, pres_v = "present." + past_k, "present." + past_v
    # mask [1, 1, T, L]: query t sees key j iff j <= position_ids[t]
    mask4 = "attn_mask"
    if mask4 not in g.names:
        g.names.add(mask4)
        pcol = g.op("Reshape", ["position_ids", g.i64("shape_pos_col", [T, 1])], "mask")
        m = g.op("LessOrEqual", [g.i64("arange_L", np.arange(L)), pcol], "mask")
        g.op("Reshape", [m, g.i64("shape_mask", [1, 1, T, L])], "mask", out=mask4)
    if g.form == "opset27":
        q = g.op("RotaryEmbedding", [q, "rope.cos", "rope.sin", "position_ids"], s,
                 rotary_embedding_dim=r)
        k = g.op("RotaryEmbedding", [k, "rope.cos", "rope.sin", "position_ids"], s,
                 rotary_embedding_dim=r)
        widx = g.op("Gather", ["position_ids", g.i64("zero", 0)], s, axis=1)   # [1]
        g.op("TensorScatter", [past_k, k, widx], s, out=pres_k, axis=2)
        g.op("TensorScatter", [past_v, v, widx], s, out=pres_v, axis=2)
        o = g.op("Attention", [q, pres_k, pres_v, mask4], s,
                 scale=float(1.0 / np.sqrt(D)))
    else:
        cos = g.op("Unsqueeze", [g.op("Gather", ["rope.cos", "position_ids"], s),
                                 g.i64("axes_1", [1])], s)   # [1, 1, T, r/2]
        sin = g.op("Unsqueeze", [g.op("Gather", ["rope.sin", "position_ids"], s),
                                 g.i64("axes_1", [1])], s)

        def rope(t):
            x1, x2, rest = g.op("Split", [t, g.i64("split_rope", [r // 2, r // 2, D - r])], s,
                                n_out=3, axis=-1)
            a = g.op("Sub", [g.op("Mul", [x1, cos], s), g.op("Mul", [x2, sin], s)], s)
            b = g.op("Add", [g.op("Mul", [x2, cos], s), g.op("Mul", [x1, sin], s)], s)
            return g.op("Concat", [a, b, rest], s, axis=-1)

        q, k = rope(q), rope(k)
        base = np.zeros((1, KV, 1, 3), np.int64)
        base[0, :, 0, 1] = np.arange(KV)
        pos4 = g.reshape("position_ids", [1, 1, T, 1], s)
        idx = g.op("Add", [g.i64(f"scatter_base_{KV}", base),
                           g.op("Mul", [pos4, g.i64("unit_seq", [0, 0, 1])], s)], s)
        g.op("ScatterND", [past_k, idx, k], s, out=pres_k)
        g.op("ScatterND", [past_v, idx, v], s, out=pres_v)
        rep = Hq // KV

        def repeat_kv(t):
            t = g.op("Unsqueeze", [t, g.i64("axes_2", [2])], s)
            t = g.op("Expand", [t, g.i64("rep_shape", [1, KV, rep, L, D])], s)
            return g.reshape(t, [1, Hq, L, D], s)

        kk, vv = repeat_kv(pres_k), repeat_kv(pres_v)
        sc = g.op("MatMul", [q, g.op("Transpose", [kk], s, perm=[0, 1, 3, 2])], s)
        sc = g.op("Mul", [sc, g.f32("attn_scale", 1.0 / np.sqrt(D))], s)
        sc = g.op("Where", [mask4, sc, g.f32("neg_inf", -np.inf)], s)
        o = g.op("MatMul", [g.op("Softmax", [sc], s, axis=-1), vv], s)
    o = g.reshape(g.op("Transpose", [o], s, perm=[0, 2, 1, 3]), [1, T, Hq * D], s)
    o = g.op("Mul", [o, g.op("Sigmoid", [gate], s)], s)
    return g.linear(o, p + "o_proj.weight", w[p + "o_proj.weight"], s)


def _gdn(g, cfg, w, i, x):
    s = f"layers.{i}/linear_attn"
    p = f"layers.{i}.linear_attn."
    Hk, Hv, Dh = cfg.gdn_k_heads, cfg.gdn_v_heads, cfg.gdn_head_dim
    C, K = cfg.conv_dim, cfg.conv_kernel
    kd, vd, T = cfg.key_dim, cfg.value_dim, g.T
    qkv = g.linear(x, p + "in_proj_qkv.weight", w[p + "in_proj_qkv.weight"], s)
    z = g.linear(x, p + "in_proj_z.weight", w[p + "in_proj_z.weight"], s)
    b = g.linear(x, p + "in_proj_b.weight", w[p + "in_proj_b.weight"], s)
    a = g.linear(x, p + "in_proj_a.weight", w[p + "in_proj_a.weight"], s)
    xc = g.op("Transpose", [qkv], s, perm=[0, 2, 1])          # [1, C, T]
    cw = g.const(p + "conv1d.weight", w[p + "conv1d.weight"])
    past_c, pres_c = f"conv_state.{i}", f"present.conv_state.{i}"
    if g.form == "opset27":
        xc = g.op("CausalConvWithState", [xc, cw, "", past_c], s, n_out=2, activation="silu")
        g.nodes[-1].output[1] = pres_c
        xc = xc[0]
    else:
        cat = g.op("Concat", [past_c, xc], s, axis=2)          # [1, C, K-1+T]
        xc = g.op("Conv", [cat, cw], s, group=C, kernel_shape=[K], pads=[0, 0], strides=[1],
                  dilations=[1])
        xc = g.silu(xc, s)
        g.op("Slice", [cat, g.i64(f"start_{T}", [T]), g.i64(f"end_{T + K - 1}", [T + K - 1]),
                       g.i64("axes_2", [2])], s, out=pres_c)
    xc = g.op("Transpose", [xc], s, perm=[0, 2, 1])           # [1, T, C]
    q, k, v = g.op("Split", [xc, g.i64(f"split_qkv_{kd}_{vd}", [kd, kd, vd])], s, n_out=3, axis=-1)
    rep = Hv // Hk

    def heads(t):   # [1,T,Hk*Dh] -> [1,T,Hv,Dh], key head j feeds value heads j*rep..
        t = g.reshape(t, [1, T, Hk, 1, Dh], s)
        if rep > 1:
            t = g.op("Expand", [t, g.i64("gdn_rep_shape", [1, T, Hk, rep, Dh])], s)
        return g.reshape(t, [1, T, Hv, Dh], s)

    def l2(t):
        ss = g.op("ReduceSumSquare", [t, g.i64("axes_m1", [-1])], s, keepdims=1)
        n = g.op("Sqrt", [g.op("Add", [ss, g.f32("l2_eps", 1e-6)], s)], s)
        return g.op("Div", [t, n], s)

    q, k = l2(heads(q)), l2(heads(k))                          # [1, T, Hv, Dh]
    beta = g.op("Sigmoid", [b], s)                             # [1, T, Hv]
    g.const(p + "A_log", w[p + "A_log"])
    g.const(p + "dt_bias", w[p + "dt_bias"])
    sp = g.op("Softplus", [g.op("Add", [a, p + "dt_bias"], s)], s)
    gd = g.op("Mul", [g.op("Neg", [g.op("Exp", [p + "A_log"], s)], s), sp], s)   # [1, T, Hv]
    past_s, pres_s = f"recurrent_state.{i}", f"present.recurrent_state.{i}"
    if g.form == "opset27":
        q3, k3 = g.reshape(q, [1, T, vd], s), g.reshape(k, [1, T, vd], s)
        o = g.op("LinearAttention", [q3, k3, v, past_s, gd, beta], s, n_out=2,
                 q_num_heads=Hv, kv_num_heads=Hv, update_rule="gated_delta",
                 scale=float(1.0 / np.sqrt(Dh)))
        g.nodes[-1].output[1] = pres_s
        o = g.reshape(o[0], [1, T, Hv, Dh], s)
    else:
        # Per token: S = exp(g) S; S += k (beta (v - S^T k))^T; o = S^T q / sqrt(Dk).
        # Prefill (T > 1) unrolls the recurrence over the T tokens.
        qh = g.op("Transpose", [q], s, perm=[0, 2, 1, 3])      # [1, Hv, T, Dk]
        kh = g.op("Transpose", [k], s, perm=[0, 2, 1, 3])
        vh = g.op("Transpose", [g.reshape(v, [1, T, Hv, Dh], s)], s, perm=[0, 2, 1, 3])
        dec = g.op("Transpose", [g.reshape(g.op("Exp", [gd], s), [1, T, Hv, 1], s)], s,
                   perm=[0, 2, 1, 3])                          # [1, Hv, T, 1]
        bt = g.op("Transpose", [g.reshape(beta, [1, T, Hv, 1], s)], s, perm=[0, 2, 1, 3])
        S, outs = past_s, []
        for t in range(T):
            def tok(x):
                if T == 1:
                    return x
                return g.op("Slice", [x, g.i64(f"t_{t}", [t]), g.i64(f"t_{t + 1}", [t + 1]),
                                      g.i64("axes_2", [2])], s)
            qt, kt_, vt, dt, btt = tok(qh), tok(kh), tok(vh), tok(dec), tok(bt)   # [1, Hv, 1, *]
            S = g.op("Mul", [S, dt], s)
            mem = g.op("MatMul", [kt_, S], s)                       # [1, Hv, 1, Dv]
            delta = g.op("Mul", [g.op("Sub", [vt, mem], s), btt], s)
            kcol = g.op("Transpose", [kt_], s, perm=[0, 1, 3, 2])  # [1, Hv, Dk, 1]
            S = g.op("Add", [S, g.op("MatMul", [kcol, delta], s)], s,
                     out=pres_s if t == T - 1 else None)
            outs.append(g.op("MatMul", [qt, S], s))
        o = outs[0] if T == 1 else g.op("Concat", outs, s, axis=2)   # [1, Hv, T, Dv]
        o = g.op("Mul", [o, g.f32(f"gdn_scale_{Dh}", 1.0 / np.sqrt(Dh))], s)
        o = g.op("Transpose", [o], s, perm=[0, 2, 1, 3])       # [1, T, Hv, Dv]
    zz = g.reshape(z, [1, T, Hv, Dh], s)
    o = _rms_norm(g, o, w[p + "norm.weight"], cfg.eps, f"layers.{i}/linear_attn/norm", gemma=False)
    o = g.op("Mul", [o, g.silu(zz, s)], s)
    o = g.reshape(o, [1, T, vd], s)
    return g.linear(o, p + "out_proj.weight", w[p + "out_proj.weight"], s)


def _topk_by_argmax(g, logits, k, E, s):
    """TopK(k) as k rounds of ArgMax + ReduceMax, masking each pick with
    -inf (ties: ArgMax's first index, as TopK). The same values and
    indices; a workaround for Sinter's CUDA target, which refuses TopK with
    k > 2 (docs/qwen35.md, "GPU")."""
    cur, vals, idxs = logits, [], []
    for r in range(k):
        idxs.append(g.op("ArgMax", [cur], s, axis=-1, keepdims=1))              # [1, T, 1]
        vals.append(g.op("ReduceMax", [cur, g.i64("axes_m1", [-1])], s, keepdims=1))
        if r + 1 < k:
            hit = g.op("Equal", [g.i64(f"arange_E{E}", np.arange(E)), idxs[-1]], s)
            cur = g.op("Where", [hit, g.f32("neg_inf", -np.inf), cur], s)
    return g.op("Concat", vals, s, axis=-1), g.op("Concat", idxs, s, axis=-1)


def _moe(g, cfg, w, i, x):
    s = f"layers.{i}/mlp"
    p = f"layers.{i}.mlp."
    E, k, I, H, T = cfg.experts, cfg.top_k, cfg.expert_inter, cfg.hidden, g.T
    logits = g.linear(x, p + "gate.weight", w[p + "gate.weight"], s)      # [1, T, E]
    if g.topk == "argmax":
        vals, idx = _topk_by_argmax(g, logits, k, E, s)
    else:
        vals, idx = g.op("TopK", [logits, g.i64(f"topk_{k}", [k])], s, n_out=2, axis=-1)
    rw = g.reshape(g.op("Softmax", [vals], s, axis=-1), [T, k, 1, 1], s)
    idx = g.reshape(idx, [T, k], s)
    xe = g.reshape(x, [T, 1, 1, H], s)
    g.const(p + "experts.gate_up_proj", _stored(w[p + "experts.gate_up_proj"], (0, 2, 1)))  # [E, H, 2I]
    g.const(p + "experts.down_proj", _stored(w[p + "experts.down_proj"], (0, 2, 1)))        # [E, I, H]

    def expert_matmul(a, wname):
        gathered = g.op("Gather", [wname, idx], s, axis=0)
        if wname not in g.low:
            return g.op("MatMul", [a, gathered], s)
        a = g.op("Cast", [a], s, to=g.low[wname].dtype)
        return g.op("Cast", [g.op("MatMul", [a, gathered], s)], s, to=F32)

    gu = expert_matmul(xe, p + "experts.gate_up_proj")
    ge, up = g.op("Split", [gu, g.i64(f"split_ii_{I}", [I, I])], s, n_out=2, axis=-1)
    act = g.op("Mul", [g.silu(ge, s), up], s)                              # [T, k, 1, I]
    eo = expert_matmul(act, p + "experts.down_proj")
    eo = g.op("ReduceSum", [g.op("Mul", [eo, rw], s), g.i64("axes_1", [1])], s, keepdims=0)
    eo = g.reshape(eo, [1, T, H], s)
    sp = p + "shared_expert."
    se = f"{s}/shared_expert"
    sg = g.linear(x, sp + "gate_proj.weight", w[sp + "gate_proj.weight"], se)
    su = g.linear(x, sp + "up_proj.weight", w[sp + "up_proj.weight"], se)
    sh = g.linear(g.op("Mul", [g.silu(sg, se), su], se), sp + "down_proj.weight",
                  w[sp + "down_proj.weight"], se)
    gate = g.linear(x, p + "shared_expert_gate.weight", w[p + "shared_expert_gate.weight"], s)
    sh = g.op("Mul", [g.op("Sigmoid", [gate], s), sh], s)
    return g.op("Add", [eo, sh], s)                                        # [1, T, H]


def build_decode(cfg: Config, form="opset27", weights=None, topk="TopK"):
    """One token (input_ids, position_ids [1, 1]) with all states in and out.
    topk="argmax": the router's TopK as ArgMax rounds (_topk_by_argmax)."""
    return build_step(cfg, form, 1, weights, topk=topk)


def build_external(cfg: Config, form, seq, weights, location, topk="TopK"):
    """The step graph whose Ext weights are external data in the file
    `location` (relative to the model), laid out back to back at 64-byte
    aligned offsets in first-use order. Returns (model, layout): layout is
    [(name, onnx dtype, shape, offset, bytes, fan_in)], what
    bench_weights.fill needs to write the file."""
    g_holder = {}
    model = build_step(cfg, form, seq, weights, _graph=g_holder, topk=topk)
    g = g_holder["g"]
    layout, off = [], 0
    by_name = {t.name: t for t in model.graph.initializer}
    for name, e in g.external:
        n = 2 * int(np.prod(e.shape)) if e.dtype == BF16 else 4 * int(np.prod(e.shape))
        t = by_name[name]
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", str(off)), ("length", str(n))):
            entry = t.external_data.add()
            entry.key, entry.value = k, v
        layout.append((name, e.dtype, list(e.shape), off, n, e.fan_in))
        off += (n + 63) // 64 * 64
    return model, layout


def build_prefill(cfg: Config, form="opset27", seq=8, weights=None):
    """`seq` tokens (input_ids, position_ids [1, seq]: consecutive positions,
    from 0 for an empty state or after a given state); logits [1, seq, vocab]."""
    return build_step(cfg, form, seq, weights)


def build_step(cfg: Config, form, seq, weights=None, _graph=None, topk="TopK"):
    if form not in FORMS:
        raise ValueError(f"form: one of {sorted(FORMS)}, not {form!r}")
    if topk not in ("TopK", "argmax"):
        raise ValueError(f"topk: 'TopK' or 'argmax', not {topk!r}")
    w = reference.init_weights(cfg) if weights is None else weights
    g = _G(form, seq)
    g.topk = topk
    if _graph is not None:
        _graph["g"] = g
    cos, sin = reference.rope_tables(cfg)
    g.const("rope.cos", cos)
    g.const("rope.sin", sin)
    g.const("embed_tokens.weight", w["embed_tokens.weight"])
    x = g.op("Gather", ["embed_tokens.weight", "input_ids"], "embed_tokens")   # [1, T, H]
    if "embed_tokens.weight" in g.low:
        x = g.op("Cast", [x], "embed_tokens", to=F32)
    for i in range(cfg.layers):
        p = f"layers.{i}."
        h = _rms_norm(g, x, w[p + "input_layernorm.weight"], cfg.eps, f"layers.{i}/input_layernorm")
        h = _attention(g, cfg, w, i, h) if cfg.is_attention(i) else _gdn(g, cfg, w, i, h)
        x = g.op("Add", [x, h], f"layers.{i}")
        h = _rms_norm(g, x, w[p + "post_attention_layernorm.weight"], cfg.eps,
                      f"layers.{i}/post_attention_layernorm")
        x = g.op("Add", [x, _moe(g, cfg, w, i, h)], f"layers.{i}")
    h = _rms_norm(g, x, w["norm.weight"], cfg.eps, "norm")
    g.linear(h, "lm_head.weight", w["lm_head.weight"], "lm_head")
    g.nodes[-1].output[0] = "logits"

    states = reference.init_state(cfg)
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, seq]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, [1, seq])]
    inputs += [helper.make_tensor_value_info(n, F32, a.shape) for n, a in states.items()]
    outputs = [helper.make_tensor_value_info("logits", F32, [1, seq, cfg.vocab])]
    outputs += [helper.make_tensor_value_info("present." + n, F32, a.shape)
                for n, a in states.items()]
    kind = "decode" if seq == 1 else f"prefill{seq}"
    graph = helper.make_graph(g.nodes, f"qwen35_{cfg.name}_{kind}_{form}", inputs, outputs,
                              initializer=g.inits)
    model = helper.make_model(graph, producer_name="sinter qwen35/export.py",
                              opset_imports=[helper.make_opsetid("", FORMS[form])])
    if form == "decomposed":
        model.ir_version = 8
    if not g.external:   # external data is checked once it has a location
        onnx.checker.check_model(model, full_check=True)
    return model


def decode_feeds(token, pos, state):
    feeds = {"input_ids": np.array([[token]], np.int64),
             "position_ids": np.array([[pos]], np.int64)}
    feeds.update(state)
    return feeds


def prefill_feeds(tokens, start, state):
    feeds = {"input_ids": np.array([tokens], np.int64),
             "position_ids": np.arange(start, start + len(tokens), dtype=np.int64)[None]}
    feeds.update(state)
    return feeds


def split_outputs(names, values):
    """(logits [vocab] (decode) or [T, vocab] (prefill), state dict) from a
    step graph's outputs."""
    out = dict(zip(names, values)) if not isinstance(values, dict) else values
    logits = np.asarray(out["logits"])[0]
    logits = logits[0] if logits.shape[0] == 1 else logits
    state = {n[len("present."):]: np.asarray(v) for n, v in out.items() if n.startswith("present.")}
    return logits, state


def main():
    ap = argparse.ArgumentParser(description="Writes the Qwen3.5-MoE decode graph as ONNX.")
    ap.add_argument("--config", default="nano", choices=sorted(CONFIGS))
    ap.add_argument("-o", "--output-dir", default=".")
    ap.add_argument("--prefill", type=int, default=0, metavar="T",
                    help="also write the prefill graph for T tokens")
    ap.add_argument("--topk", default="TopK", choices=("TopK", "argmax"),
                    help="argmax: the router's TopK as ArgMax rounds (for the CUDA target)")
    args = ap.parse_args()
    os.makedirs(args.output_dir, exist_ok=True)
    cfg = CONFIGS[args.config]
    for form in FORMS:
        path = os.path.join(args.output_dir, f"qwen35_{cfg.name}_decode_{form}.onnx")
        onnx.save(build_decode(cfg, form, topk=args.topk), path)
        print(f"wrote {path}")
        if args.prefill:
            name = f"qwen35_{cfg.name}_prefill{args.prefill}_{form}.onnx"
            path = os.path.join(args.output_dir, name)
            onnx.save(build_prefill(cfg, form, args.prefill), path)
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
