"""Our Qwen3.5-MoE references against Hugging Face transformers'
Qwen3_5MoeForCausalLM (transformers 5.x), loaded with the same weights.

    cd python && python3 -m sinter.models.qwen35.hf_check --config tiny

Builds a Qwen3_5MoeTextConfig equal to ours (`hf_config`), loads
reference.init_weights into the model (`hf_state_dict`: "model." prefix,
stacked expert tensors gate_up_proj [E, 2I, H] / down_proj [E, H, I] as HF
stores them; per-expert modules or [E, H, 2I] layouts of other versions are
converted too), runs one prompt with use_cache=False and compares the logits
with torch_reference.TorchDecoder (the prompt as one block) and with the
numpy reference (token by token). Needs torch and transformers; prints one
line per comparison and PASS or FAIL.

Tolerance (f32): max |ours - HF| <= TOL_REL * max |HF logits|, TOL_REL = 1e-4.
HF without a cache runs the GatedDeltaNet in its chunked form (a triangular
solve per chunk of 64) and attention through SDPA, so a few 1e-6 relative
is expected, not bit equality.
"""

import argparse
import sys

import numpy as np

from . import reference
from .configs import CONFIGS, Config

TOL_REL = 1e-4


def hf_config(cfg: Config, experts_implementation=None):
    """transformers.Qwen3_5MoeTextConfig with our sizes and conventions
    (field names of transformers 5.x; build_hf_model checks that the rotary
    frequencies and layer types it got are ours)."""
    from transformers import Qwen3_5MoeTextConfig
    layer_types = ["full_attention" if cfg.is_attention(i) else "linear_attention"
                   for i in range(cfg.layers)]
    hc = Qwen3_5MoeTextConfig(
        vocab_size=cfg.vocab, hidden_size=cfg.hidden, num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.attn_heads, num_key_value_heads=cfg.kv_heads,
        head_dim=cfg.head_dim, linear_num_key_heads=cfg.gdn_k_heads,
        linear_num_value_heads=cfg.gdn_v_heads, linear_key_head_dim=cfg.gdn_head_dim,
        linear_value_head_dim=cfg.gdn_head_dim, linear_conv_kernel_dim=cfg.conv_kernel,
        num_experts=cfg.experts, num_experts_per_tok=cfg.top_k,
        moe_intermediate_size=cfg.expert_inter, shared_expert_intermediate_size=cfg.shared_inter,
        rms_norm_eps=cfg.eps, max_position_embeddings=max(cfg.max_len, 256),
        tie_word_embeddings=False, hidden_act="silu", layer_types=layer_types,
        rope_parameters={"rope_type": "default", "rope_theta": cfg.rope_theta,
                         "partial_rotary_factor": cfg.partial_rotary})
    if experts_implementation:
        hc._experts_implementation = experts_implementation
    return hc


def hf_state_dict(model, weights):
    """Our weights (reference.init_weights names) as `model`'s state dict,
    following the layouts the model declares."""
    import torch
    target = model.state_dict()
    out = {}
    for name, v in weights.items():
        key = name if name == "lm_head.weight" else "model." + name
        t = torch.as_tensor(np.asarray(v))
        if key in target:
            want = tuple(target[key].shape)
            if tuple(t.shape) != want:
                if t.dim() == 3 and tuple(t.transpose(1, 2).shape) == want:
                    t = t.transpose(1, 2)          # experts stored [E, in, out]
                else:
                    raise ValueError(f"{key}: ours {tuple(t.shape)}, HF wants {want}")
            out[key] = t.contiguous().to(target[key].dtype)
            continue
        # per-expert modules (experts.<e>.gate_proj.weight ...) of other versions
        base = key.rsplit(".", 1)[0]                # model.layers.i.mlp.experts
        if name.endswith("experts.gate_up_proj"):
            inter = t.shape[1] // 2
            for e in range(t.shape[0]):
                out[f"{base}.{e}.gate_proj.weight"] = t[e, :inter].contiguous()
                out[f"{base}.{e}.up_proj.weight"] = t[e, inter:].contiguous()
        elif name.endswith("experts.down_proj"):
            for e in range(t.shape[0]):
                out[f"{base}.{e}.down_proj.weight"] = t[e].contiguous()
        else:
            raise KeyError(f"{key}: no such parameter in {type(model).__name__}")
    missing = sorted(k for k in target if k not in out)
    extra = sorted(k for k in out if k not in target)
    if missing or extra:
        raise KeyError(f"state dict mismatch: HF parameters we do not set {missing[:8]}, "
                       f"ours HF does not have {extra[:8]}")
    return out


