"""Writes examples/tiny_decoder.onnx: one small pre-norm decoder block.

The graph is spelled the way exporters (torch.onnx) write a Llama-style
block, so that the graph phase has real decompositions to recognize:

  x [1, 8, 64] f32
  h  = RMSNorm(x)         Pow, ReduceMean, Add(eps), Sqrt, Div(1, .), Mul, Mul(w)
  q, k, v = h @ Wq, h @ Wk, h @ Wv             (MatMul against [64, 64])
  4 heads of 16: Reshape + Transpose to [1, 4, 8, 16]
  s  = (q @ k^T) * 1/sqrt(16)
  s  = Where(causal_mask, s, -inf)             (bool [1, 1, 8, 8] constant)
  a  = Softmax(s, axis=-1) @ v, back to [1, 8, 64], @ Wo
  x1 = x + a
  h  = RMSNorm(x1)
  m  = (g * Sigmoid(g)) * (h @ Wu) @ Wd,  g = h @ Wg   (SiLU written out)
  y  = x1 + m             [1, 8, 64] f32

Standard ONNX, opset 18, static shapes, initializers stored inline. The
weights come from a fixed numpy seed, so the file is the same on every run
(`--check` compares a fresh build with the checked-in file).

  .venv/bin/python python/sinter/models/tiny_decoder.py [-o examples/tiny_decoder.onnx]
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18
BATCH, SEQ, HIDDEN, HEADS, FFN = 1, 8, 64, 4, 128
HEAD_DIM = HIDDEN // HEADS
EPS = 1e-6
SEED = 20250601


class Graph:
    """Collects nodes and initializers; names nodes the way exporters do."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], {}

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, scope, out=None, **attrs):
        n = self.count.get((scope, op_type), 0)
        self.count[(scope, op_type)] = n + 1
        name = f"/{scope}/{op_type}" + (f"_{n}" if n else "")
        out = out or name + "_output_0"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out


def rms_norm(g, x, weight, scope):
    sq = g.op("Pow", [x, "two"], scope)
    var = g.op("ReduceMean", [sq, "last_axis"], scope, keepdims=1)
    var = g.op("Add", [var, "eps"], scope)
    rstd = g.op("Div", ["one", g.op("Sqrt", [var], scope)], scope)
    return g.op("Mul", [g.op("Mul", [x, rstd], scope), weight], scope)


def build():
    rng = np.random.default_rng(SEED)

    def weight(*shape):
        return (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)

    g = Graph()
    g.const("two", np.array(2.0, np.float32))
    g.const("one", np.array(1.0, np.float32))
    g.const("eps", np.array(EPS, np.float32))
    g.const("last_axis", np.array([-1], np.int64))
    g.const("heads_shape", np.array([BATCH, SEQ, HEADS, HEAD_DIM], np.int64))
    g.const("hidden_shape", np.array([BATCH, SEQ, HIDDEN], np.int64))
    g.const("scale", np.array(1.0 / np.sqrt(HEAD_DIM), np.float32))
    g.const("neg_inf", np.array(-np.inf, np.float32))
    g.const("causal_mask", np.tril(np.ones((SEQ, SEQ), bool)).reshape(1, 1, SEQ, SEQ))
    g.const("input_norm.weight", (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32))
    for name in ("q", "k", "v", "o"):
        g.const(f"attn.{name}_proj.weight", weight(HIDDEN, HIDDEN))
    g.const("post_norm.weight", (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32))
    g.const("mlp.gate_proj.weight", weight(HIDDEN, FFN))
    g.const("mlp.up_proj.weight", weight(HIDDEN, FFN))
    g.const("mlp.down_proj.weight", weight(FFN, HIDDEN))

    # Attention.
    h = rms_norm(g, "x", "input_norm.weight", "input_norm")
    s = "attn"
    q, k, v = (g.op("MatMul", [h, f"attn.{n}_proj.weight"], s) for n in "qkv")
    q, k, v = (g.op("Reshape", [t, "heads_shape"], s) for t in (q, k, v))
    q = g.op("Transpose", [q], s, perm=[0, 2, 1, 3])
    k = g.op("Transpose", [k], s, perm=[0, 2, 3, 1])
    v = g.op("Transpose", [v], s, perm=[0, 2, 1, 3])
    scores = g.op("Mul", [g.op("MatMul", [q, k], s), "scale"], s)
    scores = g.op("Where", ["causal_mask", scores, "neg_inf"], s)
    probs = g.op("Softmax", [scores], s, axis=-1)
    a = g.op("Transpose", [g.op("MatMul", [probs, v], s)], s, perm=[0, 2, 1, 3])
    a = g.op("MatMul", [g.op("Reshape", [a, "hidden_shape"], s), "attn.o_proj.weight"], s)
    x1 = g.op("Add", ["x", a], "residual")

    # Gated MLP with SiLU written out.
    h = rms_norm(g, x1, "post_norm.weight", "post_norm")
    s = "mlp"
    gate = g.op("MatMul", [h, "mlp.gate_proj.weight"], s)
    up = g.op("MatMul", [h, "mlp.up_proj.weight"], s)
    act = g.op("Mul", [gate, g.op("Sigmoid", [gate], s)], s)
    m = g.op("MatMul", [g.op("Mul", [act, up], s), "mlp.down_proj.weight"], s)
    g.op("Add", [x1, m], "residual", out="y")

    shape = [BATCH, SEQ, HIDDEN]
    graph = helper.make_graph(
        g.nodes, "tiny_decoder",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        initializer=g.inits)
    model = helper.make_model(graph, producer_name="sinter tiny_decoder.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # opset 18's IR version; newer readers accept it
    onnx.checker.check_model(model, full_check=True)
    return model


def reference(model, x):
    """The model's output for input x, from ONNX's reference evaluator."""
    from onnx.reference import ReferenceEvaluator
    return ReferenceEvaluator(model).run(None, {"x": x})[0]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    ap = argparse.ArgumentParser(description="Writes the tiny decoder example model.")
    ap.add_argument("-o", "--output", default=os.path.join(root, "examples", "tiny_decoder.onnx"))
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the output file differs from a fresh build")
    args = ap.parse_args()

    data = build().SerializeToString()
    if args.check:
        with open(args.output, "rb") as f:
            same = f.read() == data
        print(f"{args.output}: {'up to date' if same else 'DIFFERS from the generator'}")
        return 0 if same else 1
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"wrote {args.output} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
