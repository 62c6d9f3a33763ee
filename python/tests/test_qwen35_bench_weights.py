"""bench_weights.py: large Qwen3.5 graphs with external bf16 weights whose
bytes are regenerated deterministically where they run (bench8 on the GPU
machine), and the ArgMax form of the router's TopK.

  .venv/bin/python -m pytest python/tests/test_qwen35_bench_weights.py -q
"""

import json
import os
import subprocess

import numpy as np
import onnx
import pytest

from sinter.models.qwen35 import NANO, TINY, bench_weights, export, reference
from sinter.models.qwen35.configs import BENCH8
from sinter.testing import runner

SINTERC = runner.sinterc_path()
needs_sinterc = pytest.mark.skipif(not os.path.exists(SINTERC), reason=f"{SINTERC} is not built")
PTXAS = os.environ.get("SINTER_PTXAS", "/usr/local/cuda/bin/ptxas")
needs_ptxas = pytest.mark.skipif(not os.access(PTXAS, os.X_OK), reason=f"no ptxas at {PTXAS}")


def test_chunk_values_are_a_function_of_seed_name_chunk():
    a = bench_weights.chunk_values(7, "layers.0.mlp.gate.weight", 2048, 3, 1000)
    b = bench_weights.chunk_values(7, "layers.0.mlp.gate.weight", 2048, 3, 1000)
    c = bench_weights.chunk_values(7, "layers.0.mlp.gate.weight", 2048, 4, 1000)
    assert a.dtype == np.uint16 and np.array_equal(a, b) and not np.array_equal(a, c)
    f = (a.astype(np.uint32) << 16).view(np.float32)
    bound = np.sqrt(3 / 2048) * 1.01
    assert np.all(np.abs(f) <= bound) and abs(f.std() - 1 / np.sqrt(2048)) < 0.1 / np.sqrt(2048)


def test_fill_is_independent_of_the_process_count(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_weights, "CHUNK", 1 << 16)   # several chunks per tensor
    d1, d2 = tmp_path / "a", tmp_path / "b"
    for d in (d1, d2):
        bench_weights.do_export(TINY, str(d), topk="argmax")
    assert os.path.getsize(d1 / "weights.bin") == json.load(open(d1 / "layout.json"))["bytes"]
    bench_weights.fill(str(d1), jobs=1)
    bench_weights.fill(str(d2), jobs=2)
    assert (d1 / "weights.bin").read_bytes() == (d2 / "weights.bin").read_bytes()


def test_external_layout(tmp_path):
    """Initializers point into weights.bin at the layout's offsets; bench8's
    file has the size of its bf16 weights (sparse until filled)."""
    path = bench_weights.do_export(BENCH8, str(tmp_path), topk="argmax")
    lay = json.load(open(tmp_path / "layout.json"))
    model = onnx.load(path, load_external_data=False)
    ext = {t.name: {e.key: e.value for e in t.external_data} for t in model.graph.initializer
           if t.data_location == onnx.TensorProto.EXTERNAL}
    assert len(ext) == len(lay["tensors"])
    for t in lay["tensors"]:
        assert ext[t["name"]] == {"location": "weights.bin", "offset": str(t["offset"]),
                                  "length": str(t["bytes"])}
        assert t["offset"] % 64 == 0 and t["dtype"] == onnx.TensorProto.BFLOAT16
    assert lay["bytes"] == os.path.getsize(tmp_path / "weights.bin")
    assert 15.4e9 < lay["bytes"] < 15.6e9      # 7.7 G bf16 parameters
    ops = {n.op_type for n in model.graph.node}
    assert "TopK" not in ops and "ArgMax" in ops and "Cast" in ops


def test_argmax_topk_equals_topk():
    """The router's TopK written as ArgMax rounds gives the same model."""
    ort = pytest.importorskip("onnxruntime")
    st = reference.init_state(NANO)
    feeds = export.decode_feeds(17, 0, st)
    outs = []
    for topk in ("TopK", "argmax"):
        m = export.build_decode(NANO, "decomposed", topk=topk)
        s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        outs.append(s.run(["logits"], feeds)[0])
    np.testing.assert_array_equal(outs[0], outs[1])


@needs_sinterc
def test_tiny_bf16_external_on_cpu(tmp_path):
    """tiny with bf16 external weights, compiled for the CPU target, against
    the numpy reference on the same (upcast) weights over 3 decode steps
    with fed-back state: bf16 activations in the linears only."""
    import sinter
    path = bench_weights.do_export(TINY, str(tmp_path), topk="argmax")
    bench_weights.fill(str(tmp_path), jobs=1)
    cfg, w = bench_weights.numpy_weights(str(tmp_path))
    dec = reference.Decoder(cfg, w)
    m = sinter.compile(path, target="cpu")
    names = [o.name for o in m.outputs]
    st, ref_st = reference.init_state(cfg), reference.init_state(cfg)
    for pos, tok in enumerate([5, 917, 200]):
        logits, st = export.split_outputs(names, m(export.decode_feeds(tok, pos, st)))
        exp, ref_st = dec.step(tok, pos, ref_st)
        r = bench_weights.compare_logits(exp, logits)
        assert r["max_rel"] < 0.02 and r["argmax_equal"], (pos, r)


@needs_sinterc
@needs_ptxas
def test_tiny_bf16_attention_prologue_prefetch_ptxas(tmp_path):
    """The attention prologue's L2 prefetch (on by default since 2026-11-27;
    docs/cuda-target.md) on a decode graph whose attention absorbs its prologue (the bf16 export with
    external weights, as bench8's): on sm_90a the attention kernel starts
    an L2 bulk prefetch of each buffer the prologue reads (the packed q/k/v
    row, the two norm scales, the two RoPE tables: 5 a kernel), and ptxas
    assembles it; sm_80 has no bulk prefetch, so none is emitted."""
    path = bench_weights.do_export(TINY, str(tmp_path))
    for arch, want in (("sm_90a", True), ("sm_80", False)):
        ptx = tmp_path / f"{arch}.ptx"
        subprocess.run([SINTERC, path, "--target=cuda", f"--gpu-arch={arch}",
                        "--emit=ptx",
                        "-o", str(ptx)], check=True, capture_output=True, text=True)
        n = ptx.read_text().count("cp.async.bulk.prefetch.L2.global")
        assert (n > 0 and n % 5 == 0) if want else n == 0, (arch, n)
        p = subprocess.run([PTXAS, f"-arch={arch}", str(ptx), "-o", str(tmp_path / f"{arch}.cubin")],
                           capture_output=True, text=True)
        assert p.returncode == 0, (arch, p.stderr[-2000:])