def build_hf_model(cfg: Config, weights=None, experts_implementation=None, device="cpu"):
    """Qwen3_5MoeForCausalLM (f32, eval) holding our weights."""
    import torch
    from transformers import Qwen3_5MoeForCausalLM
    w = reference.init_weights(cfg) if weights is None else weights
    model = Qwen3_5MoeForCausalLM(hf_config(cfg, experts_implementation)).float().eval()
    if experts_implementation and hasattr(model, "set_experts_implementation"):
        model.set_experts_implementation(experts_implementation)
    model.load_state_dict(hf_state_dict(model, w), strict=True)
    model.to(device)
    # The convention checks that the state dict cannot see.
    rot = model.model.rotary_emb.inv_freq.detach().cpu().double().numpy()
    r = cfg.rot_dim
    want = 1.0 / (cfg.rope_theta ** (np.arange(0, r, 2) / r))
    if rot.shape != want.shape or not np.allclose(rot, want, rtol=1e-5):
        raise ValueError(f"HF rotary inv_freq {rot.shape} differs from ours {want.shape}: "
                         "rope_theta / partial_rotary_factor did not reach the config")
    types = list(model.config.layer_types)
    if types != ["full_attention" if cfg.is_attention(i) else "linear_attention"
                 for i in range(cfg.layers)]:
        raise ValueError(f"HF layer_types {types} differ from ours")
    return model


def hf_logits(model, tokens, device="cpu", hidden=False):
    """Logits [T, vocab]; with hidden=True also HF's hidden states (a list of
    [T, H] arrays: embeddings and layer outputs, as this version reports them)."""
    import torch
    ids = torch.as_tensor(np.asarray([tokens], np.int64), device=device)
    with torch.no_grad():
        out = model(input_ids=ids, use_cache=False, output_hidden_states=hidden)
    logits = out.logits[0].float().cpu().numpy()
    if not hidden:
        return logits
    hs = [h[0].float().cpu().numpy() for h in (out.hidden_states or ())]
    return logits, hs


def prompt(cfg: Config, n):
    return [(37 * j + 11) % cfg.vocab for j in range(n)]


def run(cfg: Config, n_tokens=16, device="cpu", experts=("eager", "batched_mm"), with_numpy=True):
    """[(what, max abs error, relative error, ok)]."""
    import torch
    from .torch_reference import TorchDecoder, max_errors, to_numpy
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    w = reference.init_weights(cfg)
    toks = prompt(cfg, n_tokens)
    trace = []
    ours, _ = TorchDecoder(cfg, w, device=device).forward(toks, 0, None, trace)
    ours, trace = to_numpy(ours), [to_numpy(t) for t in trace]
    refs = {"torch reference": ours}
    if with_numpy:
        dec, st, rows = reference.Decoder(cfg, w), reference.init_state(cfg), []
        for pos, t in enumerate(toks):
            lg, st = dec.step(t, pos, st)
            rows.append(lg)
        refs["numpy reference"] = np.stack(rows)
    rows = []
    for impl in experts:
        try:
            model = build_hf_model(cfg, w, impl, device)
            hf, hf_hidden = hf_logits(model, toks, device, hidden=True)
        except Exception as e:  # report and go on with the other implementation
            import traceback
            traceback.print_exc()
            rows.append((f"HF (experts {impl}): {type(e).__name__}: {e}", float("nan"),
                         float("nan"), False))
            continue
        # Where a mismatch starts: the residual stream after each layer. HF
        # 5.17 reports the embeddings, the outputs of layers 0..n-2 and, last,
        # the final norm's output (trace: embeddings, every layer, final norm).
        for j, b in enumerate(hf_hidden):
            last = j == len(hf_hidden) - 1 and j == cfg.layers
            a = trace[-1] if last else trace[j]
            where = ("embeddings" if j == 0 else "final norm" if last
                     else f"after layer {j - 1}")
            d, rel = max_errors(b, a)
            print(f"    hidden[{j}] ({where}) ours vs HF ({impl}): max abs {d:.2e}, "
                  f"rel {rel:.2e}")
        for name, got in refs.items():
            d, rel = max_errors(hf, got)
            rows.append((f"{name} vs HF (experts {impl})", d, rel, rel <= TOL_REL))
        same_argmax = bool(np.all(hf.argmax(-1) == ours.argmax(-1)))
        rows.append((f"greedy argmax equal over {n_tokens} positions (experts {impl})",
                     0.0, 0.0, same_argmax))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    ap.add_argument("--tokens", type=int, default=16, help="prompt length (<= max_len)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    import transformers
    import torch
    cfg = CONFIGS[args.config]
    print(f"hf_check {cfg.name}: transformers {transformers.__version__}, torch "
          f"{torch.__version__}, device {args.device}, prompt {args.tokens} tokens, "
          f"tolerance max|d| <= {TOL_REL:g} * max|HF logits|")
    rows = run(cfg, args.tokens, args.device)
    ok = bool(rows) and all(r[3] for r in rows)
    for what, d, rel, good in rows:
        print(f"  {'ok  ' if good else 'FAIL'} {what}: max abs {d:.3e}, rel {rel:.3e}")
    print(f"hf_check {cfg.name}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
