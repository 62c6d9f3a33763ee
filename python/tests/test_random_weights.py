"""--random-weights[=SEED] on the CPU target (docs/runtime.md): external
weights are filled with the documented pseudo-random values (checked bit
for bit against bench/qwen35_moe/random_weights.py, float32 and bfloat16),
packs built from them are filled too, no weights file is opened, and the
outputs are finite and the same on every run.

  .venv/bin/python -m pytest python/tests/test_random_weights.py -q
"""

import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto as TP, helper as h, numpy_helper as nh

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SINTERC = os.environ.get("SINTERC", os.path.join(ROOT, "build", "bin", "sinterc"))
sys.path.insert(0, os.path.join(ROOT, "bench", "qwen35_moe"))
import random_weights  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(SINTERC), reason="sinterc is not built")


def build(model, folder, stem):
    """Saves `model` with its initializers in stem.bin (unless `model` is
    the path of such a model already), compiles it for the CPU, deletes
    stem.bin; returns the executable and the weight table's names."""
    os.makedirs(folder, exist_ok=True)
    path = model
    if not isinstance(model, str):
        path = os.path.join(folder, stem + ".onnx")
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=stem + ".bin", size_threshold=0)
    exe = os.path.join(folder, stem)
    p = subprocess.run([SINTERC, path, "--target=cpu", "-o", exe], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([SINTERC, path, "--target=cpu", "--compile-to=codegen"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    os.remove(os.path.join(folder, stem + ".bin"))
    return exe, random_weights.weight_names(p.stdout)


def run(exe, inputs, folder, *args):
    os.makedirs(folder, exist_ok=True)
    cmd = [exe, "--output-dir", folder, *args]
    for name, value in inputs.items():
        f = os.path.join(folder, f"in_{name}.npy")
        np.save(f, value)
        cmd += ["--input", f"{name}={f}"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return {f[:-4]: np.load(os.path.join(folder, f)) for f in os.listdir(folder)
            if f.endswith(".npy") and not f.startswith("in_")}


def test_values_are_the_documented_ones(tmp_path):
    """Y = X + W (float32 [3,8]), Z = B (bfloat16 [5,16]) with X = 0: the
    outputs are the fills themselves (the model bench.py checks the CUDA
    fill kernel with)."""
    folder = str(tmp_path / "m")
    exe, names = build(random_weights.check_model(folder), folder, "rw")
    x = {"X": np.zeros((3, 8), np.float32)}
    for seed in (0, 99):
        out = run(exe, x, str(tmp_path / f"o{seed}"), f"--random-weights={seed}")
        want = random_weights.expected(seed, names)
        np.testing.assert_array_equal(out["Y"], want["Y"])
        np.testing.assert_array_equal(out["Z"].view(np.uint16), want["Z"])
        assert np.abs(want["Y"]).max() <= 1 / np.sqrt(8) and want["Y"].std() > 0.05
    # A missing file without the option is still an error.
    p = subprocess.run([exe, "--input", f"X={tmp_path}/o0/in_X.npy"], capture_output=True, text=True)
    assert p.returncode == 1 and "rw.bin" in p.stderr and "cannot open" in p.stderr


def test_packs_of_random_sources(tmp_path):
    """Parallel linears (a weight-pack plan over external sources, with
    transposes): the pack is filled, the outputs are finite, deterministic,
    and change with the seed."""
    rng = np.random.default_rng(0)
    mk = lambda n, s: nh.from_array(rng.standard_normal(s).astype(np.float32), n)  # noqa: E731
    g = h.make_graph(
        [h.make_node("Gemm", ["x", "wq", "bq"], ["q"], transB=1),
         h.make_node("Gemm", ["x", "wk"], ["k"]),
         h.make_node("MatMul", ["x", "wv"], ["v"])],
        "qkv", [h.make_tensor_value_info("x", TP.FLOAT, [4, 32])],
        [h.make_tensor_value_info(n, TP.FLOAT, s) for n, s in [("q", [4, 64]), ("k", [4, 16]),
                                                               ("v", [4, 16])]],
        [mk("wq", (64, 32)), mk("bq", (64,)), mk("wk", (32, 16)), mk("wv", (32, 16))])
    exe, names = build(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]),
                       str(tmp_path / "m"), "qkv")
    assert len(names) > 4, names   # the packs are weights of the table too
    x = {"x": np.random.default_rng(1).standard_normal((4, 32)).astype(np.float32)}
    a = run(exe, x, str(tmp_path / "a"), "--random-weights")
    b = run(exe, x, str(tmp_path / "b"), "--random-weights")
    c = run(exe, x, str(tmp_path / "c"), "--random-weights=5")
    for n in ("q", "k", "v"):
        assert np.isfinite(a[n]).all() and np.abs(a[n]).max() > 0
        np.testing.assert_array_equal(a[n], b[n])
        assert not np.array_equal(a[n], c[n])
