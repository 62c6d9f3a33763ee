"""External-data weights on the CPU target (docs/runtime.md, "Weights"):
the executable maps them at load time from the model's folder or
--weights DIR, weight-pack plans over them are applied once at load time,
and the results equal ONNX Runtime's and the inline model's. The compile
does not read the external data, and the artifact does not carry it.

  .venv/bin/python -m pytest python/tests/test_external_weights.py -q
"""

import os
import resource
import shutil
import subprocess
import time

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto as TP, helper as h, numpy_helper as nh

import sinter
from sinter.models import qwen35_layers as q35

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SINTERC = os.environ.get("SINTERC", os.path.join(ROOT, "build", "bin", "sinterc"))

pytestmark = pytest.mark.skipif(not os.path.exists(SINTERC),
                                reason="sinterc is not built")


def save_both(model, folder, stem, threshold=0):
    """The model inline and with its initializers of `threshold` bytes or
    more in one external file (exporters keep small ones inline, such as
    the shape constants Sinter must know at compile time)."""
    os.makedirs(folder, exist_ok=True)
    inline = os.path.join(folder, f"{stem}_inline.onnx")
    ext = os.path.join(folder, f"{stem}.onnx")
    onnx.save_model(model, inline)
    onnx.save_model(model, ext, save_as_external_data=True,
                    all_tensors_to_one_file=True, location=f"{stem}.bin",
                    size_threshold=threshold)
    return inline, ext


