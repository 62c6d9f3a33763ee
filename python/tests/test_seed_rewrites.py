"""The seed rewrites (SEED.md) on one Qwen3.5-MoE layer of each kind.

For each layer of python/sinter/models/qwen35_layers.py (full attention, the
GatedDeltaNet input block, the shared-expert SwiGLU MLP) in f32 and bf16:

  - numerics: compiled with `sinterc --target=cpu` with the fuse passes on
    and with them off (`--no-fuse`), both compared with the oracle:
    ONNX Runtime for f32; for bf16 (ORT's CPU provider has no bf16 kernels)
    onnx.reference on the bf16 model. Tolerances: differential.py's
    DIFF_TOLERANCES (f32 rtol=atol=1e-5; bf16 rtol=atol=2e-2, a few bf16
    ulps: the oracle rounds every op to bf16, Sinter keeps fused
    intermediates in f32). docs/passes.md lists them.
  - the report (`--report`): the expected fusions are taken, and there are
    fewer kernels per forward after the fuse phase than before.

Two SwiGLU spellings of real exports that the gated-activation fusion looks
through (docs/passes.md): the bf16 export's f32 activation between Casts
(gate/up widened, the product rounded to bf16 before down_proj) and a
per-head product flattened by a Reshape before down_proj. The fusion is
exact there, so the outputs with the pass on equal those with it off,
bit for bit.
"""

import json
import os

import numpy as np
import onnx
import pytest

from onnx import TensorProto

from sinter.models import qwen35_layers as layers
from sinter.testing import compare, differential, runner

SINTERC = runner.sinterc_path()
pytestmark = pytest.mark.skipif(not os.path.exists(SINTERC),
                                reason=f"{SINTERC} is not built")

DTYPES = ["float32", "bfloat16"]
LAYERS = ["attention", "gdn_input", "gdn_decode", "shared_mlp"]
# Ops of the forward that are a GEMM (projections and attention products).
GEMMS = ("sinter.linear", "sinter.matmul", "sinter.gated_linear")


def build(layer, dtype):
    if layer == "gdn_decode":
        return layers.build_gdn_input(dtype, seq=1, conv_form="decode")
    return layers.LAYERS[layer](dtype)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """(layer, dtype, fuse) -> (model, report dict, exe path); compiles once."""
    cache = {}

    def get(layer, dtype, fuse):
        key = (layer, dtype, fuse)
        if key not in cache:
            folder = tmp_path_factory.mktemp(f"{layer}_{dtype}_{'on' if fuse else 'off'}")
            model = build(layer, dtype)
            path = str(folder / "model.onnx")
            onnx.save(model, path)
            exe, report = str(folder / "model"), str(folder / "report.json")
            extra = [f"--report={report}"] + ([] if fuse else ["--no-fuse"])
            step = runner.compile_model(path, exe, SINTERC, timeout=120, extra_args=extra)
            assert step.ok, f"sinterc failed: {step.why()}\n{step.command_line()}"
            with open(report) as f:
                cache[key] = (model, json.load(f), exe)
        return cache[key]

    return get


def oracle(model, inputs):
    if model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.BFLOAT16:
        return differential.run_reference(model, inputs)
    return differential.run_ort(model, inputs)


