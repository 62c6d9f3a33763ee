"""same_ptx.py A B: exit 0 when two PTX texts have the same instructions and
directives (comments, blank lines and whitespace runs ignored), else print
the first difference and exit 1."""
import re
import sys


def lines(path):
    out = []
    for line in open(path).read().splitlines():
        line = line.strip()
        if line and not line.startswith("//"):
            out.append(re.sub(r"\s+", " ", line))
    return out


a, b = lines(sys.argv[1]), lines(sys.argv[2])
for i, (x, y) in enumerate(zip(a, b)):
    if x != y:
        sys.exit(f"same_ptx: line {i + 1} differs:\n  {sys.argv[1]}: {x}\n  {sys.argv[2]}: {y}")
if len(a) != len(b):
    sys.exit(f"same_ptx: {len(a)} lines against {len(b)}")
