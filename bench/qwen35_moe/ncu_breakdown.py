"""Per-kernel breakdown of one Sinter forward from Nsight Compute's CSV.

  ncu --clock-control none --csv --metrics gpu__time_duration.sum,dram__bytes.sum \
      ./model --no-graph ... > ncu.csv
  python3 ncu_breakdown.py ncu.csv [--bw GBPS] [--top N]

Prints one row per kernel name (launches, total us, share of the step, DRAM
bytes, % of the copy bandwidth while it runs) and the sums. ncu serializes
and replays each kernel, so the sum is the step's kernel time without launch
gaps; the CUDA-graph number of bench.py is the one to compare with PyTorch.
"""
import argparse
import collections
import csv
import re
import sys


def read(path):
    rows = collections.defaultdict(dict)   # (id, name) -> metric -> value
    with open(path, newline="") as f:
        lines = [l for l in f if l.startswith('"')]
    for r in csv.DictReader(lines):
        key = (int(r["ID"]), r["Kernel Name"])
        unit = r.get("Metric Unit", "")
        v = float(r["Metric Value"].replace(",", ""))
        scale = {"ns": 1e-3, "nsecond": 1e-3, "us": 1, "usecond": 1, "ms": 1e3, "msecond": 1e3,
                 "byte": 1, "Kbyte": 1e3, "KB": 1e3, "Mbyte": 1e6, "MB": 1e6, "Gbyte": 1e9,
                 "GB": 1e9}
        if unit not in scale:
            raise SystemExit(f"{path}: unknown unit '{unit}' of {r['Metric Name']}")
        rows[key][r["Metric Name"]] = v * scale[unit]
        rows[key]["launch"] = f"{r['Grid Size']}x{r['Block Size']}"
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--bw", type=float, default=3000.0, help="copy bandwidth, GB/s")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--exclude", default=r"^sinter_pack_",
                    help="kernels to leave out (regex; default: the weight-pack kernels, "
                    "which run once at load, not every step)")
    a = ap.parse_args()
    rows = read(a.csv)
    if a.exclude:
        rows = {k: v for k, v in rows.items() if not re.search(a.exclude, k[1])}
    agg = collections.defaultdict(lambda: [0, 0.0, 0.0, ""])
    for (_, name), m in rows.items():
        g = agg[name]
        g[3] = g[3] or m["launch"]
        g[0] += 1
        g[1] += m.get("gpu__time_duration.sum", 0.0)
        g[2] += m.get("dram__bytes.sum", 0.0)
    total_us = sum(g[1] for g in agg.values())
    total_b = sum(g[2] for g in agg.values())
    print(f"{len(rows)} launches, {len(agg)} kernels, {total_us:.1f} us kernel time, "
          f"{total_b / 1e6:.1f} MB DRAM, {total_b / (total_us * 1e-6) / 1e9 if total_us else 0:.0f} GB/s")
    print("| kernel | grid x block | launches | total us | % step | MB | % copy BW |")
    print("|---|---|---|---|---|---|---|")
    for name, (n, us, b, launch) in sorted(agg.items(), key=lambda kv: -kv[1][1])[:a.top]:
        bw = b / (us * 1e-6) / 1e9 if us else 0
        print(f"| {name[:60]} | {launch} | {n} | {us:.1f} | {100 * us / total_us:.1f} | "
              f"{b / 1e6:.2f} | {100 * bw / a.bw:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
