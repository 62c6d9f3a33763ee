"""Qwen3.5-MoE nano decoder end to end (issue 6, CPU, decode graph).

python/sinter/models/qwen35: reference.py (numpy model), export.py (decode
graph in two forms). For DECODE_STEPS steps, each runner fed back its own
states, logits and every updated state are compared with the numpy
reference:

  - opset27 form on onnx.reference (ORT rejects opset 27),
  - decomposed (opset 18) form on ONNX Runtime,
  - both forms compiled by Sinter for the CPU (sinter.compile),

within TOL (f32: rtol=atol=1e-4; measured worst about 3e-5 over the 6
steps). Then 32 greedy tokens from Sinter (both forms) equal the
reference's, and the report shows the seed rewrites that apply to the
decode graph. The prefill graph (PREFILL_T tokens, from an empty state and
after PREFILL_START decode steps) is checked the same way, Sinter included.
docs/qwen35.md has the numbers and the gaps.
"""

import collections
import os

import numpy as np
import onnx
import pytest

from sinter.models.qwen35 import NANO, export, reference
from sinter.testing import compare, runner

CFG = NANO
TOL = compare.Tolerance(rtol=1e-4, atol=1e-4)
TOKENS = [5, 17, 200, 3, 99, 42]      # DECODE_STEPS = len(TOKENS)
PROMPT, N_GREEDY = [1, 2, 3], 32
PREFILL_T, PREFILL_STARTS = 8, [0, 5]
PREFILL_TOKENS = [(11 * j + 3) % CFG.vocab for j in range(PREFILL_T)]
SINTERC = runner.sinterc_path()
needs_sinterc = pytest.mark.skipif(not os.path.exists(SINTERC), reason=f"{SINTERC} is not built")


@pytest.fixture(scope="module")
def decoder():
    return reference.Decoder(CFG)


@pytest.fixture(scope="module")
def models():
    return {form: export.build_decode(CFG, form) for form in export.FORMS}


@pytest.fixture(scope="module")
def expected(decoder):
    """[(logits, state)] of the reference after each step of TOKENS."""
    st, out = reference.init_state(CFG), []
    for pos, tok in enumerate(TOKENS):
        logits, st = decoder.step(tok, pos, st)
        out.append((logits, st))
    return out


@pytest.fixture(scope="module")
def compiled(models, tmp_path_factory):
    import sinter
    cache = {}

    def get(form):
        if form not in cache:
            path = str(tmp_path_factory.mktemp(form) / f"qwen35_nano_decode_{form}.onnx")
            onnx.save(models[form], path)
            cache[form] = sinter.compile(path, target="cpu", report=True)
        return cache[form]

    return get


def _check_steps(run, expected, names):
    st = reference.init_state(CFG)
    for pos, tok in enumerate(TOKENS):
        logits, st = export.split_outputs(names, run(export.decode_feeds(tok, pos, st)))
        exp_logits, exp_state = expected[pos]
        problems = compare.compare(exp_logits, logits, f"step {pos} logits", TOL)
        for name, value in exp_state.items():
            problems += compare.compare(value, st[name], f"step {pos} {name}", TOL)
        assert not problems, "\n".join(problems)


def test_opset27_on_onnx_reference(models, expected):
    from onnx.reference import ReferenceEvaluator
    ev = ReferenceEvaluator(models["opset27"])
    names = [o.name for o in models["opset27"].graph.output]
    _check_steps(lambda feeds: ev.run(None, feeds), expected, names)


def test_decomposed_on_onnxruntime(models, expected):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(models["decomposed"].SerializeToString(),
                                providers=["CPUExecutionProvider"])
    names = [o.name for o in models["decomposed"].graph.output]
    _check_steps(lambda feeds: sess.run(None, feeds), expected, names)


def test_forms_use_their_ops(models):
    ops = {f: collections.Counter(n.op_type for n in m.graph.node) for f, m in models.items()}
    for op in ("Attention", "RotaryEmbedding", "RMSNormalization", "LinearAttention",
               "CausalConvWithState", "TensorScatter"):
        assert ops["opset27"][op] > 0 and ops["decomposed"][op] == 0, op
    for f, m in models.items():
        expert_gathers = [n for n in m.graph.node
                          if n.op_type == "Gather" and ".experts." in n.input[0]]
        assert ops[f]["TopK"] == CFG.layers and len(expert_gathers) == 2 * CFG.layers


