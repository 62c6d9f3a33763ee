"""TopK's two lowerings agree with ONNX: the rank form (rows <= 1024,
k <= 16: every element ranked against its row) and the selection rounds
(longer rows). Ties go to the lower index; values with repeated entries and
both orders (largest, smallest) exercise the total order. The oracle is
ONNX Runtime (TopK is a standard op)."""
import numpy as np
import pytest
from onnx import TensorProto, helper

from sinter.testing import differential


def topk_model(rows, n, k, largest):
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1, largest=int(largest))
    g = helper.make_graph(
        [node], "topk",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, n])],
        [helper.make_tensor_value_info("v", TensorProto.FLOAT, [rows, k]),
         helper.make_tensor_value_info("i", TensorProto.INT64, [rows, k])],
        [helper.make_tensor("k", TensorProto.INT64, [1], [k])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])


@pytest.mark.parametrize("n,k", [(256, 8), (1024, 16), (1100, 8), (7, 7)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_ort(n, k, largest):
    rng = np.random.default_rng(n * 31 + k)
    # Few distinct values: many ties, broken by the lower index.
    x = rng.integers(-4, 5, size=(3, n)).astype(np.float32)
    res = differential.run_model(topk_model(3, n, k, largest), {"x": x}, oracle="ort")
    assert res.ok, res.problems
