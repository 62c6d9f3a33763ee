"""Seeded random ONNX graphs for differential testing.

`generate(seed)` returns (model, inputs): a valid opset-18 model with static
shapes and a dict of input arrays, the same for the same seed on every
machine (numpy's PCG64 and nothing else random). A graph is a chain, with
branches, of 3 to 10 ops drawn from

  linear       MatMul (constant or computed right operand), Gemm (transA,
               transB, alpha, beta, bias of each broadcast shape)
  elementwise  Add, Sub, Mul, Div, Max, Min (with a computed tensor or a
               constant of a broadcast shape), Relu, LeakyRelu, Sigmoid, Tanh,
               Exp, Neg, Abs, Softmax
  movement     Reshape (with -1), Transpose, Slice (negative indices, steps 2
               and -1), Concat (with itself, another tensor or a constant),
               Unsqueeze, Squeeze
  reductions   ReduceSum, ReduceMean, ReduceMax (keepdims 0 and 1)

in float32 (3 seeds in 4) or bfloat16. Values stay in safe ranges so that
float rounding, not overflow or cancellation, bounds the difference from an
oracle: inputs are uniform in [-1, 1], weights are scaled by 1/sqrt(K), Exp
only sees tensors bounded by 3, Div divides by constants of magnitude 0.5 to
2, and a tensor whose bound passes 8 is squashed by Tanh or Sigmoid first.
Dimensions are 1 to 6 (K up to 12) so that a graph compiles and runs in well
under a second.
"""

import math

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18
BF16 = np.dtype(ml_dtypes.bfloat16)
ONNX_TYPE = {np.dtype(np.float32): TensorProto.FLOAT, BF16: TensorProto.BFLOAT16}


class Value:
    def __init__(self, name, shape, bound):
        self.name, self.shape, self.bound = name, tuple(shape), bound

    @property
    def rank(self):
        return len(self.shape)


class _Builder:
    def __init__(self, rng, dtype):
        self.rng, self.dtype = rng, np.dtype(dtype)
        self.nodes, self.inits, self.inputs, self.live = [], [], [], []
        self.ops = []
        self._n = 0

    def name(self, prefix):
        self._n += 1
        return f"{prefix}{self._n}"

    def const(self, array, prefix="c"):
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(
            np.asarray(array, np.float32).astype(self.dtype), name))
        return name

    def const_i64(self, values, prefix="i"):
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(values, np.int64), name))
        return name

    def uniform(self, shape, lo=-1.0, hi=1.0):
        return self.rng.uniform(lo, hi, size=shape).astype(np.float32)

    def add_input(self, shape):
        v = Value(self.name("x"), shape, 1.0)
        self.inputs.append(v)
        self.live.append(v)
        return v

    def emit(self, op, inputs, shape, bound, **attrs):
        v = Value(self.name(op.lower() + "_"), shape, bound)
        self.nodes.append(helper.make_node(op, inputs, [v.name], name=v.name, **attrs))
        self.live.append(v)
        self.ops.append(op)
        return v

    # -- helpers ---------------------------------------------------------
    def small(self, lo=1, hi=6):
        return int(self.rng.integers(lo, hi + 1))

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def chance(self, p):
        return self.rng.random() < p

    def operand(self):
        """Mostly the newest value, so graphs are chains with some branches;
        inputs not used yet get picked early."""
        used = {i for n in self.nodes for i in n.input}
        unused = [v for v in self.inputs if v.name not in used]
        if unused and self.nodes and self.chance(0.4):
            return self.pick(unused)
        if self.chance(0.7):
            return self.live[-1]
        return self.pick(self.live)

    def squash(self, x):
        return self.emit(self.pick(["Tanh", "Sigmoid"]), [x.name], x.shape, 1.0)


