"""The PyTorch reference of Qwen3.5-MoE (sinter/models/qwen35/torch_reference.py)
equals the numpy reference (reference.py): six decode steps, each fed its own
states back, and prefill blocks of 8 tokens (from an empty state and after 5
steps), logits and every state, for nano and tiny, f32, within
torch_reference.TOL (max |d| <= 1e-4 (1 + max |expected|); measured about
1e-5).

Skipped where torch is not importable (CI here). On a machine with torch:
    cd python && python3 -m pytest -q tests/test_qwen35_torch.py
or without pytest (what scripts/gpu-qwen35-check runs):
    python3 -m sinter.models.qwen35.torch_reference --config tiny --device cuda
"""

import numpy as np
import pytest

from sinter.models.qwen35 import CONFIGS, reference

torch = pytest.importorskip("torch")
from sinter.models.qwen35 import torch_reference  # noqa: E402


@pytest.mark.parametrize("name", ["nano", "tiny"])
def test_torch_equals_numpy(name):
    rows = torch_reference.compare_to_numpy(CONFIGS[name])
    assert len(rows) == 2 * (6 + 2)
    bad = [f"{what}: max abs {d:.2e} rel {rel:.2e}" for what, d, rel, ok in rows if not ok]
    assert not bad, "\n".join(bad)


def test_torch_generate_equals_numpy():
    cfg = CONFIGS["nano"]
    dec = reference.Decoder(cfg)
    got = torch_reference.TorchDecoder(cfg, dec.w).generate([1, 2, 3], 16)
    assert got == dec.generate([1, 2, 3], 16)


def test_torch_catches_a_wrong_weight():
    """The comparison can fail: one flipped norm weight shows in the logits."""
    cfg = CONFIGS["nano"]
    dec = reference.Decoder(cfg)
    w = dict(dec.w)
    w["layers.3.self_attn.q_norm.weight"] = -w["layers.3.self_attn.q_norm.weight"]
    logits, _ = torch_reference.TorchDecoder(cfg, w).forward([5, 17, 200], 0, None)
    st, exp = reference.init_state(cfg), []
    for pos, t in enumerate([5, 17, 200]):
        lg, st = dec.step(t, pos, st)
        exp.append(lg)
    assert np.max(np.abs(torch_reference.to_numpy(logits) - np.stack(exp))) > 1e-3


def test_moe_token_chunks_keep_the_logits():
    """The MoE goes through the prompt in chunks of tokens (bounded memory for
    the 512-token bench prefill): one token per chunk gives the logits of
    the whole block at once."""
    cfg = CONFIGS["nano"]
    dec = reference.Decoder(cfg)
    tokens = [5, 17, 200, 3, 99, 42, 7, 1]
    whole, _ = torch_reference.TorchDecoder(cfg, dec.w).forward(tokens, 0, None)
    one = torch_reference.TorchDecoder(cfg, dec.w)
    one.MOE_CHUNK_BYTES = 1
    chunked, _ = one.forward(tokens, 0, None)
    a, b = torch_reference.to_numpy(whole), torch_reference.to_numpy(chunked)
    assert np.max(np.abs(a - b)) <= 1e-5 * (1 + np.max(np.abs(a)))


def test_positions_past_the_cache_are_refused():
    cfg = CONFIGS["nano"]
    with pytest.raises(ValueError, match="max_len"):
        torch_reference.TorchDecoder(cfg).forward([1, 2], cfg.max_len - 1, None)


class _FakeModel:
    """Stands in for an HF model: only state_dict() (names and shapes)."""

    def __init__(self, shapes):
        self.shapes = shapes

    def state_dict(self):
        return {k: torch.zeros(s) for k, s in self.shapes.items()}


def _hf_shapes(cfg, per_expert=False, transposed=False):
    shapes = {}
    for name, v in reference.init_weights(cfg).items():
        key = name if name == "lm_head.weight" else "model." + name
        if ".experts." in name and per_expert:
            base = key.rsplit(".", 1)[0]
            for e in range(cfg.experts):
                if name.endswith("gate_up_proj"):
                    shapes[f"{base}.{e}.gate_proj.weight"] = (cfg.expert_inter, cfg.hidden)
                    shapes[f"{base}.{e}.up_proj.weight"] = (cfg.expert_inter, cfg.hidden)
                else:
                    shapes[f"{base}.{e}.down_proj.weight"] = (cfg.hidden, cfg.expert_inter)
        elif ".experts." in name and transposed:
            shapes[key] = (v.shape[0], v.shape[2], v.shape[1])
        else:
            shapes[key] = v.shape
    return shapes


@pytest.mark.parametrize("layout", ["packed", "per_expert", "transposed"])
def test_hf_state_dict_layouts(layout):
    """hf_check maps our weights onto HF's layouts (5.17's packed experts, and
    the per-expert / [E, in, out] layouts of other versions) value for value."""
    from sinter.models.qwen35 import hf_check
    cfg = CONFIGS["nano"]
    w = reference.init_weights(cfg)
    sd = hf_check.hf_state_dict(_FakeModel(_hf_shapes(cfg, layout == "per_expert",
                                                       layout == "transposed")), w)
    gu = w["layers.0.mlp.experts.gate_up_proj"]
    if layout == "per_expert":
        got = sd["model.layers.0.mlp.experts.3.up_proj.weight"].numpy()
        np.testing.assert_array_equal(got, gu[3, cfg.expert_inter:])
    elif layout == "transposed":
        got = sd["model.layers.0.mlp.experts.gate_up_proj"].numpy()
        np.testing.assert_array_equal(got, gu.transpose(0, 2, 1))
    else:
        np.testing.assert_array_equal(sd["model.layers.0.mlp.experts.gate_up_proj"].numpy(), gu)
    np.testing.assert_array_equal(sd["lm_head.weight"].numpy(), w["lm_head.weight"])


def test_hf_state_dict_names_a_missing_parameter():
    from sinter.models.qwen35 import hf_check
    cfg = CONFIGS["nano"]
    shapes = _hf_shapes(cfg)
    shapes["model.layers.0.linear_attn.extra.weight"] = (2, 2)
    with pytest.raises(KeyError, match="extra.weight"):
        hf_check.hf_state_dict(_FakeModel(shapes), reference.init_weights(cfg))


def test_bfloat16_mode_keeps_states_fp32():
    """dtype="bfloat16": linear weights in bf16, norms/recurrence/states fp32.
    Only a loose check of the numbers (random weights: bf16 noise flips
    expert choices; tiny measured 0.10 relative, nano 0.59)."""
    cfg = CONFIGS["tiny"]
    w = reference.init_weights(cfg)
    toks = [(37 * j + 11) % cfg.vocab for j in range(8)]
    bf = torch_reference.TorchDecoder(cfg, w, dtype="bfloat16")
    assert bf.w["layers.0.linear_attn.in_proj_qkv.weight"].dtype == torch.bfloat16
    assert bf.w["layers.0.linear_attn.A_log"].dtype == torch.float32
    logits, st = bf.forward(toks)
    assert all(v.dtype == torch.float32 for v in st.values())
    ref, _ = torch_reference.TorchDecoder(cfg, w).forward(toks)
    d, rel = torch_reference.max_errors(torch_reference.to_numpy(ref),
                                        torch_reference.to_numpy(logits))
    assert 0 < rel < 0.3, rel
