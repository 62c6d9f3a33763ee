"""Large Qwen3.5-MoE graphs (bench8, full) with external-data weights that
are regenerated, byte for byte, where they are used.

bench8's bf16 weights are about 15 GB: too large to ship to the GPU machine,
and sinterc does not read external data (it records the file's size). So:

  here:  export  -> DIR/qwen35_<cfg>_decode_<form>.onnx, DIR/layout.json,
                    DIR/small.npz, and DIR/weights.bin as a sparse file of
                    the right size (no bytes written; compile against it)
  there: fill    -> writes weights.bin's real bytes: a pure function of
                    (seed, tensor name, chunk), so any machine, any number
                    of processes, gives the same bytes
         reference -> the PyTorch reference (torch_reference.TorchDecoder,
                    bf16) on the same bytes: a prompt, then the inputs of
                    one decode step as .npy and its logits

Every linear weight, the stacked experts, the embedding and lm_head are bf16
external data; norms, the conv, A_log and dt_bias are small f32 arrays
embedded in the graph (also in small.npz, for the reference).

  python3 -m sinter.models.qwen35.bench_weights export --config bench8 -o DIR
  python3 -m sinter.models.qwen35.bench_weights fill DIR [-j 16]
  python3 -m sinter.models.qwen35.bench_weights reference DIR --device cuda
"""

import argparse
import json
import os
import sys
import zlib

import numpy as np

from . import export, reference
from .configs import CONFIGS, LARGE_CONFIGS, Config

CHUNK = 1 << 24            # elements per independently seeded chunk
WEIGHTS_FILE = "weights.bin"
ALL_CONFIGS = {**CONFIGS, **LARGE_CONFIGS}