def _broadcast_variant(b, shape):
    """A shape that broadcasts to `shape`: some dims 1, maybe fewer leading."""
    dims = [1 if b.chance(0.4) else d for d in shape]
    drop = int(b.rng.integers(0, len(dims) + 1)) if b.chance(0.5) else 0
    dims = dims[drop:]
    return tuple(dims) if dims or b.chance(0.5) else ()


def _unary(b, x):
    ops = ["Relu", "LeakyRelu", "Sigmoid", "Tanh", "Neg", "Abs", "Softmax"]
    if x.bound <= 3:
        ops.append("Exp")
    op = b.pick(ops)
    if op == "Exp":
        return b.emit(op, [x.name], x.shape, math.exp(x.bound))
    if op == "LeakyRelu":
        return b.emit(op, [x.name], x.shape, x.bound,
                      alpha=float(b.pick([0.01, 0.1, 0.5])))
    if op == "Softmax":
        if x.rank == 0:
            return b.emit("Relu", [x.name], x.shape, x.bound)
        return b.emit(op, [x.name], x.shape, 1.0, axis=int(b.rng.integers(-x.rank, x.rank)))
    bound = 1.0 if op in ("Sigmoid", "Tanh") else x.bound
    return b.emit(op, [x.name], x.shape, bound)


def _binary(b, x):
    op = b.pick(["Add", "Sub", "Mul", "Div", "Max", "Min"])
    if op == "Div":
        shape = _broadcast_variant(b, x.shape)
        mag = b.uniform(shape, 0.5, 2.0) * np.where(b.uniform(shape) < 0, -1, 1)
        y = Value(b.const(mag), shape, 2.0)
        bound = x.bound * 2.0
    else:
        same = [v for v in b.live if v is not x and
                _broadcasts(v.shape, x.shape)]
        if same and b.chance(0.5):
            y = b.pick(same)
        else:
            shape = _broadcast_variant(b, x.shape)
            y = Value(b.const(b.uniform(shape)), shape, 1.0)
        bound = {"Add": x.bound + y.bound, "Sub": x.bound + y.bound,
                 "Mul": x.bound * y.bound}.get(op, max(x.bound, y.bound))
    a, c = (x, y) if op == "Div" or b.chance(0.8) else (y, x)
    return b.emit(op, [a.name, c.name], np.broadcast_shapes(x.shape, y.shape), bound)


def _broadcasts(small, big):
    try:
        return np.broadcast_shapes(small, big) == tuple(big)
    except ValueError:
        return False


def _matmul(b, x):
    if x.rank < 2:
        x = _reshape(b, x, rank=2)
    k = x.shape[-1]
    n = b.small(1, 8)
    partners = [v for v in b.live if v is not x and v.rank == 2 and v.shape[0] == k]
    if partners and b.chance(0.3):
        w = b.pick(partners)
        n = w.shape[1]
    else:
        w = Value(b.const(b.uniform((k, n)) / math.sqrt(k), "w"), (k, n), 1.0 / math.sqrt(k))
    bound = x.bound * w.bound * k
    return b.emit("MatMul", [x.name, w.name], x.shape[:-1] + (n,), bound)


def _gemm(b, x):
    if x.rank != 2:
        x = _reshape(b, x, rank=2)
    trans_a = b.chance(0.3)
    m, k = (x.shape[1], x.shape[0]) if trans_a else x.shape
    n = b.small(1, 8)
    trans_b = b.chance(0.5)
    w = b.uniform((n, k) if trans_b else (k, n)) / math.sqrt(k)
    ins = [x.name, b.const(w, "w")]
    alpha = float(b.pick([1.0, 1.0, 0.5, -2.0]))
    attrs = {"transA": int(trans_a), "transB": int(trans_b), "alpha": alpha}
    bound = x.bound * math.sqrt(k) * abs(alpha)
    if b.chance(0.7):
        cshape = b.pick([(n,), (1, n), (m, n), (m, 1), ()])
        beta = float(b.pick([1.0, 1.0, 0.5]))
        ins.append(b.const(b.uniform(cshape), "bias"))
        attrs["beta"] = beta
        bound += beta
    return b.emit("Gemm", ins, (m, n), bound, **attrs)