@pytest.mark.parametrize("fuse", [True, False], ids=["passes-on", "passes-off"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LAYERS)
def test_numerics(compiled, tmp_path, layer, dtype, fuse):
    model, _, exe = compiled(layer, dtype, fuse)
    inputs = layers.make_inputs(model, seed=1)
    expected = oracle(model, inputs)
    paths = runner.save_inputs(inputs, str(tmp_path / "in"))
    step = runner.run_executable(exe, paths, str(tmp_path / "out"))
    assert step.ok, step.why()
    dtypes = differential.output_dtypes(model)
    actual = runner.load_outputs(str(tmp_path / "out"), dtypes, dtypes)
    expected = {k: compare.as_dtype(np.asarray(v), dtypes[k]) for k, v in expected.items()}
    problems = compare.compare_all(expected, actual, table=differential.DIFF_TOLERANCES)
    assert not problems, "\n".join(problems)


def fusions(report, pass_name, decision="fused"):
    return [f for f in report["fusions"]
            if f["pass"] == pass_name and f["decision"] == decision]


def gemms(report, phase):
    ops = report[f"ops_after_{phase}"]
    return sum(ops.get(name, 0) for name in GEMMS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LAYERS)
def test_report(compiled, layer, dtype):
    _, report, _ = compiled(layer, dtype, True)
    k = report["kernels_per_forward"]
    assert k["after_fuse"] < k["before_fuse"], k
    linears = fusions(report, "sinter-fuse-parallel-linears")
    assert len(linears) == 1, report["fusions"]
    involved = len(linears[0]["involves"])
    if layer == "attention":
        # q (+ output gate, interleaved in q_proj), k, v -> one linear.
        assert involved == 3
        assert gemms(report, "fuse") == gemms(report, "graph") - 2
    elif layer.startswith("gdn"):
        # in_proj_qkv, z, b, a -> one linear; the conv as shifted FMAs.
        assert involved == 4
        assert gemms(report, "graph") == 4 and gemms(report, "fuse") == 1
        conv = fusions(report, "sinter-lower-depthwise-conv1d")
        assert len(conv) == 1, report["fusions"]
        assert report["ops_after_fuse"].get("sinter.conv", 0) == 0
    else:
        # gate and up (and the 1-wide shared_expert_gate of the same input)
        # -> one linear; silu(gate) * up in the down projection's operand load.
        assert involved >= 2
        gated = fusions(report, "sinter-fuse-gated-activation")
        assert len(gated) == 1, report["fusions"]
        assert report["ops_after_fuse"].get("sinter.silu", 0) == 0
        assert gemms(report, "fuse") == 2  # the fused gate/up, the gated down
    for f in report["fusions"]:
        assert f["location"], f
        assert all(i["op"].startswith("sinter.") for i in f["involves"]), f


def test_no_fuse_and_disable_pass(compiled, tmp_path):
    _, off, _ = compiled("gdn_input", "float32", False)
    assert off["fusions"] == []
    assert off["fuse"]["enabled"] is False
    k = off["kernels_per_forward"]
    assert k["after_fuse"] == k["before_fuse"]

    path = str(tmp_path / "m.onnx")
    onnx.save(build("gdn_input", "float32"), path)
    report = str(tmp_path / "r.json")
    step = runner.run([SINTERC, path, "--compile-to=fuse", "-o", os.devnull,
                       f"--report={report}",
                       "--disable-pass=sinter-fuse-parallel-linears"], 60)
    assert step.ok, step.why()
    with open(report) as f:
        r = json.load(f)
    assert "sinter-fuse-parallel-linears" in r["fuse"]["passes_disabled"]
    assert not fusions(r, "sinter-fuse-parallel-linears")
    assert fusions(r, "sinter-lower-depthwise-conv1d")

    step = runner.run([SINTERC, path, "--compile-to=fuse", "-o", os.devnull,
                       "--disable-pass=no-such-pass"], 60)
    assert step.rc == 1 and "no such fuse-phase pass" in step.stderr


def test_readable_summary(tmp_path):
    path = str(tmp_path / "m.onnx")
    onnx.save(build("shared_mlp", "float32"), path)
    step = runner.run([SINTERC, path, "--compile-to=fuse", "-o", os.devnull,
                       "--report=-"], 60)
    assert step.ok, step.why()
    out = step.stdout
    assert "kernels per forward:" in out
    assert "fused   sinter-fuse-parallel-linears:" in out
    assert "remark" not in step.stderr  # decisions only with --remarks
    step = runner.run([SINTERC, path, "--compile-to=fuse", "-o", os.devnull,
                       "--remarks"], 60)
    assert "remark: sinter-fuse-parallel-linears: fused:" in step.stderr


def build_swiglu_export(kind):
    """`cast`: bf16 SwiGLU with the activation in f32 between Casts, as the
    bench8 bf16 export writes the shared expert. `reshape`: f32 SwiGLU over
    4 heads of 8 ([1, 8, 4, 8] gate and up), flattened to [1, 8, 32] by a
    Reshape before down_proj."""
    dtype = "bfloat16" if kind == "cast" else "float32"
    g = layers.Graph(dtype)
    _, w, _ = layers._rng_weights(layers.SEED + 11)
    s = "mlp/shared_expert"
    if kind == "cast":
        x_shape, inter = [1, 1, 64], 32
        gate = g.to_f32(g.linear("x", "gate_proj", w(64, inter), s), s)
        up = g.to_f32(g.linear("x", "up_proj", w(64, inter), s), s)
        act = g.from_f32(g.op("Mul", [g.silu(gate, s), up], s), s)
    else:
        x_shape, inter = [1, 8, 4, 16], 32
        gate = g.linear("x", "gate_proj", w(16, 8), s)
        up = g.linear("x", "up_proj", w(16, 8), s)
        g.const("flat", np.array([1, 8, inter], np.int64))
        act = g.op("Reshape", [g.op("Mul", [g.silu(gate, s), up], s), "flat"], s)
    g.linear(act, "down_proj", w(inter, 64), s)
    g.nodes[-1].output[0] = "y"
    y_shape = x_shape[:2] + [64]
    return layers._finish(g, f"swiglu_{kind}", [("x", g.elem, x_shape)],
                          [("y", g.elem, y_shape)])


@pytest.mark.parametrize("kind", ["cast", "reshape"])
def test_gated_activation_looks_through(tmp_path, kind):
    model = build_swiglu_export(kind)
    path = str(tmp_path / "m.onnx")
    onnx.save(model, path)
    inputs = layers.make_inputs(model, seed=3)
    paths = runner.save_inputs(inputs, str(tmp_path / "in"))
    dtypes = differential.output_dtypes(model)
    outs, reports = {}, {}
    for mode, extra in [("on", []),
                        ("off", ["--disable-pass=sinter-fuse-gated-activation"])]:
        exe, report = str(tmp_path / f"m_{mode}"), str(tmp_path / f"r_{mode}.json")
        step = runner.compile_model(path, exe, SINTERC, timeout=120,
                                    extra_args=[f"--report={report}"] + extra)
        assert step.ok, f"sinterc failed: {step.why()}\n{step.command_line()}"
        with open(report) as f:
            reports[mode] = json.load(f)
        step = runner.run_executable(exe, paths, str(tmp_path / f"out_{mode}"))
        assert step.ok, step.why()
        outs[mode] = runner.load_outputs(str(tmp_path / f"out_{mode}"), dtypes, dtypes)

    gated = fusions(reports["on"], "sinter-fuse-gated-activation")
    assert len(gated) == 1, reports["on"]["fusions"]
    detail = gated[0]["detail"]
    if kind == "cast":
        assert "rounded to bf16 there" in detail, detail
        assert "read as bf16" in detail, detail
    else:
        assert "gate and up reshaped as the product was" in detail, detail
    assert reports["on"]["ops_after_fuse"].get("sinter.gated_linear") == 1
    assert not fusions(reports["off"], "sinter-fuse-gated-activation")
    assert reports["off"]["ops_after_fuse"].get("sinter.gated_linear", 0) == 0
    on = np.asarray(outs["on"]["y"]).astype(np.float32)
    off = np.asarray(outs["off"]["y"]).astype(np.float32)
    assert np.abs(off).max() > 0
    np.testing.assert_array_equal(on, off)