def compile_exe(model, out, *args):
    p = subprocess.run([SINTERC, model, "--target=cpu", "-o", out, *args],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return out


def run_exe(exe, inputs, folder, *args):
    cmd = [exe, "--output-dir", folder, *args]
    for name, value in inputs.items():
        path = os.path.join(folder, f"in_{name}.npy")
        np.save(path, value)
        cmd += ["--input", f"{name}={path}"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p


def outputs(folder, names):
    return {n: np.load(os.path.join(folder, f"{n}.npy")) for n in names}


def qkv_model():
    """Parallel linears of one input (a pack plan: concat + transposes) and
    a MatMul alone (a one-source transpose plan)."""
    rng = np.random.default_rng(0)

    def w(name, shape):
        return nh.from_array((rng.standard_normal(shape) * 0.2).astype(np.float32), name)

    g = h.make_graph(
        [h.make_node("Gemm", ["x", "wq", "bq"], ["q"], transB=1),
         h.make_node("Gemm", ["x", "wk"], ["k"]),
         h.make_node("MatMul", ["x", "wv"], ["v"]),
         h.make_node("Relu", ["v"], ["rv"]),
         h.make_node("MatMul", ["rv", "wo"], ["o"])],
        "qkv", [h.make_tensor_value_info("x", TP.FLOAT, [4, 32])],
        [h.make_tensor_value_info(n, TP.FLOAT, s)
         for n, s in [("q", [4, 64]), ("k", [4, 16]), ("o", [4, 8])]],
        [w("wq", (64, 32)), w("bq", (64,)), w("wk", (32, 16)), w("wv", (32, 16)),
         w("wo", (16, 8))])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def qkv(tmp_path_factory):
    base = tmp_path_factory.mktemp("qkv")
    inline, ext = save_both(qkv_model(), str(base / "m"), "qkv")
    x = np.random.default_rng(1).standard_normal((4, 32)).astype(np.float32)
    return {"base": base, "inline": inline, "ext": ext, "x": x,
            "exe": compile_exe(ext, str(base / "qkv_exe"), "--report", str(base / "r.json")),
            "inline_exe": compile_exe(inline, str(base / "qkv_inline_exe"))}


def test_external_matches_ort_and_inline(qkv):
    base = qkv["base"]
    names = ["q", "k", "o"]
    ref = dict(zip(names, ort.InferenceSession(qkv["ext"]).run(None, {"x": qkv["x"]})))
    for exe, out in [(qkv["exe"], "out_ext"), (qkv["inline_exe"], "out_inline")]:
        os.makedirs(base / out, exist_ok=True)
        p = run_exe(exe, {"x": qkv["x"]}, str(base / out))
        assert p.returncode == 0, p.stderr
    ext, inl = outputs(base / "out_ext", names), outputs(base / "out_inline", names)
    for n in names:
        np.testing.assert_allclose(ext[n], ref[n], rtol=1e-5, atol=1e-5)
        # The plan packs at load time what the compiler folds for inline
        # weights: the same bytes, the same kernels.
        np.testing.assert_array_equal(ext[n], inl[n])


def test_pack_plan_is_in_the_table_not_the_forward(qkv):
    """The fuse phase left a plan; it is listed for the runtime and the
    forward has no transpose or concat of weights left."""
    import json
    with open(qkv["base"] / "r.json") as f:
        report = json.load(f)
    assert report["pack_plan"]["ops"] >= 2
    p = subprocess.run([SINTERC, qkv["ext"], "--target=cpu", "--compile-to=codegen"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    head = p.stdout.splitlines()[0]
    assert "sinter.packs = [" in head
    assert 'file = "qkv.bin"' in head
    assert "dense_resource" not in p.stdout


def test_weights_dir_and_errors(qkv):
    base = qkv["base"]
    moved = base / "moved"
    os.makedirs(moved, exist_ok=True)
    shutil.copy(base / "m" / "qkv.bin", moved / "qkv.bin")
    os.makedirs(base / "out_moved", exist_ok=True)
    p = run_exe(qkv["exe"], {"x": qkv["x"]}, str(base / "out_moved"), "--weights", str(moved))
    assert p.returncode == 0, p.stderr
    ref = ort.InferenceSession(qkv["ext"]).run(None, {"x": qkv["x"]})
    np.testing.assert_allclose(outputs(base / "out_moved", ["q"])["q"], ref[0],
                               rtol=1e-5, atol=1e-5)

    # Missing folder, changed (longer) and truncated files: exit 1, one line
    # naming the file and a tensor, no crash.
    p = run_exe(qkv["exe"], {"x": qkv["x"]}, str(base), "--weights", str(base / "nowhere"))
    assert p.returncode == 1
    assert "nowhere/qkv.bin' of tensor '" in p.stderr and "cannot open" in p.stderr
    data = (moved / "qkv.bin").read_bytes()
    (moved / "qkv.bin").write_bytes(data + b"\0" * 4)
    p = run_exe(qkv["exe"], {"x": qkv["x"]}, str(base), "--weights", str(moved))
    assert p.returncode == 1
    assert f"has {len(data) + 4} bytes, but the model was compiled against {len(data)} bytes" in p.stderr
    (moved / "qkv.bin").write_bytes(data[:100])
    p = run_exe(qkv["exe"], {"x": qkv["x"]}, str(base), "--weights", str(moved))
    assert p.returncode == 1 and "has 100 bytes" in p.stderr
    assert p.stderr.count("\n") == 1


def test_python_api_weights(qkv, tmp_path):
    ref = ort.InferenceSession(qkv["ext"]).run(None, {"x": qkv["x"]})
    m = sinter.compile(qkv["ext"])
    np.testing.assert_allclose(m(x=qkv["x"])["q"], ref[0], rtol=1e-5, atol=1e-5)
    m.close()
    other = tmp_path / "w"
    other.mkdir()
    shutil.copy(os.path.join(os.path.dirname(qkv["ext"]), "qkv.bin"), other / "qkv.bin")
    m = sinter.compile(qkv["ext"], weights=other)
    np.testing.assert_allclose(m(x=qkv["x"])["o"], ref[2], rtol=1e-5, atol=1e-5)
    m.close()
    with pytest.raises(sinter.SinterError, match=r"qkv\.bin' of tensor '.*cannot open"):
        sinter.compile(qkv["ext"], weights=tmp_path / "empty")

    # Sessions of one library share its weights (loaded once per process);
    # another folder is refused while they are open, and fine afterwards.
    a = sinter.compile(qkv["ext"], output_dir=tmp_path / "lib")
    b = sinter.load(a.library_path)
    np.testing.assert_array_equal(a(x=qkv["x"])["q"], b(x=qkv["x"])["q"])
    with pytest.raises(sinter.SinterError, match="already loaded from"):
        sinter.load(a.library_path, weights=other)
    a.close()
    b.close()
    c = sinter.load(a.library_path, weights=other)
    np.testing.assert_allclose(c(x=qkv["x"])["k"], ref[1], rtol=1e-5, atol=1e-5)
    c.close()


@pytest.mark.parametrize("layer,dtype", [("attention", "float32"),
                                         ("gdn_input", "float32"),
                                         ("shared_mlp", "bfloat16")])
def test_qwen35_layers_external(layer, dtype, tmp_path):
    """One layer of each kind: the external-data model (whose linears become
    load-time pack plans) computes exactly what the inline one does."""
    model = q35.LAYERS[layer](dtype)
    inline, ext = save_both(model, str(tmp_path / "m"), layer, threshold=1024)
    feeds = q35.make_inputs(model)
    names = [o.name for o in model.graph.output]
    results = []
    for src, tag in [(ext, "ext"), (inline, "inline")]:
        exe = compile_exe(src, str(tmp_path / f"{tag}_exe"))
        out = tmp_path / f"out_{tag}"
        out.mkdir()
        p = run_exe(exe, feeds, str(out))
        assert p.returncode == 0, p.stderr
        results.append(outputs(out, names))
    for n in names:
        np.testing.assert_array_equal(results[0][n], results[1][n])
    if dtype == "float32":
        ref = ort.InferenceSession(inline).run(None, feeds)
        for n, r in zip(names, ref):
            np.testing.assert_allclose(results[0][n], r, rtol=1e-4, atol=1e-4)


def test_compile_does_not_read_external_data(tmp_path):
    """A 2 GiB external weight (a sparse file): the compile neither reads
    it (its resident memory stays far below the file's size; mapped pages
    it touched would count) nor embeds it (the executable stays small), and
    takes no longer than for a small model."""
    k, n = 32768, 16384
    t = TP()
    t.name, t.data_type = "w", TP.FLOAT
    t.dims.extend([k, n])
    t.data_location = TP.EXTERNAL
    for key, value in [("location", "big.bin"), ("offset", "0"), ("length", str(k * n * 4))]:
        e = t.external_data.add()
        e.key, e.value = key, value
    g = h.make_graph([h.make_node("MatMul", ["x", "w"], ["y"])], "big",
                     [h.make_tensor_value_info("x", TP.FLOAT, [1, k])],
                     [h.make_tensor_value_info("y", TP.FLOAT, [1, n])], [t])
    onnx.save_model(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]),
                    str(tmp_path / "big.onnx"))
    with open(tmp_path / "big.bin", "wb") as f:
        f.truncate(k * n * 4)
    exe = str(tmp_path / "big_exe")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    compile_exe(str(tmp_path / "big.onnx"), exe)
    elapsed = time.monotonic() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kb < 1024 * 1024, f"sinterc peaked at {peak_kb} KB (before {before})"
    assert os.path.getsize(exe) < 8 * 1024 * 1024
    assert elapsed < 60
    # The executable knows the file; a wrong folder is refused before any
    # forward runs (no 2 GiB transpose here).
    p = subprocess.run([exe, "--input", "x=none.npy", "--weights", str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert p.returncode == 1


def test_scalar_external_initializer(tmp_path):
    """A 0-d external initializer is read at import (one element: MLIR's
    memref lowering needs it as a scalar) and embedded; the rest stays
    external."""
    g = h.make_graph([h.make_node("Mul", ["x", "s"], ["m"]),
                      h.make_node("Add", ["m", "b"], ["y"])], "s",
                     [h.make_tensor_value_info("x", TP.FLOAT, [4])],
                     [h.make_tensor_value_info("y", TP.FLOAT, [4])],
                     [nh.from_array(np.array(3.0, np.float32), "s"),
                      nh.from_array(np.arange(4, dtype=np.float32), "b")])
    inline, ext = save_both(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]),
                            str(tmp_path / "m"), "s")
    exe = compile_exe(ext, str(tmp_path / "exe"))
    x = np.array([1, 2, 3, 4], np.float32)
    p = run_exe(exe, {"x": x}, str(tmp_path))
    assert p.returncode == 0, p.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), x * 3 + np.arange(4))
