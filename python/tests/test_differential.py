"""Differential testing: SINTER_DIFF_GRAPHS random graphs (default 200, seeds
0..N-1) compiled by Sinter for the CPU and compared with ONNX Runtime or
onnx.reference. A mismatch leaves a reproducer in build/repro/<seed>/.

The graphs run SINTER_JOBS (default 2) at a time in a session fixture; each
seed is then its own test case, so a failure names its seed."""

import concurrent.futures
import os
import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from sinter.testing import differential, runner

N_GRAPHS = int(os.environ.get("SINTER_DIFF_GRAPHS", "200"))
JOBS = int(os.environ.get("SINTER_JOBS", "2"))


def repro_root():
    build = os.environ.get("SINTER_BUILD_DIR", os.path.join(runner.ROOT, "build"))
    if not os.path.isabs(build):
        build = os.path.join(runner.ROOT, build)
    return os.path.join(build, "repro")


def require_sinterc():
    if not os.access(runner.sinterc_path(), os.X_OK):
        pytest.fail(f"{runner.sinterc_path()} not found: build it first (scripts/build)")


@pytest.fixture(scope="session")
def diff_results(request):
    """Runs every collected seed, JOBS at a time; seed -> Result."""
    require_sinterc()
    seeds = sorted({item.callspec.params["seed"] for item in request.session.items
                    if item.originalname == "test_random_graph"
                    and hasattr(item, "callspec")})
    root = repro_root()
    for s in seeds:  # no stale reproducers from an earlier run
        shutil.rmtree(os.path.join(root, str(s)), ignore_errors=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
        return dict(zip(seeds, pool.map(lambda s: differential.run_seed(s, root), seeds)))


@pytest.mark.parametrize("seed", range(N_GRAPHS))
def test_random_graph(seed, diff_results):
    res = diff_results[seed]
    if not res.ok:
        pytest.fail(f"seed {seed} ({res.description}): {res.summary()}", pytrace=False)


def _tiny_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "tiny", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    return m


def test_harness_matches_a_correct_run(tmp_path):
    require_sinterc()
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    res = differential.run_model(_tiny_model(), {"x": x}, repro_dir=str(tmp_path / "r"))
    assert res.ok, res.summary()
    assert res.oracle == "onnxruntime"
    assert not (tmp_path / "r").exists()


def test_harness_reports_a_mismatch_and_saves_a_reproducer(tmp_path, monkeypatch):
    require_sinterc()
    real = differential.run_oracle

    def wrong_oracle(model, inputs, oracle="auto"):
        outs, name = real(model, inputs, oracle)
        return {k: v + 1 for k, v in outs.items()}, name

    monkeypatch.setattr(differential, "run_oracle", wrong_oracle)
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    repro = tmp_path / "repro"
    res = differential.run_model(_tiny_model(), {"x": x}, repro_dir=str(repro))
    assert res.status == "mismatch" and res.problems
    for f in ("model.onnx", "README.txt", "inputs/input_0.npy", "oracle/y.npy", "sinter/y.npy"):
        assert (repro / f).exists(), f
    onnx.checker.check_model(onnx.load(str(repro / "model.onnx")))


def test_harness_reports_a_sinter_failure(tmp_path):
    fake = tmp_path / "sinterc"
    fake.write_text("#!/bin/sh\necho 'model.onnx: error: unsupported operator Relu' >&2\nexit 1\n")
    fake.chmod(0o755)
    x = np.ones((2, 3), np.float32)
    res = differential.run_model(_tiny_model(), {"x": x}, repro_dir=str(tmp_path / "r"),
                                 sinterc=str(fake))
    assert res.status == "sinter-error"
    assert "unsupported operator Relu" in res.summary()
    readme = (tmp_path / "r" / "README.txt").read_text()
    assert "failed command" in readme
    assert (tmp_path / "r" / "oracle" / "y.npy").exists()


def test_bfloat16_models_use_the_reference_evaluator():
    import ml_dtypes
    x = helper.make_tensor_value_info("x", TensorProto.BFLOAT16, [2])
    y = helper.make_tensor_value_info("y", TensorProto.BFLOAT16, [2])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "b", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    outs, oracle = differential.run_oracle(m, {"x": np.array([-1, 2], ml_dtypes.bfloat16)})
    assert oracle == "onnx.reference"
    assert outs["y"].astype(np.float32).tolist() == [0.0, 2.0]
