"""The conformance harness itself (python/sinter/testing/conformance.py), on
a few real ONNX node tests copied to a scratch data folder: a passing test
passes, a corrupted expected output is a wrong answer (never unsupported) or,
where onnx's reference evaluator sides with Sinter, bad test data (still a
failure), a refusal is unsupported, and --check catches a regression. The full run over
every node test is scripts/test's conformance layer."""

import os
import json
import shutil

import onnx
import pytest
from onnx import numpy_helper

from sinter.testing import conformance, runner

DATA = conformance.DEFAULT_DATA
PASSING = "test_relu"
UNSUPPORTED = "test_matmulinteger"


@pytest.fixture
def data(tmp_path):
    if not os.path.isdir(os.path.join(DATA, PASSING)):
        pytest.skip(f"{DATA} missing (libonnx-testdata)")
    if not os.access(runner.sinterc_path(), os.X_OK):
        pytest.fail(f"{runner.sinterc_path()} not found: build it first")
    root = tmp_path / "node"
    for t in (PASSING, UNSUPPORTED):
        shutil.copytree(os.path.join(DATA, t), root / t)
    wrong = root / "test_relu_wrong"
    shutil.copytree(os.path.join(DATA, PASSING), wrong)
    out = wrong / "test_data_set_0" / "output_0.pb"
    proto = onnx.TensorProto()
    proto.ParseFromString(out.read_bytes())
    array = numpy_helper.to_array(proto).copy()
    array.flat[0] += 1.0
    out.write_bytes(numpy_helper.from_array(array, proto.name).SerializeToString())
    return root


def run(capsys, *args):
    rc = conformance.main(list(args))
    return rc, capsys.readouterr().out


def test_classification(data, tmp_path, capsys, monkeypatch):
    # The oracle cross-check is what would call the corrupted output stale
    # data; without it the mismatch must be a wrong answer.
    monkeypatch.setattr(conformance, "_reference_agrees", lambda *a: False)
    js = tmp_path / "r.json"
    rc, out = run(capsys, "--data", str(data), "--json", str(js), "--expect-file", "")
    assert rc == 0
    lines = out.strip().splitlines()
    assert lines[-1] == "1 passed, 1 failed"
    assert lines[-2].startswith("1 unsupported")
    res = {r["test"]: r for r in json.loads(js.read_text())["results"]}
    assert res[PASSING]["status"] == "passed"
    assert res["test_relu_wrong"]["status"] == "failed"
    assert res["test_relu_wrong"]["kind"] == "wrong answer"
    assert res[UNSUPPORTED]["status"] == "unsupported"
    assert "MatMulInteger" in res[UNSUPPORTED]["reason"]


def test_stale_data_is_a_failure_named_so(data, tmp_path, capsys):
    js = tmp_path / "r.json"
    rc, out = run(capsys, "--data", str(data), "--json", str(js), "--expect-file", "")
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"
    res = {r["test"]: r for r in json.loads(js.read_text())["results"]}
    assert res["test_relu_wrong"]["status"] == "failed"
    assert res["test_relu_wrong"]["kind"] == "bad test data"
    assert "reference evaluator" in res["test_relu_wrong"]["reason"]


def test_check_fails_on_a_regression(data, tmp_path, capsys):
    expect = tmp_path / "expected.txt"
    expect.write_text(f"# comment\n{PASSING}\ntest_relu_wrong\n")
    rc, out = run(capsys, "--data", str(data), "--expect-file", str(expect), "--check")
    assert rc == 1
    assert "REGRESSIONS: 1" in out and "test_relu_wrong" in out


def test_update_expected_keeps_entries_outside_the_filter(data, tmp_path, capsys):
    expect = tmp_path / "expected.txt"
    expect.write_text("test_elsewhere\n")
    rc, out = run(capsys, "--data", str(data), "--filter", "relu", "--expect-file",
                  str(expect), "--update-expected")
    assert rc == 0 and f"  {PASSING}" in out  # listed as newly passing
    assert conformance.read_expected(str(expect)) == {"test_elsewhere", PASSING}
    rc, out = run(capsys, "--data", str(data), "--filter", "relu", "--expect-file",
                  str(expect), "--check")
    assert rc == 0 and "no regressions" in out


def test_normalize_groups_messages():
    n = conformance.normalize
    assert n("node 'a' (Foo, domain 'ai.onnx', opset 13): unsupported operator Foo") == \
        "unsupported operator Foo"
    assert n("failed to legalize operation 'sinter.max_pool' that was explicitly marked "
             "illegal") == "failed to legalize 'sinter.max_pool'"
    assert n("node 'x' (Reshape, domain 'ai.onnx', opset 14): input 'shape' must be "
             "constant") == n("node 'y' (Reshape, domain 'ai.onnx', opset 19): input "
                              "'shape' must be constant")
