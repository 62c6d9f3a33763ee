"""PyTorch reference of the Qwen3.5-MoE text decoder (../shared/design/SEED.md).

The same model as reference.py (numpy), written independently in PyTorch
over whole token blocks, so that the two check each other and so that this
one can run on a GPU and against Hugging Face's Qwen3_5MoeForCausalLM
(hf_check.py):

  - full attention: q_proj emits query and output gate interleaved per head,
    per-head Gemma RMSNorm on q and k, partial RoPE (rotate-half on the first
    rot_dim dims), GQA, static KV cache [1, KV, max_len, D] written at the
    token positions, causal mask, y * sigmoid(gate), o_proj;
  - GatedDeltaNet: in_proj qkv/z/b/a, depthwise causal conv (F.conv1d,
    groups=C) over the carried conv state and the block, SiLU, q/k repeated
    to the value heads (repeat_interleave), L2-normalised, q / sqrt(Dk),
    beta = sigmoid(b), g = -exp(A_log) softplus(a + dt_bias), the recurrence
    token by token (S = exp(g) S; S += k (beta (v - S^T k))^T; o = S^T q)
    with the state in fp32, gated RMSNorm (plain weight) times silu(z);
  - MoE: softmax over all router logits, top-k, renormalised (Hugging Face's
    order of operations; reference.py takes the softmax of the top-k logits,
    which is the same function), SwiGLU experts read from the stacked
    gate_up_proj [E, 2I, H] / down_proj [E, H, I], shared expert scaled by
    sigmoid(shared_expert_gate(x));
  - Gemma RMSNorm x * rsqrt(mean(x^2) + eps) * (1 + w) in fp32.

Weights: the dict of reference.init_weights (Hugging Face names without the
"model." prefix). torch is imported inside functions only, so the package
imports without it (CI here has none).

    dec = TorchDecoder(cfg)                      # float32, cpu
    logits, state = dec.forward(tokens, start, state)   # logits [T, vocab]

`dtype="bfloat16"` keeps weights and linear layers in bf16 (norms, softmax,
recurrence and states stay fp32). `compare_to_numpy(cfg)` runs decode steps
and prefill blocks through both references and returns the errors.
"""

import numpy as np

from . import reference
from .configs import Config


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("sinter.models.qwen35.torch_reference needs PyTorch "
                          "(pip install torch, or Debian's python3-torch)") from e
    return torch


