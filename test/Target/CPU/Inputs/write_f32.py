"""Writes little-endian float32 values: as raw bytes (weights files for the
external-data tests) or as a 1-D .npy file. Standard library only.

usage: write_f32.py raw|npy OUT V0 V1 ...
"""
import struct
import sys

kind, path, *values = sys.argv[1:]
data = struct.pack("<%df" % len(values), *map(float, values))
if kind == "npy":
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % len(values)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data
open(path, "wb").write(data)
