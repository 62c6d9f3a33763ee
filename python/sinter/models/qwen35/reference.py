"""Numpy reference of the Qwen3.5-MoE text decoder, as ../shared/design/SEED.md
and Hugging Face's Qwen3_5Moe modules describe it (float32 throughout).

Weights use Hugging Face names and layouts (nn.Linear weights [out, in];
experts stacked: gate_up_proj [E, 2I, H], down_proj [E, H, I]).
`init_weights(cfg)` draws them deterministically from cfg.seed.
`Decoder.step(token, pos, state)` runs one decode step and returns logits and
the new state; `State` holds per-layer conv/recurrent states (GDN) and a
static [1, KV, max_len, D] KV cache (attention).
"""

import numpy as np

from .configs import Config


def weight_table(cfg: Config):
    """Every weight as (name, HF shape, kind, fan_in), in the order the
    weights are drawn from the seeded generator (init_weights here,
    bench_weights.weights): reordering changes every value after it.
    kind "embed" and "dense" are matrices of variance 1/fan_in (the
    embedding, the linears, the stacked experts); the others are small f32
    vectors: "norm", "gated_norm", "conv", "A_log", "dt_bias"."""
    H, E, I = cfg.hidden, cfg.experts, cfg.expert_inter
    t = [("embed_tokens.weight", (cfg.vocab, H), "embed", 1)]

    def lin(name, n_out, n_in):
        t.append((name, (n_out, n_in), "dense", n_in))

    def small(name, shape, kind):
        t.append((name, shape, kind, 1))

    for i in range(cfg.layers):
        p = f"layers.{i}."
        small(p + "input_layernorm.weight", (H,), "norm")
        small(p + "post_attention_layernorm.weight", (H,), "norm")
        if cfg.is_attention(i):
            a = p + "self_attn."
            lin(a + "q_proj.weight", cfg.attn_heads * cfg.head_dim * 2, H)
            lin(a + "k_proj.weight", cfg.kv_heads * cfg.head_dim, H)
            lin(a + "v_proj.weight", cfg.kv_heads * cfg.head_dim, H)
            lin(a + "o_proj.weight", H, cfg.attn_heads * cfg.head_dim)
            small(a + "q_norm.weight", (cfg.head_dim,), "norm")
            small(a + "k_norm.weight", (cfg.head_dim,), "norm")
        else:
            a = p + "linear_attn."
            lin(a + "in_proj_qkv.weight", cfg.conv_dim, H)
            lin(a + "in_proj_z.weight", cfg.value_dim, H)
            lin(a + "in_proj_b.weight", cfg.gdn_v_heads, H)
            lin(a + "in_proj_a.weight", cfg.gdn_v_heads, H)
            small(a + "conv1d.weight", (cfg.conv_dim, 1, cfg.conv_kernel), "conv")
            small(a + "A_log", (cfg.gdn_v_heads,), "A_log")
            small(a + "dt_bias", (cfg.gdn_v_heads,), "dt_bias")
            small(a + "norm.weight", (cfg.gdn_head_dim,), "gated_norm")
            lin(a + "out_proj.weight", H, cfg.value_dim)
        m = p + "mlp."
        lin(m + "gate.weight", E, H)
        t.append((m + "experts.gate_up_proj", (E, 2 * I, H), "dense", H))
        t.append((m + "experts.down_proj", (E, H, I), "dense", I))
        lin(m + "shared_expert.gate_proj.weight", cfg.shared_inter, H)
        lin(m + "shared_expert.up_proj.weight", cfg.shared_inter, H)
        lin(m + "shared_expert.down_proj.weight", H, cfg.shared_inter)
        lin(m + "shared_expert_gate.weight", 1, H)
    small("norm.weight", (H,), "norm")
    lin("lm_head.weight", cfg.vocab, H)
    return t