@needs_sinterc
@pytest.mark.parametrize("form", list(export.FORMS))
def test_sinter_cpu_decode(form, compiled, expected):
    m = compiled(form)
    _check_steps(m, expected, [o.name for o in m.outputs])


@needs_sinterc
@pytest.mark.parametrize("form", list(export.FORMS))
def test_sinter_greedy_tokens(form, compiled, decoder):
    m = compiled(form)
    names = [o.name for o in m.outputs]
    st = reference.init_state(CFG)
    for pos, tok in enumerate(PROMPT):
        logits, st = export.split_outputs(names, m(export.decode_feeds(tok, pos, st)))
    got = []
    for j in range(N_GREEDY):
        tok = int(np.argmax(logits))
        got.append(tok)
        logits, st = export.split_outputs(names, m(export.decode_feeds(tok, len(PROMPT) + j, st)))
    assert got == decoder.generate(PROMPT, N_GREEDY)


@needs_sinterc
@pytest.mark.parametrize("form", list(export.FORMS))
def test_sinter_seed_rewrites(form, compiled):
    """Rewrites 2+3+4 (parallel linears: attention q/k/v, GDN in_proj, router +
    shared expert gate/up/gate), 1 (SwiGLU into the shared down projection)
    and 5 (the conv) fire on every layer they apply to."""
    rep = compiled(form).report
    fused = collections.Counter(f["pass"] for f in rep["fusions"] if f["decision"] == "fused")
    n_attn = sum(CFG.is_attention(i) for i in range(CFG.layers))
    n_gdn = CFG.layers - n_attn
    assert fused["sinter-fuse-parallel-linears"] == n_attn + n_gdn + CFG.layers
    assert fused["sinter-lower-depthwise-conv1d"] == n_gdn
    assert fused["sinter-fuse-gated-activation"] >= CFG.layers
    k = rep["kernels_per_forward"]
    assert k["after_fuse"] < k["before_fuse"]


@pytest.fixture(scope="module")
def prefill_models():
    return {form: export.build_prefill(CFG, form, PREFILL_T) for form in export.FORMS}


def _check_prefill(run, decoder, names):
    for start in PREFILL_STARTS:
        st = reference.init_state(CFG)
        for pos in range(start):
            _, st = decoder.step(pos + 7, pos, st)
        given, exp_logits = dict(st), []
        for j, tok in enumerate(PREFILL_TOKENS):
            logits, st = decoder.step(tok, start + j, st)
            exp_logits.append(logits)
        logits, got = export.split_outputs(
            names, run(export.prefill_feeds(PREFILL_TOKENS, start, given)))
        problems = compare.compare(np.stack(exp_logits), logits, f"start {start} logits", TOL)
        for name, value in st.items():
            problems += compare.compare(value, got[name], f"start {start} {name}", TOL)
        assert not problems, "\n".join(problems)


def test_prefill_opset27_on_onnx_reference(prefill_models, decoder):
    from onnx.reference import ReferenceEvaluator
    m = prefill_models["opset27"]
    ev = ReferenceEvaluator(m)
    _check_prefill(lambda feeds: ev.run(None, feeds), decoder, [o.name for o in m.graph.output])


def test_prefill_decomposed_on_onnxruntime(prefill_models, decoder):
    ort = pytest.importorskip("onnxruntime")
    m = prefill_models["decomposed"]
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    _check_prefill(lambda feeds: sess.run(None, feeds), decoder, [o.name for o in m.graph.output])


@needs_sinterc
@pytest.mark.parametrize("form", list(export.FORMS))
def test_sinter_cpu_prefill(form, prefill_models, decoder, tmp_path):
    import sinter
    path = str(tmp_path / f"qwen35_nano_prefill{PREFILL_T}_{form}.onnx")
    onnx.save(prefill_models[form], path)
    m = sinter.compile(path, target="cpu")
    _check_prefill(m, decoder, [o.name for o in m.outputs])
