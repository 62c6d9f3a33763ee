"""sinter-form-expert-linears and sinter.expert_linear on a small MoE block.

The mixture-of-experts block as python/sinter/models/qwen35/export.py writes
it (router, TopK, softmax of the top-k values, MatMul over the Gather of the
[E, H, 2I] gate/up experts, silu(gate) * up, MatMul over the Gather of the
[E, I, H] down experts, weighted ReduceSum), and the same projections with
the expert indices as a graph input (so negative indices, which count from
E as in Gather, are exercised too). Each is compiled for the CPU with the
pass on and off, and both results are compared with ONNX Runtime
(differential.DIFF_TOLERANCES). With the pass on, the report shows both
expert matmuls fused and no sinter.gather left; off, both gathers stay.
"""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import sinter
from sinter.testing import compare, differential

E, K, H, I, T = 6, 2, 16, 8, 3
PASS = "sinter-form-expert-linears"


def _block(dtype, indices_input):
    rng = np.random.default_rng(7)
    np_t = np.dtype(dtype)
    onnx_t = helper.np_dtype_to_tensor_dtype(np_t)
    inits = [
        numpy_helper.from_array(rng.standard_normal((E, H, 2 * I)).astype(np_t) * 0.3, "w_gu"),
        numpy_helper.from_array(rng.standard_normal((E, I, H)).astype(np_t) * 0.3, "w_down"),
        numpy_helper.from_array(np.array([T, 1, 1, H], np.int64), "xshape"),
        numpy_helper.from_array(np.array([T, K, 1, 1], np.int64), "rwshape"),
        numpy_helper.from_array(np.array([K], np.int64), "k"),
        numpy_helper.from_array(np.array([I, I], np.int64), "split"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
    ]
    inputs = [helper.make_tensor_value_info("x", onnx_t, [T, H])]
    nodes = []
    if indices_input:
        inputs.append(helper.make_tensor_value_info("idx", TensorProto.INT64, [T, K]))
        inputs.append(helper.make_tensor_value_info("rw", onnx_t, [T, K, 1, 1]))
    else:
        inits.append(numpy_helper.from_array(rng.standard_normal((H, E)).astype(np_t), "router"))
        nodes += [
            helper.make_node("MatMul", ["x", "router"], ["logits"]),
            helper.make_node("TopK", ["logits", "k"], ["vals", "idx"], axis=-1),
            helper.make_node("Softmax", ["vals"], ["probs"], axis=-1),
            helper.make_node("Reshape", ["probs", "rwshape"], ["rw"]),
        ]
    nodes += [
        helper.make_node("Reshape", ["x", "xshape"], ["xe"]),
        helper.make_node("Gather", ["w_gu", "idx"], ["wgu_g"], axis=0),
        helper.make_node("MatMul", ["xe", "wgu_g"], ["gu"]),
        helper.make_node("Split", ["gu", "split"], ["g", "u"], axis=-1),
        helper.make_node("Sigmoid", ["g"], ["sg"]),
        helper.make_node("Mul", ["g", "sg"], ["silu"]),
        helper.make_node("Mul", ["silu", "u"], ["act"]),
        helper.make_node("Gather", ["w_down", "idx"], ["wd_g"], axis=0),
        helper.make_node("MatMul", ["act", "wd_g"], ["eo"]),
        helper.make_node("Mul", ["eo", "rw"], ["weighted"]),
        helper.make_node("ReduceSum", ["weighted", "axis1"], ["y"], keepdims=0),
    ]
    outputs = [helper.make_tensor_value_info("y", onnx_t, [T, 1, H])]
    graph = helper.make_graph(nodes, "moe_block", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.checker.check_model(model, full_check=True)
    return model


def _inputs(model, indices_input):
    rng = np.random.default_rng(3)
    x = model.graph.input[0]
    np_t = helper.tensor_dtype_to_np_dtype(x.type.tensor_type.elem_type)
    feeds = {"x": rng.standard_normal((T, H)).astype(np_t)}
    if indices_input:
        # Distinct experts per token; some spelled negative (from E).
        idx = np.array([[0, 5], [-1, 2], [3, -6]], np.int64)
        feeds["idx"] = idx
        feeds["rw"] = rng.random((T, K, 1, 1)).astype(np_t)
    return feeds


@pytest.mark.parametrize("indices_input", [False, True], ids=["topk", "indices-input"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("fuse", [True, False], ids=["pass-on", "pass-off"])
def test_moe_block_matches_ort(tmp_path, dtype, indices_input, fuse):
    model = _block(dtype, indices_input)
    path = tmp_path / "moe.onnx"
    onnx.save(model, path)
    args = [] if fuse else [f"--disable-pass={PASS}"]
    feeds = _inputs(model, indices_input)
    expected = differential.run_ort(model, feeds)
    with sinter.compile(path, args=args) as m:
        actual = m.run(feeds)
        report = m.report
    dtypes = differential.output_dtypes(model)
    expected = {k: compare.as_dtype(np.asarray(v), dtypes[k]) for k, v in expected.items()}
    problems = compare.compare_all(expected, actual, table=differential.DIFF_TOLERANCES)
    assert not problems, "\n".join(problems)

    fused = [f for f in report["fusions"] if f["pass"] == PASS and f["decision"] == "fused"]
    ops = report["ops_after_fuse"]
    if fuse:
        assert len(fused) == 2, report["fusions"]
        assert ops.get("sinter.expert_linear", 0) == 2, ops
        assert ops.get("sinter.gather", 0) == 0, ops
    else:
        assert not fused
        assert ops.get("sinter.gather", 0) == 2, ops
