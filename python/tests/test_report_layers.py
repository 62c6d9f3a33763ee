"""`sinterc --report`'s launches_per_layer (issue 6: kernels per decode step
per layer): launches are grouped by the `layers.N` in their ONNX node names,
and an op that CSE or hoisting gave another layer's name still counts in the
layer where it runs."""
import json
import subprocess

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from sinter.testing.runner import sinterc_path


def two_layer_model():
    """Two identical layers (MatMul, Relu, MatMul, a ReduceSum that CSE
    leaves with layer 0's location in both layers) and an lm_head without a
    layer name."""
    rng = np.random.default_rng(0)
    inits, nodes = [], []
    x = "x"
    for i in range(2):
        w, v = f"layers.{i}.w", f"layers.{i}.v"
        for name in (w, v):
            inits.append(numpy_helper.from_array(
                rng.standard_normal((8, 8)).astype(np.float32), name))
        nodes += [
            helper.make_node("MatMul", [x, w], [f"m{i}"], name=f"/layers.{i}/MatMul"),
            helper.make_node("Relu", [f"m{i}"], [f"q{i}"], name=f"/layers.{i}/Relu"),
            helper.make_node("MatMul", [f"q{i}", v], [f"r{i}"], name=f"/layers.{i}/MatMul_1"),
            helper.make_node("ReduceSum", [f"r{i}", "axes"], [f"s{i}"], keepdims=1,
                             name=f"/layers.{i}/ReduceSum"),
            helper.make_node("Add", [f"r{i}", f"s{i}"], [f"h{i}"], name=f"/layers.{i}/Add"),
        ]
        x = f"h{i}"
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "axes"))
    inits.append(numpy_helper.from_array(rng.standard_normal((8, 16)).astype(np.float32), "head"))
    nodes.append(helper.make_node("MatMul", [x, "head"], ["y"], name="/lm_head/MatMul"))
    g = helper.make_graph(nodes, "two_layers",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])


def test_launches_per_layer(tmp_path):
    model = tmp_path / "m.onnx"
    onnx.save(two_layer_model(), model)
    report = tmp_path / "r.json"
    subprocess.run([sinterc_path(), str(model), "--target=cuda", "--emit=ptx",
                    "-o", str(tmp_path / "m.ptx"), f"--report={report}"], check=True)
    r = json.loads(report.read_text())
    per = {e["layer"]: e["launches"] for e in r["launches_per_layer"]}
    total = r["ops_after_codegen"]["gpu.launch_func"]
    assert sum(per.values()) == total
    # Both layers are the same ops, so the same launches; lm_head is "other".
    assert per["layers.0"] == per["layers.1"] > 0, per
    assert per.get("other", 0) >= 1, per
    assert set(per) <= {"layers.0", "layers.1", "other"}, per
    # Compile time per phase is reported.
    secs = r["compile_seconds"]
    assert secs["total"] >= secs["codegen"] > 0
