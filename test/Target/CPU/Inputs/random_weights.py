"""The values --random-weights gives a float32 weight (lib/Runtime/Weights.h,
RandomFill), computed independently of the runtime, checked against a
printed output Y = X + W (W float[n], weight index 0, rank 1: scale 1).
Standard library only.

usage: random_weights.py OUTPUT.txt SEED X0 X1 ...   (exit 1 on a mismatch)
"""
import re
import struct
import sys

M = (1 << 64) - 1


def splitmix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def values(seed, index, count, scale=1.0):
    base = splitmix((seed + 0x9E3779B97F4A7C15 * (index + 1)) & M)
    out = []
    for e in range(count):
        z = splitmix((base + (e + 1) * 0x9E3779B97F4A7C15) & M)
        # every step is exact in float32 but the last multiply
        out.append(f32((float(z >> 40) * 2.0**-23 - 1.0) * scale))
    return out


def main():
    path, seed, *xs = sys.argv[1:]
    text = open(path).read()
    got = [float(t) for t in re.findall(r"^\s+(.*)$", text, re.M)[0].split()]
    w = values(int(seed, 0), 0, len(xs))
    want = [f32(f32(float(x)) + v) for x, v in zip(xs, w)]
    bad = [(g, e) for g, e in zip(got, want) if abs(g - e) > 1e-5 * (1 + abs(e))]
    if len(got) != len(want) or bad:
        sys.exit(f"random_weights: got {got}, want {want}")
    print("random weights as expected:", " ".join("%.6g" % v for v in want))


if __name__ == "__main__":
    main()
