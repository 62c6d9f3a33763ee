"""The random-graph generator: deterministic per seed, valid ONNX, shapes
that ONNX Runtime agrees with."""

import numpy as np
import onnx
import pytest

from sinter.testing import differential, randgraph


def test_same_seed_same_graph_and_inputs():
    m1, i1 = randgraph.generate(7)
    m2, i2 = randgraph.generate(7)
    assert m1.SerializeToString() == m2.SerializeToString()
    assert i1.keys() == i2.keys()
    for k in i1:
        assert np.array_equal(i1[k].view(np.uint8), i2[k].view(np.uint8))


def test_different_seeds_differ():
    graphs = {randgraph.generate(s)[0].SerializeToString() for s in range(20)}
    assert len(graphs) == 20


def test_both_dtypes_and_every_op_family_appear():
    ops, dtypes = set(), set()
    for s in range(100):
        m, _ = randgraph.generate(s)
        ops |= {n.op_type for n in m.graph.node}
        dtypes.add(m.graph.input[0].type.tensor_type.elem_type)
    assert dtypes == {onnx.TensorProto.FLOAT, onnx.TensorProto.BFLOAT16}
    for op in ("MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh",
               "Exp", "Reshape", "Transpose", "Slice", "Concat"):
        assert op in ops, op


@pytest.mark.parametrize("seed", range(40))
def test_graph_is_valid_and_declared_shapes_match_the_oracle(seed):
    model, inputs = randgraph.generate(seed)
    onnx.checker.check_model(model, full_check=True)
    used = {i for n in model.graph.node for i in n.input}
    assert all(i.name in used for i in model.graph.input)
    outs, _ = differential.run_oracle(model, inputs)
    for o in model.graph.output:
        declared = tuple(d.dim_value for d in o.type.tensor_type.shape.dim)
        assert outs[o.name].shape == declared, o.name
        assert np.isfinite(np.asarray(outs[o.name], np.float32)).all()