def _factor(b, n, rank):
    """`rank` dims whose product is n."""
    dims = []
    for _ in range(rank - 1):
        divs = [d for d in range(1, n + 1) if n % d == 0 and d <= 12]
        d = b.pick(divs)
        dims.append(d)
        n //= d
    dims.append(n)
    b.rng.shuffle(dims)
    return [int(d) for d in dims]


def _reshape(b, x, rank=None):
    numel = int(np.prod(x.shape, dtype=np.int64))
    rank = rank or b.small(1, 4)
    dims = _factor(b, numel, rank)
    spec = list(dims)
    if b.chance(0.4):
        spec[int(b.rng.integers(rank))] = -1
    return b.emit("Reshape", [x.name, b.const_i64(spec, "shape")], dims, x.bound)


def _transpose(b, x):
    if x.rank < 2:
        return _reshape(b, x)
    perm = [int(p) for p in b.rng.permutation(x.rank)]
    return b.emit("Transpose", [x.name], [x.shape[p] for p in perm], x.bound, perm=perm)


def _slice(b, x):
    if x.rank == 0:
        return _reshape(b, x)
    axes = sorted(int(a) for a in b.rng.choice(x.rank, size=b.small(1, x.rank),
                                                replace=False))
    starts, ends, steps, out = [], [], [], list(x.shape)
    for a in axes:
        d = x.shape[a]
        step = int(b.pick([1, 1, 1, 2, -1]))
        if step > 0:
            s = int(b.rng.integers(0, d))
            e = int(b.rng.integers(s + 1, d + 1))
            e = b.pick([e, e - d if e < d else e, 2**62 if e == d else e])
        else:
            s = int(b.rng.integers(0, d))
            e = int(b.rng.integers(-1, s))  # exclusive; -1 = through element 0
            e = -d - 1 if e == -1 else e
        out[a] = len(range(*slice(s, e, step).indices(d)))
        starts.append(s - d if b.chance(0.3) else s)
        ends.append(e)
        steps.append(step)
    ins = [x.name, b.const_i64(starts, "starts"), b.const_i64(ends, "ends")]
    neg_axes = b.chance(0.3)
    ins.append(b.const_i64([a - x.rank if neg_axes else a for a in axes], "axes"))
    if any(s != 1 for s in steps) or b.chance(0.5):
        ins.append(b.const_i64(steps, "steps"))
    return b.emit("Slice", ins, out, x.bound)


def _concat(b, x):
    if x.rank == 0:
        return _reshape(b, x)
    axis = int(b.rng.integers(x.rank))
    others = [v for v in b.live if v.rank == x.rank and v is not x and
              all(v.shape[i] == x.shape[i] for i in range(x.rank) if i != axis)]
    parts = [x]
    for _ in range(b.small(1, 2)):
        r = b.rng.random()
        if others and r < 0.4:
            parts.append(b.pick(others))
        elif r < 0.7:
            parts.append(x)
        else:
            shape = list(x.shape)
            shape[axis] = b.small(1, 3)
            parts.append(Value(b.const(b.uniform(shape)), shape, 1.0))
    b.rng.shuffle(parts)
    shape = list(x.shape)
    shape[axis] = sum(p.shape[axis] for p in parts)
    neg = axis - x.rank if b.chance(0.3) else axis
    return b.emit("Concat", [p.name for p in parts], shape, max(p.bound for p in parts),
                  axis=neg)


def _unsqueeze_squeeze(b, x):
    ones = [i for i, d in enumerate(x.shape) if d == 1]
    if ones and b.chance(0.5):
        axes = [int(a) for a in b.rng.choice(ones, size=b.small(1, len(ones)), replace=False)]
        shape = [d for i, d in enumerate(x.shape) if i not in axes]
        return b.emit("Squeeze", [x.name, b.const_i64(sorted(axes), "axes")], shape, x.bound)
    if x.rank >= 4:
        return _reshape(b, x)
    a = int(b.rng.integers(0, x.rank + 1))
    shape = list(x.shape)
    shape.insert(a, 1)
    return b.emit("Unsqueeze", [x.name, b.const_i64([a], "axes")], shape, x.bound)