def init_weights(cfg: Config, seed=None):
    """weight_table's weights as f32 arrays from a generator seeded by
    cfg.seed (or seed)."""
    rng = np.random.default_rng(cfg.seed if seed is None else seed)
    f32 = np.float32

    def norm(shape):
        return (0.1 * rng.standard_normal(shape)).astype(f32)

    def draw(shape, kind, fan_in):
        if kind == "embed":
            return rng.standard_normal(shape).astype(f32)
        if kind == "dense":
            return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(f32)
        if kind == "norm":
            return norm(shape)
        if kind == "gated_norm":
            # Gated RMSNorm weight multiplies directly (HF init: ones).
            return (1.0 + norm(shape)).astype(f32)
        if kind == "conv":
            return (rng.standard_normal(shape) / np.sqrt(shape[-1])).astype(f32)
        if kind == "A_log":
            return np.log(rng.uniform(1, 16, shape)).astype(f32)
        if kind == "dt_bias":
            return (1.0 + 0.1 * rng.standard_normal(shape)).astype(f32)
        raise ValueError(f"weight_table: unknown kind {kind!r}")

    return {name: draw(shape, kind, fan_in)
            for name, shape, kind, fan_in in weight_table(cfg)}


def rope_tables(cfg: Config):
    """cos, sin [max_len, rot_dim/2] (rope_theta, partial rotary)."""
    r = cfg.rot_dim
    inv = 1.0 / (cfg.rope_theta ** (np.arange(0, r, 2, dtype=np.float64) / r))
    ang = np.arange(cfg.max_len, dtype=np.float64)[:, None] * inv[None, :]
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


def gemma_rms_norm(x, w, eps):
    x = x.astype(np.float32)
    return x / np.sqrt(np.mean(x * x, -1, keepdims=True) + eps) * (1.0 + w)


def gated_rms_norm(x, z, w, eps):
    y = x / np.sqrt(np.mean(x * x, -1, keepdims=True) + eps) * w
    return y * silu(z)


