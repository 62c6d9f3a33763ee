"""Qwen3.5-MoE text-decoder configurations (../shared/design/SEED.md).

nano is SEED.md's small validation config; tiny keeps the real head
structure (more GDN value heads than key heads, GQA) scaled down.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Config:
    name: str
    hidden: int
    layers: int
    vocab: int
    attn_heads: int
    kv_heads: int
    head_dim: int
    gdn_k_heads: int
    gdn_v_heads: int
    gdn_head_dim: int
    experts: int
    top_k: int
    expert_inter: int
    shared_inter: int
    conv_kernel: int = 4
    rope_theta: float = 1e7
    partial_rotary: float = 0.25
    eps: float = 1e-6
    max_len: int = 64          # static KV-cache length of the exported decode graph
    seed: int = 20260323

    @property
    def rot_dim(self):
        return int(self.head_dim * self.partial_rotary)

    @property
    def key_dim(self):
        return self.gdn_k_heads * self.gdn_head_dim

    @property
    def value_dim(self):
        return self.gdn_v_heads * self.gdn_head_dim

    @property
    def conv_dim(self):
        return 2 * self.key_dim + self.value_dim

    def is_attention(self, i):
        """Layer pattern L L L A: full attention when (i+1) % 4 == 0."""
        return (i + 1) % 4 == 0


NANO = Config("nano", hidden=64, layers=8, vocab=256, attn_heads=4, kv_heads=2, head_dim=16,
              gdn_k_heads=4, gdn_v_heads=4, gdn_head_dim=16, experts=8, top_k=2,
              expert_inter=16, shared_inter=16)

TINY = Config("tiny", hidden=256, layers=4, vocab=1024, attn_heads=8, kv_heads=2, head_dim=64,
              gdn_k_heads=4, gdn_v_heads=8, gdn_head_dim=32, experts=16, top_k=4,
              expert_inter=64, shared_inter=64, max_len=128)

CONFIGS = {c.name: c for c in (NANO, TINY)}

# Real per-layer dimensions (SEED.md; Qwen3.5-35B-A3B). Weights are far too
# large to embed: these export with external data (bench_weights.py).
_REAL = dict(hidden=2048, vocab=248320, attn_heads=16, kv_heads=2, head_dim=256,
             gdn_k_heads=16, gdn_v_heads=32, gdn_head_dim=128, experts=256, top_k=8,
             expert_inter=512, shared_inter=512, max_len=512)
BENCH8 = Config("bench8", layers=8, **_REAL)
FULL = Config("full", layers=40, **_REAL)

LARGE_CONFIGS = {c.name: c for c in (BENCH8, FULL)}