class TorchDecoder:
    # Bytes of gathered expert weights one MoE chunk of tokens may hold (see
    # moe); the default keeps a 512-token prefill at the real dims in a few
    # GiB of an 80 GB GPU.
    MOE_CHUNK_BYTES = 2 << 30

    def __init__(self, cfg: Config, weights=None, device="cpu", dtype="float32"):
        torch = _torch()
        self.torch = torch
        self.F = torch.nn.functional
        self.cfg = cfg
        self.device = torch.device(device)
        self.dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        w = reference.init_weights(cfg) if weights is None else weights
        f32 = torch.float32

        def keep_f32(name):
            # norms, gates of the recurrence and the conv stay fp32 whatever dtype
            return (name.endswith("norm.weight") or name.endswith("A_log")
                    or name.endswith("dt_bias") or name.endswith("conv1d.weight"))

        self.w = {}
        for k, v in w.items():
            t = torch.as_tensor(np.asarray(v)).to(self.device)
            self.w[k] = t.to(f32 if keep_f32(k) else self.dtype)

    # -- helpers -----------------------------------------------------------
    def _lin(self, x, name):
        """x [..., in] (fp32) @ W^T in the weights' dtype, result fp32."""
        W = self.w[name]
        return (x.to(W.dtype) @ W.transpose(-1, -2)).float()

    def _gemma_norm(self, x, name):
        c = self.cfg
        x = x.float()
        r = self.torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + c.eps)
        return x * r * (1.0 + self.w[name].float())

    def _rope(self, x, pos):
        """x [H, T, D], pos [T] int: rotate-half RoPE on the first rot_dim dims."""
        torch, c = self.torch, self.cfg
        r = c.rot_dim
        inv = 1.0 / (c.rope_theta ** (torch.arange(0, r, 2, dtype=torch.float64,
                                                   device=self.device) / r))
        ang = pos.to(torch.float64)[:, None] * inv[None, :]          # [T, r/2]
        cos, sin = ang.cos().float(), ang.sin().float()
        x1, x2, rest = x[..., :r // 2], x[..., r // 2:r], x[..., r:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], -1)

    # -- blocks, on a block of T tokens: x [T, H] (fp32) --------------------
    def attention(self, i, x, pos, st):
        torch, c = self.torch, self.cfg
        p = f"layers.{i}.self_attn."
        T = x.shape[0]
        Hq, KV, D = c.attn_heads, c.kv_heads, c.head_dim
        qg = self._lin(x, p + "q_proj.weight").view(T, Hq, 2 * D)
        q, gate = qg[..., :D], qg[..., D:].reshape(T, Hq * D)
        k = self._lin(x, p + "k_proj.weight").view(T, KV, D)
        v = self._lin(x, p + "v_proj.weight").view(T, KV, D)
        q = self._gemma_norm(q, p + "q_norm.weight").transpose(0, 1)    # [Hq, T, D]
        k = self._gemma_norm(k, p + "k_norm.weight").transpose(0, 1)    # [KV, T, D]
        q, k = self._rope(q, pos), self._rope(k, pos)
        kc = st[f"past_key.{i}"].clone()
        vc = st[f"past_value.{i}"].clone()
        kc[0, :, pos] = k.to(kc.dtype)
        vc[0, :, pos] = v.transpose(0, 1).to(vc.dtype)
        st[f"past_key.{i}"], st[f"past_value.{i}"] = kc, vc
        n = int(pos[-1]) + 1
        keys = kc[0, :, :n].float().repeat_interleave(Hq // KV, 0)      # [Hq, n, D]
        vals = vc[0, :, :n].float().repeat_interleave(Hq // KV, 0)
        scores = q @ keys.transpose(1, 2) / float(np.sqrt(D))            # [Hq, T, n]
        visible = torch.arange(n, device=self.device)[None, :] <= pos[:, None]
        scores = scores.masked_fill(~visible[None], float("-inf"))
        o = torch.softmax(scores, -1) @ vals                             # [Hq, T, D]
        o = o.transpose(0, 1).reshape(T, Hq * D) * torch.sigmoid(gate)
        return self._lin(o, p + "o_proj.weight")

    def gdn(self, i, x, st):
        torch, F, c = self.torch, self.F, self.cfg
        p = f"layers.{i}.linear_attn."
        T = x.shape[0]
        Hk, Hv, Dh, K = c.gdn_k_heads, c.gdn_v_heads, c.gdn_head_dim, c.conv_kernel
        qkv = self._lin(x, p + "in_proj_qkv.weight")                     # [T, C]
        z = self._lin(x, p + "in_proj_z.weight").view(T, Hv, Dh)
        b = self._lin(x, p + "in_proj_b.weight")                          # [T, Hv]
        a = self._lin(x, p + "in_proj_a.weight")
        win = torch.cat([st[f"conv_state.{i}"][0].float(), qkv.transpose(0, 1)], 1)  # [C, K-1+T]
        st[f"conv_state.{i}"] = win[None, :, win.shape[1] - (K - 1):].clone()
        conv = F.conv1d(win[None], self.w[p + "conv1d.weight"], groups=c.conv_dim)  # [1, C, T]
        qkv = F.silu(conv[0]).transpose(0, 1)                            # [T, C]
        q, k, v = torch.split(qkv, [c.key_dim, c.key_dim, c.value_dim], -1)
        rep = Hv // Hk
        q = q.reshape(T, Hk, Dh).repeat_interleave(rep, 1)
        k = k.reshape(T, Hk, Dh).repeat_interleave(rep, 1)
        v = v.reshape(T, Hv, Dh)
        q = q * torch.rsqrt((q * q).sum(-1, keepdim=True) + 1e-6) / float(np.sqrt(Dh))
        k = k * torch.rsqrt((k * k).sum(-1, keepdim=True) + 1e-6)
        beta = torch.sigmoid(b)
        g = -torch.exp(self.w[p + "A_log"]) * F.softplus(a + self.w[p + "dt_bias"])
        S = st[f"recurrent_state.{i}"][0].float()                        # [Hv, Dk, Dv]
        outs = []
        for t in range(T):
            S = S * torch.exp(g[t])[:, None, None]
            mem = torch.einsum("hkv,hk->hv", S, k[t])
            delta = beta[t][:, None] * (v[t] - mem)
            S = S + k[t][:, :, None] * delta[:, None, :]
            outs.append(torch.einsum("hkv,hk->hv", S, q[t]))
        st[f"recurrent_state.{i}"] = S[None]
        o = torch.stack(outs)                                            # [T, Hv, Dv]
        o = o * torch.rsqrt(o.pow(2).mean(-1, keepdim=True) + c.eps) * self.w[p + "norm.weight"]
        o = (o * F.silu(z)).reshape(T, c.value_dim)
        return self._lin(o, p + "out_proj.weight")

    def moe(self, i, x):
        torch, F, c = self.torch, self.F, self.cfg
        p = f"layers.{i}.mlp."
        I = c.expert_inter
        probs = torch.softmax(self._lin(x, p + "gate.weight"), -1)      # [T, E]
        top, idx = torch.topk(probs, c.top_k, -1)                        # [T, k]
        top = top / top.sum(-1, keepdim=True)
        # The picked experts' weights are gathered per token ([T, k, 2I, H]
        # and [T, k, H, I], widened to f32): for a 512-token prompt at the
        # real dims that is 48 GiB, so the tokens go through in chunks whose
        # gathered weights stay under MOE_CHUNK_BYTES. Every token's
        # arithmetic is the same at any chunk size.
        gu_all, dn_all = self.w[p + "experts.gate_up_proj"], self.w[p + "experts.down_proj"]
        per_token = c.top_k * (gu_all[0].numel() + dn_all[0].numel()) * (4 + gu_all.element_size())
        chunk = max(1, self.MOE_CHUNK_BYTES // per_token)
        outs = []
        for t0 in range(0, x.shape[0], chunk):
            xs, ids = x[t0:t0 + chunk], idx[t0:t0 + chunk]
            gu = torch.einsum("tkoh,th->tko", gu_all[ids].float(), xs)    # [t, k, 2I]
            act = F.silu(gu[..., :I]) * gu[..., I:]
            eo = torch.einsum("tkhi,tki->tkh", dn_all[ids].float(), act)  # [t, k, H]
            outs.append((eo * top[t0:t0 + chunk, :, None]).sum(1))
        out = torch.cat(outs)
        s = p + "shared_expert."
        sh = self._lin(F.silu(self._lin(x, s + "gate_proj.weight"))
                       * self._lin(x, s + "up_proj.weight"), s + "down_proj.weight")
        return out + torch.sigmoid(self._lin(x, p + "shared_expert_gate.weight")) * sh

    # -- whole model -------------------------------------------------------
    def init_state(self):
        torch = self.torch
        return {n: torch.zeros(a.shape, dtype=torch.float32, device=self.device)
                for n, a in reference.init_state(self.cfg).items()}

    def _as_state(self, state):
        torch = self.torch
        if state is None:
            return self.init_state()
        return {n: torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v)
                .to(self.device, torch.float32) for n, v in state.items()}

    def forward(self, tokens, start=0, state=None, trace=None):
        """Tokens at positions start .. start+T-1 from `state` (None: empty):
        (logits [T, vocab] fp32 tensor, new state dict of tensors). `trace`, a
        list, receives the residual stream [T, H] after the embedding and
        after each layer, then the final norm's output (to locate a mismatch
        layer by layer)."""
        torch, c = self.torch, self.cfg
        T = len(tokens)
        if start + T > c.max_len:
            raise ValueError(f"{c.name}: positions {start}..{start + T - 1} exceed the "
                             f"static KV cache (max_len {c.max_len})")
        st = self._as_state(state)
        with torch.no_grad():
            ids = torch.as_tensor(np.asarray(tokens, np.int64), device=self.device)
            pos = torch.arange(start, start + T, device=self.device)
            x = self.w["embed_tokens.weight"][ids].float()
            if trace is not None:
                trace.append(x)
            for i in range(c.layers):
                p = f"layers.{i}."
                h = self._gemma_norm(x, p + "input_layernorm.weight")
                x = x + (self.attention(i, h, pos, st) if c.is_attention(i)
                         else self.gdn(i, h, st))
                h = self._gemma_norm(x, p + "post_attention_layernorm.weight")
                x = x + self.moe(i, h)
                if trace is not None:
                    trace.append(x)
            x = self._gemma_norm(x, "norm.weight")
            if trace is not None:
                trace.append(x)
            logits = self._lin(x, "lm_head.weight")
        return logits, st

    def step(self, token, pos, state=None):
        """One decode step: (logits [vocab], state), as reference.Decoder.step."""
        logits, st = self.forward([int(token)], pos, state)
        return logits[0], st

    def generate(self, prompt, n):
        """Prefill of the prompt as one block, then n greedy tokens."""
        logits, st = self.forward(list(prompt), 0, None)
        nxt, out = int(logits[-1].argmax()), []
        for j in range(n):
            out.append(nxt)
            lg, st = self.step(nxt, len(prompt) + j, st)
            nxt = int(lg.argmax())
        return out


# Tolerance of compare_to_numpy (f32 against f32): max |d| <= TOL * (1 + max |expected|).
TOL = 1e-4


def to_numpy(x):
    if isinstance(x, dict):
        return {k: to_numpy(v) for k, v in x.items()}
    return x.detach().float().cpu().numpy()


def max_errors(expected, got):
    """(max abs error, max abs error / max |expected|) of two arrays."""
    e = np.asarray(expected, np.float64)
    d = float(np.max(np.abs(e - np.asarray(got, np.float64)))) if e.size else 0.0
    return d, d / max(float(np.max(np.abs(e))), 1e-30)


def compare_to_numpy(cfg: Config, decode_tokens=(5, 17, 200, 3, 99, 42), prefill_t=8,
                     prefill_starts=(0, 5), device="cpu"):
    """Runs both references, f32: decode steps (each fed its own state back)
    and prefill blocks of prefill_t tokens (from empty and after some decode
    steps, against the numpy reference stepping token by token). Returns
    [(what, max abs error, relative error, within TOL)] over logits and
    every state."""
    np_dec = reference.Decoder(cfg)
    t_dec = TorchDecoder(cfg, np_dec.w, device=device)
    rows = []

    def row(what, expected, got):
        d, rel = max_errors(expected, got)
        return what, d, rel, d <= TOL * (1.0 + float(np.max(np.abs(expected))))

    def add(what, exp_logits, exp_state, logits, state):
        rows.append(row(what + " logits", exp_logits, to_numpy(logits)))
        worst = max((row(what + " " + n, v, to_numpy(state[n])) for n, v in exp_state.items()),
                    key=lambda r: (not r[3], r[1]))
        rows.append(worst)

    toks = [t % cfg.vocab for t in decode_tokens]
    ns, ts = reference.init_state(cfg), None
    for pos, tok in enumerate(toks):
        el, ns = np_dec.step(tok, pos, ns)
        tl, ts = t_dec.step(tok, pos, ts)
        add(f"decode step {pos}", el, ns, tl, ts)
    block = [(11 * j + 3) % cfg.vocab for j in range(prefill_t)]
    for start in prefill_starts:
        ns = reference.init_state(cfg)
        for pos in range(start):
            _, ns = np_dec.step(pos + 7, pos, ns)
        given, exp = dict(ns), []
        for j, tok in enumerate(block):
            el, ns = np_dec.step(tok, start + j, ns)
            exp.append(el)
        tl, ts = t_dec.forward(block, start, given)
        add(f"prefill {prefill_t} from {start}", np.stack(exp), ns, tl, ts)
    return rows


def main(argv=None):
    """python3 -m sinter.models.qwen35.torch_reference --config tiny [--device cuda]"""
    import argparse
    import sys
    from .configs import CONFIGS
    ap = argparse.ArgumentParser(description="PyTorch reference against the numpy reference")
    ap.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    torch = _torch()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    cfg = CONFIGS[args.config]
    rows = compare_to_numpy(cfg, device=args.device)
    bad = [r[0] for r in rows if not r[3]]
    for what, d, rel, ok in rows:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}: max abs {d:.2e}, rel {rel:.2e}")
    worst = max(rows, key=lambda r: r[1])
    print(f"torch vs numpy {cfg.name} ({args.device}, torch {torch.__version__}): "
          f"{'PASS' if not bad else 'FAIL'}, worst {worst[0]} {worst[1]:.2e}")
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
