"""Qwen3.5-MoE tiny (hidden 256, 4 layers, attention 8/2 heads of 64, GDN 4/8
heads of 32, 16 experts top-4; configs.TINY) end to end on the CPU target.

The exported graphs (export.py), compiled by sinterc --target=cpu and run
through the Python API, against the numpy reference (reference.py), f32,
rtol = atol = 1e-4 on the logits and on every state after every step, each
run fed its own states back:

  - CI: the decode graph in both forms, DECODE_STEPS steps (about 15 s);
  - with SINTER_SLOW=1: the prefill graphs of PREFILL_T tokens in both
    forms, from an empty state and after PREFILL_START decode steps (about
    15 s more on an idle machine; the decomposed prefill took 80 s to
    compile before the raise passes).

Each compile's report must show fewer kernels after fusion than before.

docs/qwen35.md has the compile times and kernel counts.
"""

import os

import numpy as np
import onnx
import pytest

from sinter.models.qwen35 import TINY, export, reference
from sinter.testing import compare, runner

CFG = TINY
TOL = compare.Tolerance(rtol=1e-4, atol=1e-4)
TOKENS = [5, 917, 200]                   # DECODE_STEPS = len(TOKENS)
PREFILL_T, PREFILL_START = 8, 5
PREFILL_TOKENS = [(37 * j + 11) % CFG.vocab for j in range(PREFILL_T)]
SINTERC = runner.sinterc_path()
needs_sinterc = pytest.mark.skipif(not os.path.exists(SINTERC), reason=f"{SINTERC} is not built")
slow = pytest.mark.skipif(not os.environ.get("SINTER_SLOW"),
                          reason="slow (compiles the prefill graphs): set SINTER_SLOW=1")


@pytest.fixture(scope="module")
def decoder():
    return reference.Decoder(CFG)


def _compile(model, tmp_path, name):
    import sinter
    path = str(tmp_path / f"qwen35_tiny_{name}.onnx")
    onnx.save(model, path)
    return sinter.compile(path, target="cpu", report=True)


def _check_decode(m, decoder):
    names = [o.name for o in m.outputs]
    st, ref_st = reference.init_state(CFG), reference.init_state(CFG)
    for pos, tok in enumerate(TOKENS):
        logits, st = export.split_outputs(names, m(export.decode_feeds(tok, pos, st)))
        exp_logits, ref_st = decoder.step(tok, pos, ref_st)
        problems = compare.compare(exp_logits, logits, f"step {pos} logits", TOL)
        for name, value in ref_st.items():
            problems += compare.compare(value, st[name], f"step {pos} {name}", TOL)
        assert not problems, "\n".join(problems)


def _check_prefill(m, decoder, start):
    names = [o.name for o in m.outputs]
    st = reference.init_state(CFG)
    for pos in range(start):
        _, st = decoder.step(pos + 7, pos, st)
    given, exp = dict(st), []
    for j, tok in enumerate(PREFILL_TOKENS):
        lg, st = decoder.step(tok, start + j, st)
        exp.append(lg)
    logits, got = export.split_outputs(names, m(export.prefill_feeds(PREFILL_TOKENS, start, given)))
    problems = compare.compare(np.stack(exp), logits, f"start {start} logits", TOL)
    for name, value in st.items():
        problems += compare.compare(value, got[name], f"start {start} {name}", TOL)
    assert not problems, "\n".join(problems)


def _check_report(m):
    k = m.report["kernels_per_forward"]
    assert 0 < k["after_fuse"] < k["before_fuse"], k


@needs_sinterc
def test_tiny_decode_opset27(decoder, tmp_path):
    m = _compile(export.build_decode(CFG, "opset27"), tmp_path, "decode_opset27")
    _check_decode(m, decoder)
    _check_report(m)


@needs_sinterc
def test_tiny_decode_decomposed(decoder, tmp_path):
    m = _compile(export.build_decode(CFG, "decomposed"), tmp_path, "decode_decomposed")
    _check_decode(m, decoder)
    _check_report(m)


@needs_sinterc
@slow
@pytest.mark.parametrize("form", list(export.FORMS))
def test_tiny_prefill(form, decoder, tmp_path):
    m = _compile(export.build_prefill(CFG, form, PREFILL_T), tmp_path, f"prefill{PREFILL_T}_{form}")
    for start in (0, PREFILL_START):
        _check_prefill(m, decoder, start)
    _check_report(m)


def test_tiny_shapes():
    """The graph signature follows the config (runs without sinterc)."""
    m = export.build_decode(CFG, "opset27")
    ins = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in m.graph.input}
    assert ins["conv_state.0"] == [1, CFG.conv_dim, CFG.conv_kernel - 1]
    assert ins["recurrent_state.0"] == [1, CFG.gdn_v_heads, CFG.gdn_head_dim, CFG.gdn_head_dim]
    assert ins["past_key.3"] == [1, CFG.kv_heads, CFG.max_len, CFG.head_dim]
    assert CFG.gdn_v_heads > CFG.gdn_k_heads and CFG.attn_heads > CFG.kv_heads
