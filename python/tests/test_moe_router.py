"""sinter.moe_router (sinter-raise-moe-router) on the CPU target agrees with
ONNX: the router's two exported spellings (TopK of the logits then Softmax
of the k values, as python/sinter/models/qwen35/export.py writes it; and
Softmax, TopK, division by the sum of the k probabilities, Hugging Face's
norm_topk_prob), f32 / f16 / bf16 logits (bf16 through a widening Cast),
rows of 7 to 1024 experts, k from 1 to 16, several leading dims. Logits
with few distinct values make ties, which must go to the lower index as in
ONNX TopK. The graph phase is checked to hold the raised op (and a k = 17
router to keep its TopK). The oracle is ONNX Runtime (onnx.reference where
a tensor is bf16)."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from sinter.testing import compare, differential, runner

SINTERC = runner.sinterc_path()
pytestmark = pytest.mark.skipif(not os.path.exists(SINTERC),
                                reason=f"{SINTERC} is not built")

ONNX_T = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16,
          "bfloat16": TensorProto.BFLOAT16}


def router_model(shape, k, dtype="float32", spelling="topk_softmax"):
    """Logits [..., E] of `dtype` -> (weights, indices) [..., k]."""
    out_shape = list(shape[:-1]) + [k]
    ax = len(shape) - 1
    nodes, inits = [], [helper.make_tensor("k", TensorProto.INT64, [1], [k])]
    compute_t = ONNX_T[dtype]
    logits = "x"
    if dtype == "bfloat16":  # the Qwen3.5 export: f32 router math
        nodes.append(helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT))
        logits, compute_t = "xf", TensorProto.FLOAT
    if spelling == "topk_softmax":
        nodes += [helper.make_node("TopK", [logits, "k"], ["v", "i"], axis=-1),
                  helper.make_node("Softmax", ["v"], ["w"], axis=-1)]
    else:
        inits.append(helper.make_tensor("ax", TensorProto.INT64, [1], [ax]))
        nodes += [helper.make_node("Softmax", [logits], ["p"], axis=-1),
                  helper.make_node("TopK", ["p", "k"], ["v", "i"], axis=-1),
                  helper.make_node("ReduceSum", ["v", "ax"], ["s"], keepdims=1),
                  helper.make_node("Div", ["v", "s"], ["w"])]
    g = helper.make_graph(
        nodes, "router",
        [helper.make_tensor_value_info("x", ONNX_T[dtype], list(shape))],
        [helper.make_tensor_value_info("w", compute_t, out_shape),
         helper.make_tensor_value_info("i", TensorProto.INT64, out_shape)],
        inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])


def logits(shape, dtype, seed, distinct=9):
    rng = np.random.default_rng(seed)
    # Few distinct values: many ties among the top k.
    x = rng.integers(0, distinct, size=shape).astype(np.float32) * 0.5 - 2.0
    return x.astype(compare.BF16 if dtype == "bfloat16" else np.dtype(dtype))


CASES = [
    # shape, k, dtype, spelling
    ((1, 1, 256), 8, "bfloat16", "topk_softmax"),   # Qwen3.5 decode
    ((3, 256), 8, "float32", "topk_softmax"),
    ((2, 3, 64), 4, "float16", "topk_softmax"),
    ((4, 1024), 16, "float32", "topk_softmax"),
    ((5, 7), 7, "float32", "topk_softmax"),          # k = E, a partial warp
    ((6, 33), 1, "float32", "topk_softmax"),
    ((3, 128), 8, "float32", "softmax_topk_div"),
    ((2, 60), 6, "bfloat16", "softmax_topk_div"),
]


@pytest.mark.parametrize("shape,k,dtype,spelling", CASES,
                         ids=[f"{'x'.join(map(str, c[0]))}_k{c[1]}_{c[2]}_{c[3]}" for c in CASES])
def test_router_matches_onnx(shape, k, dtype, spelling):
    x = logits(shape, dtype, seed=sum(shape) * 7 + k)
    res = differential.run_model(router_model(shape, k, dtype, spelling), {"x": x},
                                 oracle="reference" if dtype == "bfloat16" else "onnxruntime")
    assert res.ok, res.problems


def test_router_distinct_logits():
    """Continuous logits (no ties): weights to float32 rounding."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 256)).astype(np.float32) * 3
    res = differential.run_model(router_model((8, 256), 8), {"x": x}, oracle="onnxruntime")
    assert res.ok, res.problems


def _graph(tmp_path, model):
    path = str(tmp_path / "m.onnx")
    onnx.save(model, path)
    out = str(tmp_path / "g.mlir")
    step = runner.run([SINTERC, path, "--compile-to=graph", "-o", out], 60)
    assert step.ok, step.why()
    return open(out).read()


def test_raised_in_graph_phase(tmp_path):
    g = _graph(tmp_path, router_model((1, 1, 256), 8, "bfloat16"))
    assert "sinter.moe_router" in g and "sinter.topk" not in g
    assert "sinter.softmax" not in g


def test_k17_keeps_topk(tmp_path):
    g = _graph(tmp_path, router_model((2, 256), 17))
    assert "sinter.moe_router" not in g and "sinter.topk" in g
