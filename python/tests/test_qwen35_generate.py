"""Greedy generation through the Python API (sinter/models/qwen35/generate.py)
on nano, CPU target: 32 tokens after a 3-token prompt equal the numpy
reference's, with the prompt fed through the decode graph one token at a
time and through a compiled 3-token prefill graph."""

import os

import onnx
import pytest

from sinter.models.qwen35 import NANO, export, generate, reference
from sinter.testing import runner

CFG = NANO
PROMPT, N = [1, 2, 3], 32
SINTERC = runner.sinterc_path()
pytestmark = pytest.mark.skipif(not os.path.exists(SINTERC), reason=f"{SINTERC} is not built")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    import sinter
    d = tmp_path_factory.mktemp("gen")
    dec_path, pre_path = str(d / "decode.onnx"), str(d / "prefill3.onnx")
    onnx.save(export.build_decode(CFG, "opset27"), dec_path)
    onnx.save(export.build_prefill(CFG, "opset27", len(PROMPT)), pre_path)
    return (sinter.compile(dec_path, target="cpu", report=False),
            sinter.compile(pre_path, target="cpu", report=False))


@pytest.fixture(scope="module")
def expected():
    return reference.Decoder(CFG).generate(PROMPT, N)


def test_generate_with_decode_steps(models, expected):
    toks, stats = generate.Generator(models[0]).generate(PROMPT, N)
    assert stats["prefill"] == "decode steps"
    assert toks == expected
    assert stats["decode_tokens_per_s"] > 0


def test_generate_with_prefill_graph(models, expected):
    toks, stats = generate.Generator(models[0], models[1]).generate(PROMPT, N)
    assert stats["prefill"] == "graph"
    assert toks == expected


def test_generate_refuses_positions_past_the_cache(models):
    gen = generate.Generator(models[0])
    with pytest.raises(ValueError, match="max_len"):
        gen.generate(PROMPT, CFG.max_len)