def _small(rng, shape, kind):
    if kind == "norm":
        return (0.1 * rng.standard_normal(shape)).astype(np.float32)
    if kind == "gated_norm":
        return (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
    if kind == "conv":
        return (rng.standard_normal(shape) / np.sqrt(shape[-1])).astype(np.float32)
    if kind == "A_log":
        return np.log(rng.uniform(1, 16, shape)).astype(np.float32)
    if kind == "dt_bias":
        return (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
    raise ValueError(kind)


def weights(cfg: Config, seed=None):
    """The weights dict of reference.weight_table's names and HF layouts:
    export.Ext (bf16, external) for the matrices, f32 arrays for the small
    vectors (from a generator seeded by cfg.seed: the same on every
    machine)."""
    rng = np.random.default_rng(cfg.seed if seed is None else seed)
    w = {}
    for name, shape, kind, fan_in in reference.weight_table(cfg):
        if kind in ("embed", "dense"):
            w[name] = export.Ext(shape, fan_in=fan_in)
        else:
            w[name] = _small(rng, shape, kind)
    return w


def model_name(cfg, form="opset27", seq=1):
    kind = "decode" if seq == 1 else f"prefill{seq}"
    return f"qwen35_{cfg.name}_{kind}_{form}.onnx"


def do_export(cfg: Config, out_dir, form="opset27", seq=1, seed=None, topk="TopK"):
    """Writes the graph, layout.json, small.npz and a sparse weights.bin of
    the final size (fill() writes its bytes). Returns the model's path."""
    import onnx
    os.makedirs(out_dir, exist_ok=True)
    w = weights(cfg, seed)
    model, layout = export.build_external(cfg, form, seq, w, WEIGHTS_FILE, topk)
    path = os.path.join(out_dir, model_name(cfg, form, seq))
    onnx.save(model, path)
    size = max(off + n for _, _, _, off, n, _ in layout)
    with open(os.path.join(out_dir, WEIGHTS_FILE), "wb") as f:
        f.truncate(size)
    json.dump({"config": cfg.name, "seed": cfg.seed if seed is None else seed,
               "file": WEIGHTS_FILE, "bytes": size,
               "tensors": [dict(name=n, dtype=int(d), shape=s, offset=o, bytes=b, fan_in=fi)
                           for n, d, s, o, b, fi in layout]},
              open(os.path.join(out_dir, "layout.json"), "w"), indent=0)
    np.savez(os.path.join(out_dir, "small.npz"),
             **{k: v for k, v in w.items() if not isinstance(v, export.Ext)})
    return path


def chunk_values(seed, name, fan_in, index, n):
    """bf16 bits (uint16) of elements index*CHUNK .. +n of tensor `name`:
    uniform with variance 1/fan_in, rounded to nearest even."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode()), index])
    u = rng.random(n, dtype=np.float32)
    u *= np.float32(2 * np.sqrt(3.0 / fan_in))
    u -= np.float32(np.sqrt(3.0 / fan_in))
    bits = u.view(np.uint32)
    bits += np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))
    return (bits >> 16).astype(np.uint16)


def _fill_chunk(job):
    path, seed, name, fan_in, offset, index, n = job
    data = chunk_values(seed, name, fan_in, index, n)
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data.tobytes(), offset + index * CHUNK * 2)
    finally:
        os.close(fd)
    return n


def fill(out_dir, jobs=None):
    """Writes weights.bin's bytes (every chunk seeded on its own: the bytes
    do not depend on the number of processes)."""
    lay = json.load(open(os.path.join(out_dir, "layout.json")))
    path = os.path.join(out_dir, lay["file"])
    with open(path, "ab") as f:
        if f.tell() != lay["bytes"]:
            f.truncate(lay["bytes"])
    work = []
    for t in lay["tensors"]:
        if t["dtype"] != export.BF16:
            raise ValueError(f"{t['name']}: only bf16 external weights are generated")
        total = t["bytes"] // 2
        for index in range((total + CHUNK - 1) // CHUNK):
            work.append((path, lay["seed"], t["name"], t["fan_in"], t["offset"], index,
                         min(CHUNK, total - index * CHUNK)))
    if jobs == 1:
        return sum(map(_fill_chunk, work))
    import multiprocessing
    with multiprocessing.Pool(jobs or os.cpu_count()) as pool:
        return sum(pool.imap_unordered(_fill_chunk, work, chunksize=1))


def bf16_round(x):
    """x rounded to the nearest bf16 (ties to even), as f32."""
    bits = np.ascontiguousarray(x, np.float32).view(np.uint32).copy()
    bits += np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))
    return (bits & np.uint32(0xFFFF0000)).view(np.float32)


class Bf16Linear:
    """A bf16 weight as the exported graph uses it: `w @ x` rounds x to
    bf16, multiplies (f32 accumulation) and rounds the product to bf16, as
    Cast -> MatMul(bf16) -> Cast does (and torch_reference's bf16 mode)."""

    def __init__(self, w):
        self.w = w

    def __getitem__(self, i):
        return Bf16Linear(self.w[i])

    def __matmul__(self, x):
        return bf16_round(self.w @ bf16_round(x))


def numpy_weights(out_dir, emulate_bf16=True):
    """The weights dict (HF layouts) of weights.bin and small.npz as f32
    arrays (bf16 upcast exactly): reference.Decoder runs on it; with
    emulate_bf16 the linears are Bf16Linear (the graph's bf16 rounding of
    activations). For small configs only (the whole file in memory, 2x)."""
    lay = json.load(open(os.path.join(out_dir, "layout.json")))
    raw = np.memmap(os.path.join(out_dir, lay["file"]), np.uint16, "r")
    w = {}
    for t in lay["tensors"]:
        bits = np.array(raw[t["offset"] // 2:(t["offset"] + t["bytes"]) // 2]).astype(np.uint32)
        a = (bits << 16).view(np.float32).reshape(t["shape"])
        name = t["name"]
        if name.endswith("experts.gate_up_proj") or name.endswith("experts.down_proj"):
            a = a.transpose(0, 2, 1)
        elif name != "embed_tokens.weight":
            a = a.T
        a = np.ascontiguousarray(a)
        w[name] = Bf16Linear(a) if emulate_bf16 and name != "embed_tokens.weight" else a
    small = np.load(os.path.join(out_dir, "small.npz"))
    w.update({k: small[k] for k in small.files})
    return ALL_CONFIGS[lay["config"]], w


def torch_decoder(out_dir, device="cuda", dtype="bfloat16"):
    """torch_reference.TorchDecoder on the bytes of weights.bin (HF layouts
    as views of the graph's layouts) and small.npz."""
    import torch
    from .torch_reference import TorchDecoder
    lay = json.load(open(os.path.join(out_dir, "layout.json")))
    cfg = ALL_CONFIGS[lay["config"]]
    dec = TorchDecoder(cfg, weights={}, device=device, dtype=dtype)
    raw = np.memmap(os.path.join(out_dir, lay["file"]), np.int16, "r")
    for t in lay["tensors"]:
        a = raw[t["offset"] // 2:(t["offset"] + t["bytes"]) // 2]
        x = torch.from_numpy(np.array(a)).view(torch.bfloat16).to(device).view(t["shape"])
        name = t["name"]
        if name.endswith("experts.gate_up_proj") or name.endswith("experts.down_proj"):
            x = x.transpose(1, 2)        # graph [E, in, out] -> HF [E, out, in]
        elif name != "embed_tokens.weight":
            x = x.t()                    # graph [in, out] -> HF [out, in]
        dec.w[name] = x.to(dec.dtype)
    small = np.load(os.path.join(out_dir, "small.npz"))
    for k in small.files:
        dec.w[k] = torch.as_tensor(small[k]).to(dec.device, torch.float32)
    return cfg, dec


def write_reference(out_dir, device="cuda", prompt=(11, 4242, 77, 100000, 5, 31337, 9, 2026),
                    token=1234):
    """The prompt through the reference, then one decode step: writes
    step_inputs/<name>.npy (the decode graph's inputs) and expected_logits.npy."""
    cfg, dec = torch_decoder(out_dir, device)
    _, st = dec.forward(list(prompt), 0, None)
    pos = len(prompt)
    d = os.path.join(out_dir, "step_inputs")
    os.makedirs(d, exist_ok=True)
    feeds = export.decode_feeds(token, pos, {n: v.float().cpu().numpy() for n, v in st.items()})
    for n, v in feeds.items():
        np.save(os.path.join(d, n + ".npy"), v)
    logits, _ = dec.forward([token], pos, st)
    np.save(os.path.join(out_dir, "expected_logits.npy"), logits.float().cpu().numpy()[0])
    return sorted(feeds)


def compare_logits(expected, got):
    """Max abs error relative to the largest expected logit, argmax equality,
    and how many of the expected top 10 are in the computed top 10."""
    e, g = np.asarray(expected, np.float64).ravel(), np.asarray(got, np.float64).ravel()
    rel = float(np.max(np.abs(e - g)) / max(np.max(np.abs(e)), 1e-30))
    top_e, top_g = set(np.argsort(-e)[:10]), set(np.argsort(-g)[:10])
    return dict(max_rel=rel, argmax_equal=bool(np.argmax(e) == np.argmax(g)),
                top10_overlap=len(top_e & top_g))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("--config", default="bench8", choices=sorted(ALL_CONFIGS))
    e.add_argument("--form", default="opset27", choices=sorted(export.FORMS))
    e.add_argument("--prefill", type=int, default=0, metavar="T")
    e.add_argument("-o", "--output-dir", required=True)
    e.add_argument("--topk", default="TopK", choices=("TopK", "argmax"))
    f = sub.add_parser("fill")
    f.add_argument("dir")
    f.add_argument("-j", type=int, default=None)
    r = sub.add_parser("reference")
    r.add_argument("dir")
    r.add_argument("--device", default="cuda")
    args = ap.parse_args(argv)
    if args.cmd == "export":
        cfg = ALL_CONFIGS[args.config]
        print("wrote", do_export(cfg, args.output_dir, args.form, args.prefill or 1,
                                     topk=args.topk))
    elif args.cmd == "fill":
        n = fill(args.dir, args.j)
        print(f"filled {n * 2 / 1e9:.2f} GB in {args.dir}")
    else:
        print("wrote", write_reference(args.dir, args.device))
    return 0


if __name__ == "__main__":
    sys.exit(main())