def _reduce(b, x):
    if x.rank == 0:
        return _unary(b, x)
    op = b.pick(["ReduceSum", "ReduceMean", "ReduceMax"])
    axes = sorted(int(a) for a in b.rng.choice(x.rank, size=b.small(1, x.rank),
                                                replace=False))
    keep = int(b.chance(0.5))
    shape = [1 if i in axes else d for i, d in enumerate(x.shape)] if keep else \
        [d for i, d in enumerate(x.shape) if i not in axes]
    n = int(np.prod([x.shape[a] for a in axes]))
    bound = x.bound * n if op == "ReduceSum" else x.bound
    return b.emit(op, [x.name, b.const_i64(axes, "axes")], shape, bound, keepdims=keep)


# (generator, weight)
_OPS = [(_unary, 4), (_binary, 5), (_matmul, 3), (_gemm, 1), (_reshape, 2),
        (_transpose, 2), (_slice, 2), (_concat, 2), (_unsqueeze_squeeze, 1),
        (_reduce, 1)]


def generate(seed, dtype=None, steps=None):
    """(model, inputs) for `seed`; dtype 'float32' or 'bfloat16' (default:
    chosen by the seed, bfloat16 one time in four)."""
    rng = np.random.default_rng(seed)
    if dtype is None:
        dtype = "bfloat16" if rng.random() < 0.25 else "float32"
    dtype = np.dtype(ml_dtypes.bfloat16) if str(dtype) == "bfloat16" else np.dtype(dtype)
    b = _Builder(rng, dtype)
    for _ in range(b.small(1, 3)):
        b.add_input([b.small(1, 6) for _ in range(b.small(1, 4))])
    gens, weights = zip(*_OPS)
    p = np.array(weights, float) / sum(weights)
    for _ in range(steps or b.small(3, 10)):
        x = b.operand()
        if x.bound > 8:
            x = b.squash(x)
        gens[int(rng.choice(len(gens), p=p))](b, x)
    # Every input must feed the graph: fold unused ones into the last value.
    used = {i for n in b.nodes for i in n.input}
    for v in b.inputs:
        if v.name not in used:
            r = _reduce_to_scalar(b, v)
            last = b.live[-1]
            b.emit("Add", [last.name, r.name], last.shape, last.bound + r.bound * 8)
    outputs = [b.live[-1]]
    mids = [v for v in b.live[:-1] if v not in b.inputs and v not in outputs]
    if mids and b.chance(0.3):
        outputs.append(b.pick(mids))

    et = ONNX_TYPE[dtype]
    graph = helper.make_graph(
        b.nodes, f"rand{seed}",
        [helper.make_tensor_value_info(v.name, et, v.shape) for v in b.inputs],
        [helper.make_tensor_value_info(v.name, et, v.shape) for v in outputs],
        initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="sinter.testing.randgraph")
    model.ir_version = 9
    onnx.checker.check_model(model, full_check=True)
    inputs = {v.name: b.uniform(v.shape).astype(dtype) for v in b.inputs}
    return model, inputs


def _reduce_to_scalar(b, v):
    axes = list(range(v.rank))
    if not axes:
        return v
    return b.emit("ReduceMean", [v.name, b.const_i64(axes, "axes")], (), v.bound,
                  keepdims=0)


def describe(model):
    """One line: dtype and the op sequence, for logs."""
    et = model.graph.input[0].type.tensor_type.elem_type
    return (f"{helper.tensor_dtype_to_string(et).replace('TensorProto.', '').lower()}: "
            + " ".join(n.op_type for n in model.graph.node))