def silu(x):
    return x / (1.0 + np.exp(-x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softplus(x):
    return np.log1p(np.exp(x))


def l2norm(x, eps=1e-6):
    return x / np.sqrt(np.sum(x * x, -1, keepdims=True) + eps)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def init_state(cfg: Config):
    """All-zero decode state: {name: array}, the exported graph's state inputs."""
    s = {}
    for i in range(cfg.layers):
        if cfg.is_attention(i):
            shape = (1, cfg.kv_heads, cfg.max_len, cfg.head_dim)
            s[f"past_key.{i}"] = np.zeros(shape, np.float32)
            s[f"past_value.{i}"] = np.zeros(shape, np.float32)
        else:
            s[f"conv_state.{i}"] = np.zeros((1, cfg.conv_dim, cfg.conv_kernel - 1), np.float32)
            s[f"recurrent_state.{i}"] = np.zeros(
                (1, cfg.gdn_v_heads, cfg.gdn_head_dim, cfg.gdn_head_dim), np.float32)
    return s


def state_names(cfg: Config):
    return list(init_state(cfg))


class Decoder:
    def __init__(self, cfg: Config, weights=None):
        self.cfg = cfg
        self.w = init_weights(cfg) if weights is None else weights
        self.cos, self.sin = rope_tables(cfg)

    # -- blocks, on one token: x [H] -------------------------------------
    def attention(self, i, x, pos, st):
        c, w = self.cfg, self.w
        p = f"layers.{i}.self_attn."
        Hq, KV, D = c.attn_heads, c.kv_heads, c.head_dim
        qg = (w[p + "q_proj.weight"] @ x).reshape(Hq, 2 * D)
        q, gate = qg[:, :D], qg[:, D:].reshape(Hq * D)
        k = (w[p + "k_proj.weight"] @ x).reshape(KV, D)
        v = (w[p + "v_proj.weight"] @ x).reshape(KV, D)
        q = gemma_rms_norm(q, w[p + "q_norm.weight"], c.eps)
        k = gemma_rms_norm(k, w[p + "k_norm.weight"], c.eps)
        q, k = self.rope(q, pos), self.rope(k, pos)
        kc, vc = st[f"past_key.{i}"].copy(), st[f"past_value.{i}"].copy()
        kc[0, :, pos], vc[0, :, pos] = k, v
        st[f"past_key.{i}"], st[f"past_value.{i}"] = kc, vc
        rep = Hq // KV
        keys = np.repeat(kc[0, :, :pos + 1], rep, axis=0)     # [Hq, T, D]
        vals = np.repeat(vc[0, :, :pos + 1], rep, axis=0)
        scores = np.einsum("hd,htd->ht", q, keys) / np.sqrt(D)
        o = np.einsum("ht,htd->hd", softmax(scores), vals).reshape(Hq * D)
        o = o * sigmoid(gate)
        return w[p + "o_proj.weight"] @ o

    def rope(self, x, pos):
        r = self.cfg.rot_dim
        cos, sin = self.cos[pos], self.sin[pos]
        x1, x2, rest = x[:, :r // 2], x[:, r // 2:r], x[:, r:]
        return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], -1)

    def gdn(self, i, x, st):
        c, w = self.cfg, self.w
        p = f"layers.{i}.linear_attn."
        Hk, Hv, Dh = c.gdn_k_heads, c.gdn_v_heads, c.gdn_head_dim
        qkv = w[p + "in_proj_qkv.weight"] @ x
        z = (w[p + "in_proj_z.weight"] @ x).reshape(Hv, Dh)
        b = w[p + "in_proj_b.weight"] @ x
        a = w[p + "in_proj_a.weight"] @ x
        # depthwise causal conv (kernel K) with carried state, then SiLU
        win = np.concatenate([st[f"conv_state.{i}"][0], qkv[:, None]], 1)   # [C, K]
        st[f"conv_state.{i}"] = win[None, :, 1:].copy()
        qkv = silu(np.sum(win * w[p + "conv1d.weight"][:, 0, :], 1))
        q = qkv[:c.key_dim].reshape(Hk, Dh)
        k = qkv[c.key_dim:2 * c.key_dim].reshape(Hk, Dh)
        v = qkv[2 * c.key_dim:].reshape(Hv, Dh)
        rep = Hv // Hk
        q, k = np.repeat(q, rep, 0), np.repeat(k, rep, 0)
        q, k = l2norm(q) / np.sqrt(Dh), l2norm(k)
        beta = sigmoid(b)
        g = -np.exp(w[p + "A_log"]) * softplus(a + w[p + "dt_bias"])
        S = st[f"recurrent_state.{i}"][0] * np.exp(g)[:, None, None]   # [Hv, dk, dv]
        kv_mem = np.einsum("hkv,hk->hv", S, k)                            # S^T k
        delta = beta[:, None] * (v - kv_mem)
        S = S + k[:, :, None] * delta[:, None, :]
        st[f"recurrent_state.{i}"] = S[None].astype(np.float32)
        o = np.einsum("hkv,hk->hv", S, q)
        o = gated_rms_norm(o, z, w[p + "norm.weight"], c.eps).reshape(Hv * Dh)
        return w[p + "out_proj.weight"] @ o

    def moe(self, i, x):
        c, w = self.cfg, self.w
        p = f"layers.{i}.mlp."
        logits = w[p + "gate.weight"] @ x
        idx = np.argsort(-logits, kind="stable")[:c.top_k]
        rw = softmax(logits[idx])                  # = renormalised top-k of softmax
        out = np.zeros_like(x)
        I = c.expert_inter
        for e, r in zip(idx, rw):
            gu = w[p + "experts.gate_up_proj"][e] @ x
            out += r * (w[p + "experts.down_proj"][e] @ (silu(gu[:I]) * gu[I:]))
        s = p + "shared_expert."
        sh = w[s + "down_proj.weight"] @ (silu(w[s + "gate_proj.weight"] @ x)
                                          * (w[s + "up_proj.weight"] @ x))
        return out + sigmoid(w[p + "shared_expert_gate.weight"] @ x) * sh

    def step(self, token, pos, state):
        """One decode step: returns (logits [vocab], new state dict)."""
        c, w = self.cfg, self.w
        st = dict(state)
        x = w["embed_tokens.weight"][int(token)].astype(np.float32)
        for i in range(c.layers):
            p = f"layers.{i}."
            h = gemma_rms_norm(x, w[p + "input_layernorm.weight"], c.eps)
            x = x + (self.attention(i, h, pos, st) if c.is_attention(i) else self.gdn(i, h, st))
            h = gemma_rms_norm(x, w[p + "post_attention_layernorm.weight"], c.eps)
            x = x + self.moe(i, h)
        h = gemma_rms_norm(x, w["norm.weight"], c.eps)
        return (w["lm_head.weight"] @ h).astype(np.float32), st

    def generate(self, prompt, n):
        """Feeds the prompt one token at a time, then n greedy tokens."""
        st = init_state(self.cfg)
        logits = None
        for pos, t in enumerate(prompt):
            logits, st = self.step(t, pos, st)
        out = []
        for j in range(n):
            t = int(np.argmax(logits))
            out.append(t)
            logits, st = self.step(t, len(prompt) + j, st)
        return out
