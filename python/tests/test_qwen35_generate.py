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


# --- The generation driver: sinterc PREFILL DECODE --generate-driver (one
# executable, lib/Runtime/Generate.cpp; docs/cli.md "Generation driver").

import json
import re
import subprocess

import numpy as np


def _driver(tmp_path, prefill, decode, name, *extra):
    exe = str(tmp_path / name)
    r = subprocess.run([SINTERC, prefill, decode, "--generate-driver", "-o", exe,
                        f"--report={exe}.json", *extra], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe, json.load(open(exe + ".json"))


def _generate(exe, prompt, n, *extra):
    r = subprocess.run([exe, "--generate", str(n), "--prompt-ids", ",".join(map(str, prompt)),
                        *extra], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    toks = re.search(r"^tokens: (.*)$", r.stdout, re.M).group(1)
    return [int(t) for t in toks.split()], r.stdout


@pytest.fixture(scope="module")
def nano_driver(tmp_path_factory):
    d = tmp_path_factory.mktemp("gendrv")
    dec, pre = str(d / "decode.onnx"), str(d / "prefill3.onnx")
    onnx.save(export.build_decode(CFG, "opset27"), dec)
    onnx.save(export.build_prefill(CFG, "opset27", len(PROMPT)), pre)
    return _driver(d, pre, dec, "gen")


def test_driver_generates_the_reference_tokens(nano_driver, expected):
    """--generate 32 after the 3-token prompt through the prefill graph:
    the numpy reference's 32 tokens; prints ms and tokens/s per phase."""
    exe, report = nano_driver
    toks, out = _generate(exe, PROMPT, N)
    assert toks == expected
    assert "prompt: 3 tokens (1 prefill forwards of 3, 0 decode steps)" in out
    assert re.search(r"decode: 31 steps in [0-9.]+ ms, [0-9.]+ ms/token, [0-9.]+ tokens/s on cpu",
                     out)
    assert set(report) == {"generate_driver", "prefill", "decode"}
    assert report["decode"]["donations"]["pairs"]      # the states are updated in place


def test_driver_splits_longer_and_shorter_prompts(nano_driver):
    """5 tokens: one prefill forward of 3, then 2 decode steps; 2 tokens:
    decode steps only. Both equal the reference (which feeds the prompt
    one token at a time)."""
    exe, _ = nano_driver
    for prompt, how in (([5, 4, 3, 2, 1], "1 prefill forwards of 3, 2 decode steps"),
                        ([7, 9], "0 prefill forwards of 3, 2 decode steps")):
        toks, out = _generate(exe, prompt, 8)
        assert toks == reference.Decoder(CFG).generate(prompt, 8)
        assert how in out


def test_driver_refuses_positions_past_the_cache(nano_driver):
    exe, _ = nano_driver
    r = subprocess.run([exe, "--generate", str(CFG.max_len), "--prompt-ids", "1,2,3"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert (f"need positions up to {CFG.max_len + 1}, past the KV cache of {CFG.max_len} "
            "positions (input 'past_key.3' of the decode graph 'decode.onnx')") in r.stderr


def test_driver_shares_external_weights(tmp_path):
    """bf16 external weights (bench_weights' layout, nano sizes): prefill and
    decode read the same weights.bin, so decode's table keeps none of it
    (each is loaded once); the tokens equal those of the two graphs driven
    from Python (same kernels, separately loaded weights)."""
    import sinter
    from sinter.models.qwen35 import bench_weights
    d = str(tmp_path / "w")
    dec = bench_weights.do_export(CFG, d, seq=1)
    pre = bench_weights.do_export(CFG, d, seq=4)
    bench_weights.fill(d, jobs=1)
    exe, report = _driver(tmp_path, pre, dec, "gen_ext")
    lay = json.load(open(os.path.join(d, "layout.json")))
    shared = report["generate_driver"]
    assert shared["decode_own_external_weights"] == 0
    assert shared["decode_own_external_bytes"] == 0
    # every tensor of the file, read as it is or through a pack plan
    assert shared["shared_weight_bytes"] >= sum(t["bytes"] for t in lay["tensors"])
    prompt = [3, 1, 4, 1, 5]
    toks, _ = _generate(exe, prompt, 16)
    gen = generate.Generator(sinter.compile(dec, target="cpu", report=False),
                             sinter.compile(pre, target="cpu", report=False))
    # The Python Generator feeds a prompt that is not exactly T long through
    # decode steps; the 4 first tokens through its prefill graph here.
    st = gen.initial_state()
    logits, st = export.split_outputs(gen._pnames, gen.prefill(export.prefill_feeds(prompt[:4], 0, st)))
    logits, st = gen.step(prompt[4], 4, st)
    want = []
    for j in range(16):
        want.append(int(np.argmax(logits)))
        logits, st = gen.step(want[-1], len(prompt) + j, st)
    assert toks == want


def test_driver_links_for_cuda(tmp_path):
    """The CUDA target goes through the same host code: the executable
    links and describes both graphs (--help starts no GPU). The toy pair of
    test/Target/CPU/generate_driver.test (a count state, vocabulary 8); nano
    on the GPU: docs/qwen35.md, "Generation"."""
    inputs = os.path.join(os.path.dirname(__file__), "..", "..", "test", "Target", "CPU", "Inputs")
    exe, report = _driver(tmp_path, os.path.join(inputs, "gen_prefill2.onnxtxt"),
                          os.path.join(inputs, "gen_decode.onnxtxt"), "gen_cuda", "--target=cuda")
    assert report["decode"]["target"] == "cuda" and report["prefill"]["target"] == "cuda"
    r = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "for the cuda target" in r.stdout
    assert "prefill takes 2 tokens per forward; 1 states; no KV cache length known" in r.stdout


def test_driver_random_weights(tmp_path):
    """--random-weights[=SEED] (as the one-graph driver takes it): both
    graphs' external weights are filled, not read, so the executable runs
    with weights.bin deleted; the same seed gives the same tokens. Without
    the flag the missing file is an error naming it."""
    from sinter.models.qwen35 import bench_weights
    d = str(tmp_path / "w")
    dec = bench_weights.do_export(CFG, d, seq=1)
    pre = bench_weights.do_export(CFG, d, seq=3)
    exe, _ = _driver(tmp_path, pre, dec, "gen_rand")
    os.remove(os.path.join(d, bench_weights.WEIGHTS_FILE))
    a, out = _generate(exe, PROMPT, 8, "--random-weights=7")
    b, _ = _generate(exe, PROMPT, 8, "--random-weights=7")
    assert a == b and len(a) == 8
    assert "prompt: 3 tokens (1 prefill forwards of 3, 0 decode steps)" in out
    assert all(0 <= t < CFG.vocab for t in a)
    _generate(exe, [5, 6], 4, "--random-weights")          # seed 0, decode steps only
    r = subprocess.run([exe, "--generate", "4", "--prompt-ids", "1"], capture_output=True, text=True)
    assert r.returncode == 1 and bench_weights.WEIGHTS_FILE in r.stderr
    r = subprocess.run([exe, "--generate", "4", "--prompt-ids", "1", "--random-weights", "3"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "unknown argument '3' (see --help); a seed is given as --random-weights=SEED" in r.stderr


def _rename_caches(model, names):
    """The graph with its inputs/outputs renamed (old -> new) everywhere."""
    g = model.graph
    for vi in list(g.input) + list(g.output):
        vi.name = names.get(vi.name, vi.name)
    for node in g.node:
        node.input[:] = [names.get(n, n) for n in node.input]
        node.output[:] = [names.get(n, n) for n in node.output]
    return model


@pytest.mark.parametrize("form", ["opset27", "decomposed"])
def test_driver_bounds_caches_named_anyhow(tmp_path, form):
    """The KV caches' length comes from the cache writes (TensorScatter in
    opset27, ScatterND in the decomposed form), not from the names: with
    past_key.i / past_value.i renamed kc_i_in / vc_i_in (and their updates
    kc_i_out / vc_i_out), the driver still bounds the positions by the
    cache's max_len and still generates the reference tokens."""
    names = {}
    for i in range(CFG.layers):
        for kv, short in (("key", "kc"), ("value", "vc")):
            names[f"past_{kv}.{i}"] = f"{short}_{i}_in"
            names[f"present.past_{kv}.{i}"] = f"{short}_{i}_out"
    dec, pre = str(tmp_path / "decode.onnx"), str(tmp_path / "prefill3.onnx")
    onnx.save(_rename_caches(export.build_decode(CFG, form), names), dec)
    onnx.save(_rename_caches(export.build_prefill(CFG, form, len(PROMPT)), names), pre)
    exe, report = _driver(tmp_path, pre, dec, "gen_renamed")
    g = report["generate_driver"]
    assert g["kv_cache_positions"] == CFG.max_len
    assert re.fullmatch(r"[kv]c_\d+_in", g["kv_cache_input"])
    r = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert f"the KV cache holds {CFG.max_len} positions (input '{g['kv_cache_input']}'" in r.stdout
    toks, _ = _generate(exe, PROMPT, 6)
    assert toks == reference.Decoder(CFG).generate(PROMPT, 6)
    r = subprocess.run([exe, "--generate", str(CFG.max_len), "--prompt-ids", "1,2,3"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert f"past the KV cache of {CFG.max_len} positions (input '{g['kv_cache_input']}'" in r.stderr
