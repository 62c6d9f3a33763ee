"""StableHLO programs written by JAX, compiled for the CPU target.

The programs, their inputs and JAX's outputs are committed under
test/Import/stablehlo/Inputs (scripts/gen-stablehlo-tests.py writes them), so
this test needs no JAX. For each program:

  - numerics: `sinterc --target=cpu` (fuse passes on), run on JAX's inputs
    (named arg0, arg1, ...), outputs result0, ... compared with JAX's.
    Tolerances: differential.py's DIFF_TOLERANCES (float32 1e-5; bfloat16
    2e-2); XLA's CPU results differ from Sinter's summation order, so a
    float32 reduction chain gets rtol=atol=1e-4 here.
  - the report: the seed rewrites fire on the StableHLO-born graphs as on
    the ONNX-born ones (test_seed_rewrites.py).
"""

import json
import os

import ml_dtypes
import numpy as np
import pytest

from sinter.testing import compare, differential, runner

SINTERC = runner.sinterc_path()
pytestmark = pytest.mark.skipif(not os.path.exists(SINTERC),
                                reason=f"{SINTERC} is not built")
INPUTS = os.path.join(runner.ROOT, "test", "Import", "stablehlo", "Inputs")
PROGRAMS = ["swiglu_mlp", "swiglu_mlp_bf16", "gqa_attention",
            "gqa_attention.generic", "gdn_input", "decode_step",
            "op_families", "op_families.generic", "indexing",
            "indexing.generic"]
TOLERANCES = dict(differential.DIFF_TOLERANCES)
TOLERANCES[np.dtype(np.float32)] = compare.Tolerance(rtol=1e-4, atol=1e-4)


def load(name):
    data = np.load(os.path.join(INPUTS, name.split(".")[0] + ".npz"))
    arrays = {}
    for key in data.files:
        if key.endswith(".bf16"):
            continue
        a = data[key]
        if key + ".bf16" in data.files:
            a = a.view(ml_dtypes.bfloat16)
        arrays[key] = a
    inputs = {k: v for k, v in arrays.items() if k.startswith("arg")}
    outputs = {k: v for k, v in arrays.items() if k.startswith("result")}
    return inputs, outputs


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            folder = tmp_path_factory.mktemp(name.replace(".", "_"))
            exe, report = str(folder / "model"), str(folder / "report.json")
            step = runner.compile_model(os.path.join(INPUTS, name + ".mlir"),
                                        exe, SINTERC, timeout=120,
                                        extra_args=[f"--report={report}"])
            assert step.ok, f"sinterc failed: {step.why()}\n{step.command_line()}"
            with open(report) as f:
                cache[name] = (json.load(f), exe)
        return cache[name]

    return get


@pytest.mark.parametrize("name", PROGRAMS)
def test_numerics(compiled, tmp_path, name):
    _, exe = compiled(name)
    inputs, expected = load(name)
    paths = runner.save_inputs(inputs, str(tmp_path / "in"))
    step = runner.run_executable(exe, paths, str(tmp_path / "out"))
    assert step.ok, step.why()
    dtypes = {k: v.dtype for k, v in expected.items()}
    actual = runner.load_outputs(str(tmp_path / "out"), dtypes, dtypes)
    problems = compare.compare_all(expected, actual, table=TOLERANCES)
    assert not problems, "\n".join(problems)


def fusions(report, pass_name):
    return [f for f in report["fusions"]
            if f["pass"] == pass_name and f["decision"] == "fused"]


@pytest.mark.parametrize("name", ["swiglu_mlp", "swiglu_mlp_bf16"])
def test_report_mlp(compiled, name):
    report, _ = compiled(name)
    assert len(fusions(report, "sinter-fuse-parallel-linears")) == 1, report["fusions"]
    assert len(fusions(report, "sinter-fuse-gated-activation")) == 1, report["fusions"]
    assert report["ops_after_fuse"].get("sinter.silu", 0) == 0
    k = report["kernels_per_forward"]
    assert k["after_fuse"] < k["before_fuse"], k


@pytest.mark.parametrize("name", ["gqa_attention", "gqa_attention.generic"])
def test_report_attention(compiled, name):
    report, _ = compiled(name)
    linears = fusions(report, "sinter-fuse-parallel-linears")
    assert len(linears) == 1 and len(linears[0]["involves"]) == 3, report["fusions"]


def test_report_gdn(compiled):
    report, _ = compiled("gdn_input")
    linears = fusions(report, "sinter-fuse-parallel-linears")
    assert len(linears) == 1 and len(linears[0]["involves"]) == 4, report["fusions"]
    assert len(fusions(report, "sinter-lower-depthwise-conv1d")) == 1, report["fusions"]
    assert report["ops_after_fuse"].get("sinter.conv", 0) == 0


def test_report_decode(compiled):
    report, _ = compiled("decode_step")
    linears = fusions(report, "sinter-fuse-parallel-linears")
    assert sorted(len(f["involves"]) for f in linears) == [2, 3], report["fusions"]
    assert len(fusions(report, "sinter-fuse-gated-activation")) == 1, report["fusions"]
