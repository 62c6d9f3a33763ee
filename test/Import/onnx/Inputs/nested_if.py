"""Writes a model whose If nodes nest DEPTH subgraphs deep (then_branch
inside then_branch ...), as protobuf (.onnx) or ONNX text (.onnxtxt), for the
recursion-limit tests of test/Import/onnx/errors. Standard library only: the
protobuf wire format is written by hand.

usage: nested_if.py DEPTH OUT.onnx|OUT.onnxtxt
"""
import sys

sys.setrecursionlimit(20000)


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):
    if isinstance(payload, int):
        return varint(num << 3) + varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def graph(depth):
    # GraphProto: node = 1, name = 2, input = 11, output = 12 (ValueInfo name = 1)
    out = field(12, field(1, "y%d" % depth))
    if depth == 0:
        return field(2, "leaf") + out
    # AttributeProto: name = 1, g = 6, type = 20 (GRAPH = 5)
    attr = field(1, "then_branch") + field(6, graph(depth - 1)) + field(20, 5)
    # NodeProto: input = 1, output = 2, op_type = 4, attribute = 5
    node = field(1, "c") + field(2, "y%d" % depth) + field(4, "If") + field(5, attr)
    return field(1, node) + field(2, "g%d" % depth) + field(11, field(1, "c")) + out


def text(depth):
    body = "y0 = Identity(c)"
    for d in range(1, depth + 1):
        body = "y%d = If(c) <then_branch = g%d () => (bool y%d) { %s }>" % (
            d, d, d - 1, body)
    return ('<ir_version: 8, opset_import: ["" : 18]>\n'
            "main (bool c) => (bool y%d) {\n  %s\n}\n" % (depth, body))


depth, path = int(sys.argv[1]), sys.argv[2]
if path.endswith(".onnxtxt"):
    open(path, "w").write(text(depth))
else:
    # ModelProto: ir_version = 1, graph = 7, opset_import = 8 (version = 2)
    model = field(1, 8) + field(8, field(2, 18)) + field(7, graph(depth))
    open(path, "wb").write(model)
