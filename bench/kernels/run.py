"""Times this bundle's Sinter executables against torch on one GPU and
prints one table (docs/benchmarks.md). Needs python3 with torch and numpy,
and the NVIDIA driver; no LLVM, MLIR or sinterc.

  bash run.sh [--iters N] [--only REGEX] [--keep]

Per case: inputs drawn here (same bytes for both), the Sinter executable run
once with `--bench-stream N` (N forwards back to back, one wait; its output
is the first forward's) and compared with torch's result; torch timed on
the same inputs as a CUDA graph of 20 calls replayed back to back (CUDA
events). The device copy bandwidth is measured in the same run: a 1 GiB
device-to-device copy, (read + write bytes) / time. "% copy BW" is the
bytes a case must move at least (weights, inputs, outputs once) over its
time, as a fraction of that; "% torch" is torch's time over Sinter's.
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

dev = torch.device("cuda")


def save_bf16(path, t):
    """bf16 .npy as the driver reads it (2-byte void, like ml_dtypes)."""
    a = t.detach().contiguous().view(torch.int16).cpu().numpy().view(np.uint16)
    np.save(path, a.view("V2"), allow_pickle=False)


def load_bf16(path):
    a = np.load(path)
    return torch.from_numpy(np.ascontiguousarray(a).view(np.int16)).view(torch.bfloat16)


def time_torch(fn, iters):
    """ms per call: a CUDA graph of 20 calls replayed back to back."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(20):
            fn()
    reps = max(1, iters // 20)
    best = math.inf
    for _ in range(3):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(reps):
            g.replay()
        b.record()
        b.synchronize()
        best = min(best, a.elapsed_time(b) / (reps * 20))
    return best


def copy_bandwidth():
    n = 1 << 30
    x = torch.empty(n, dtype=torch.uint8, device=dev)
    y = torch.empty_like(x)
    ms = time_torch(lambda: y.copy_(x), 100)
    del x, y
    return 2 * n / (ms * 1e-3)


def case_tensors(c, gen):
    def rnd(*shape, scale=1.0):
        return (torch.randn(*shape, generator=gen, device=dev) * scale).to(torch.bfloat16)
    if c["kind"] == "linear":
        m, k, n = c["m"], c["k"], c["n"]
        x, w = rnd(m, k), rnd(n, k, scale=k ** -0.5)
        ins = {"x": x, "w": w}
        return ins, (lambda: F.linear(x, w)), 2 * (m * k + n * k + m * n)
    if c["kind"] == "gated":
        m, k, n = c["m"], c["k"], c["n"]
        g, u, w = rnd(m, k), rnd(m, k), rnd(n, k, scale=k ** -0.5)
        ins = {"gate": g, "up": u, "w": w}
        return ins, (lambda: F.linear(F.silu(g) * u, w)), 2 * (2 * m * k + n * k + m * n)
    ch, t, k = c["c"], c["t"], c["k"]
    x, w = rnd(1, ch, t), rnd(ch, 1, k, scale=0.5)
    ins = {"x": x, "w": w}
    return ins, (lambda: F.conv1d(F.pad(x, (k - 1, 0)), w, groups=ch)), 2 * (2 * ch * t + ch * k)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--only", default="")
    ap.add_argument("--keep", action="store_true", help="keep the input files")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    os.chdir(here)
    cases = json.load(open("manifest.json"))
    name = torch.cuda.get_device_name()
    bw = copy_bandwidth()
    l2 = getattr(torch.cuda.get_device_properties(dev), "L2_cache_size", 50 << 20)
    print(f"GPU: {name}; device copy bandwidth {bw / 1e9:.0f} GB/s (1 GiB D2D copy); "
          f"L2 {l2 >> 20} MiB")
    rows, failures = [], 0
    gen = torch.Generator(device=dev)
    for c in cases:
        if args.only and not re.search(args.only, c["name"]):
            continue
        gen.manual_seed(0)
        ins, fn, nbytes = case_tensors(c, gen)
        work = os.path.join("work", c["name"])
        os.makedirs(work, exist_ok=True)
        iters = min(args.iters, c.get("iters") or args.iters)  # slow kernels: fewer
        cmd = [os.path.join(".", c["exe"]), "--bench-stream", str(iters),
               "--output-dir", work]
        for k, t in ins.items():
            p = os.path.join(work, k + ".npy")
            save_bf16(p, t)
            cmd += ["--input", f"{k}={p}"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        sinter_ms, err = None, None
        if r.returncode != 0:
            print(f"FAIL {c['name']}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
            failures += 1
        else:
            mt = re.search(r"mean ([0-9.eE+-]+) ms", r.stdout)
            sinter_ms = float(mt.group(1)) if mt else None
            ref = fn().float().cpu()
            got = load_bf16(os.path.join(work, "y.npy")).float().reshape(ref.shape)
            err = float((got - ref).abs().max() / ref.abs().max().clamp_min(1e-6))
            if not err < 2e-2:
                print(f"FAIL {c['name']}: max error {err:.3g} of max |y|")
                failures += 1
        torch_ms = time_torch(fn, iters)
        if not args.keep:
            for k in ins:
                os.remove(os.path.join(work, k + ".npy"))
        del ins
        torch.cuda.empty_cache()
        rows.append((c["name"], sinter_ms, torch_ms, nbytes, err))
    hdr = (f"{'case':26} {'sinter us':>10} {'%copyBW':>8} {'torch us':>9} {'%copyBW':>8} "
           f"{'% torch':>8} {'max err':>8}")
    print(hdr)
    print("-" * len(hdr))
    for n, s, t, b, e in rows:
        pct = lambda ms: 100 * b / (ms * 1e-3) / bw  # noqa: E731
        sv = f"{s * 1e3:10.1f} {pct(s):7.1f}%" if s else f"{'-':>10} {'-':>8}"
        rel = f"{100 * t / s:7.1f}%" if s else f"{'-':>8}"
        ev = f"{e:8.1e}" if e is not None else f"{'-':>8}"
        # Back to back on the same buffers, data that fits in L2 stays there:
        # its "% copy BW" is not an HBM figure (marked *).
        mark = " *" if b <= l2 else ""
        print(f"{n:26} {sv} {t * 1e3:9.1f} {pct(t):7.1f}% {rel} {ev}{mark}")
    print("* the bytes moved fit in L2: repeated calls read them from L2, not HBM")
    print(f"{len(rows) - failures} cases ok, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
