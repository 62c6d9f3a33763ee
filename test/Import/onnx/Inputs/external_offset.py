"""Writes a model whose float[4] initializer 'W' lives in external data
'weights.bin' at the given offset (and length, when given), for the
external-data tests of test/Import/onnx/errors. Standard library only: the
protobuf wire format is written by hand.

usage: external_offset.py OFFSET [LENGTH] OUT.onnx
"""
import sys


def varint(v):
    v &= (1 << 64) - 1
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


def value_info(name):
    shape = field(2, field(1, field(1, 4)))            # [4]
    tensor = field(1, 1) + shape                       # FLOAT
    return field(1, name) + field(2, field(1, tensor))


def entry(key, value):
    return field(13, field(1, key) + field(2, value))


*args, path = sys.argv[1:]
init = field(1, 4) + field(2, 1) + field(8, "W") + entry("location", "weights.bin")
init += entry("offset", args[0])
if len(args) > 1:
    init += entry("length", args[1])
init += field(14, 1)                                   # EXTERNAL
node = field(1, "X") + field(1, "W") + field(2, "Y") + field(4, "Add")
graph = (field(1, node) + field(2, "g") + field(5, init) +
         field(11, value_info("X")) + field(12, value_info("Y")))
model = field(1, 8) + field(8, field(2, 18)) + field(7, graph)
open(path, "wb").write(model)
