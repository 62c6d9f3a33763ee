"""Writes and dumps the tensor files of the CPU-target tests, in plain Python
(the lit python may lack numpy).

  tensors.py npy  FILE DTYPE SHAPE VALUES   write a .npy file
  tensors.py pb   FILE DTYPE SHAPE VALUES [NAME] [--typed]
                                            write an ONNX TensorProto (raw_data,
                                            or the typed *_data field)
  tensors.py dump FILE                      print "DTYPE[SHAPE] v0 v1 ..."

DTYPE is a numpy name (float32, float16, bfloat16, float64, int64, int32,
int8, uint8, bool); SHAPE is "2x3" ("" for a scalar); VALUES are comma
separated.
"""
import struct
import sys

# name: (npy descr, struct code, ONNX data_type)
DTYPES = {
    "float32": ("<f4", "f", 1),
    "float16": ("<f2", "e", 10),
    "bfloat16": ("<V2", None, 16),
    "float64": ("<f8", "d", 11),
    "int64": ("<i8", "q", 7),
    "int32": ("<i4", "i", 6),
    "int16": ("<i2", "h", 5),
    "int8": ("|i1", "b", 3),
    "uint8": ("|u1", "B", 2),
    "bool": ("|b1", "?", 9),
}


def bf16_bits(v):
    (bits,) = struct.unpack("<I", struct.pack("<f", v))
    bits += 0x7FFF + ((bits >> 16) & 1)  # round to nearest even
    return (bits >> 16) & 0xFFFF


def encode(dtype, values):
    if dtype == "bfloat16":
        return b"".join(struct.pack("<H", bf16_bits(float(v))) for v in values)
    code = DTYPES[dtype][1]
    conv = float if code in "efd" else (lambda s: s not in ("0", "false", "False")) if code == "?" else int
    return b"".join(struct.pack("<" + code, conv(v)) for v in values)


def parse(argv):
    path, dtype, shape, values = argv[:4]
    dims = [int(d) for d in shape.split("x")] if shape else []
    vals = [v for v in values.split(",") if v != ""]
    return path, dtype, dims, vals


def write_npy(argv):
    path, dtype, dims, vals = parse(argv)
    shape = "(" + "".join(f"{d}, " for d in dims)
    shape = shape[:-2] + ("," if len(dims) == 1 else "") + ")" if dims else "()"
    header = f"{{'descr': '{DTYPES[dtype][0]}', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(encode(dtype, vals))


def varint(n):
    out = b""
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wire, payload):
    return varint(num << 3 | wire) + payload


def write_pb(argv):
    path, dtype, dims, vals = parse(argv)
    rest = argv[4:]
    typed = "--typed" in rest
    names = [a for a in rest if a != "--typed"]
    onnx_type = DTYPES[dtype][2]
    msg = b""
    for d in dims:  # unpacked, as some writers do
        msg += field(1, 0, varint(d))
    msg += field(2, 0, varint(onnx_type))
    if names:
        msg += field(8, 2, varint(len(names[0])) + names[0].encode())
    if not typed:
        raw = encode(dtype, vals)
        msg += field(9, 2, varint(len(raw)) + raw)
    elif dtype == "float32":
        data = encode(dtype, vals)
        msg += field(4, 2, varint(len(data)) + data)
    elif dtype == "float64":
        data = encode(dtype, vals)
        msg += field(10, 2, varint(len(data)) + data)
    elif dtype == "int64":
        data = b"".join(varint(int(v)) for v in vals)
        msg += field(7, 2, varint(len(data)) + data)
    else:  # int32_data carries the narrow types (and f16/bf16 bit patterns)
        raw = encode(dtype, vals)
        size = len(raw) // max(len(vals), 1)
        words = [int.from_bytes(raw[i:i + size], "little", signed=dtype.startswith("int"))
                 for i in range(0, len(raw), size)]
        data = b"".join(varint(w) for w in words)
        msg += field(5, 2, varint(len(data)) + data)
    with open(path, "wb") as f:
        f.write(msg)


def dump(argv):
    with open(argv[0], "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", "not a .npy file"
    (hlen,) = struct.unpack("<H", data[8:10])
    header = eval(data[10:10 + hlen].decode())  # a Python dict literal
    dtype = next(n for n, d in DTYPES.items() if d[0] == header["descr"]
                 or (n == "bfloat16" and header["descr"] in ("<V2", "|V2")))
    body = data[10 + hlen:]
    if dtype == "bfloat16":
        vals = [struct.unpack("<f", struct.pack("<I", h << 16))[0]
                for (h,) in struct.iter_unpack("<H", body)]
    else:
        vals = [v for (v,) in struct.iter_unpack("<" + DTYPES[dtype][1], body)]
    shape = "x".join(str(d) for d in header["shape"])
    text = " ".join(f"{v:.6g}" if isinstance(v, float) else str(int(v)) for v in vals)
    print(f"{dtype}[{shape}] {text}")


if __name__ == "__main__":
    {"npy": write_npy, "pb": write_pb, "dump": dump}[sys.argv[1]](sys.argv[2:])
