"""Hugging Face's own Qwen3_5MoeForCausalLM exported by torch.onnx.export
(dynamo=True), as issue 6 item 3 asks: the graph another exporter writes,
for Sinter's import survey and tests.

    cd python && python3 -m sinter.models.qwen35.hf_export --config nano \
        --opsets 18 23 -o OUTDIR

Per opset: OUTDIR/qwen35_hf_<config>_op<N>.onnx, the model with our
deterministic weights (hf_check.build_hf_model), experts_implementation
"batched_mm", one input `input_ids` int64 [1, T] (static), one output, the
logits [1, T, vocab], use_cache=False. Weights are embedded unless
--external-data (then next to it as <name>.onnx.data). Also
OUTDIR/qwen35_hf_<config>_io.npz: input_ids and PyTorch's logits (f32, CPU),
and per opset a line with the node count, the op types, the file size and,
where onnxruntime is importable, ORT's max error against PyTorch.

--config micro is a config for CI only (HF_CONFIGS below): 2 layers (one
GatedDeltaNet, one attention), hidden 32, 4 experts, vocab 64, so that its
exports are a few MB and compile in seconds (test/models/hf/README.md).
--strip-metadata drops the exporter's per-node metadata (stack traces, FX
node text, name scopes: most of the file) after the export; the graph is
unchanged, ORT runs the stripped file.

Needs torch >= 2.6 (dynamo exporter), transformers 5.x, onnx, onnxscript.
"""

import argparse
import collections
import dataclasses
import os
import sys
import traceback

import numpy as np

from . import hf_check, reference
from .configs import CONFIGS, Config


@dataclasses.dataclass(frozen=True)
class HfConfig(Config):
    """A Config whose full-attention layers come every `attention_every`
    layers, so that two layers hold both kinds."""
    attention_every: int = 4

    def is_attention(self, i):
        return (i + 1) % self.attention_every == 0


# Exports small enough to commit (test/models/hf): layer 0 GatedDeltaNet
# (2 key / 4 value heads of 8, so q/k are repeated onto the value heads),
# layer 1 attention (2 query heads, 1 KV head of 16, 4 dims rotated).
MICRO = HfConfig("micro", hidden=32, layers=2, vocab=64, attn_heads=2, kv_heads=1,
                 head_dim=16, gdn_k_heads=2, gdn_v_heads=4, gdn_head_dim=8, experts=4,
                 top_k=2, expert_inter=8, shared_inter=8, attention_every=2)
HF_CONFIGS = {**CONFIGS, MICRO.name: MICRO}


def strip_metadata(path):
    """Drops every node's metadata_props and doc_string (and the graph's
    value_info metadata) in place; returns the size before."""
    import onnx
    before = os.path.getsize(path)
    m = onnx.load(path, load_external_data=False)

    def strip(graph):
        for n in graph.node:
            del n.metadata_props[:]
            n.doc_string = ""
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    strip(a.g)
        for v in list(graph.value_info) + list(graph.input) + list(graph.output):
            del v.metadata_props[:]
        for t in graph.initializer:
            del t.metadata_props[:]

    strip(m.graph)
    onnx.save(m, path)
    return before


def export(cfg: Config, opset, out_dir, n_tokens=8, external_data=False,
           experts_implementation="batched_mm", optimize=True, strip=False):
    """Writes one .onnx; returns (path, summary dict)."""
    import onnx
    import torch

    class LogitsOnly(torch.nn.Module):
        """input_ids -> logits, no cache: the graph has one input and one output."""

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids):
            return self.model(input_ids=input_ids, use_cache=False).logits

    model = hf_check.build_hf_model(cfg, reference.init_weights(cfg), experts_implementation)
    ids = torch.as_tensor(np.asarray([hf_check.prompt(cfg, n_tokens)], np.int64))
    with torch.no_grad():
        want = LogitsOnly(model)(ids).float().numpy()
    path = os.path.join(out_dir, f"qwen35_hf_{cfg.name}_op{opset}.onnx")
    torch.onnx.export(LogitsOnly(model).eval(), (ids,), path, dynamo=True, opset_version=opset,
                      input_names=["input_ids"], output_names=["logits"],
                      external_data=external_data, optimize=optimize)
    exported_bytes = strip_metadata(path) if strip else os.path.getsize(path)
    m = onnx.load(path, load_external_data=False)
    ops = collections.Counter(n.op_type for n in m.graph.node)
    subgraph_nodes = sum(len(a.g.node) for n in m.graph.node for a in n.attribute
                         if a.type == onnx.AttributeProto.GRAPH)
    info = {"path": path, "opset": opset, "nodes": len(m.graph.node),
            "subgraph_nodes": subgraph_nodes, "functions": len(m.functions),
            "ops": dict(sorted(ops.items())), "bytes": os.path.getsize(path),
            "exported_bytes": exported_bytes,
            "ids": ids.numpy(), "logits": want}
    try:
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        got = sess.run(None, {sess.get_inputs()[0].name: ids.numpy()})[0]
        d = float(np.max(np.abs(got - want)))
        info["ort"] = f"ORT max abs {d:.2e} (rel {d / float(np.max(np.abs(want))):.2e})"
    except ImportError:
        info["ort"] = "onnxruntime not importable"
    except Exception as e:  # the export is still worth keeping for the survey
        info["ort"] = f"ORT failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
    return path, info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="nano", choices=sorted(HF_CONFIGS))
    ap.add_argument("--opsets", type=int, nargs="+", default=[18, 23])
    ap.add_argument("--tokens", type=int, default=8)
    ap.add_argument("--external-data", action="store_true")
    ap.add_argument("--no-optimize", action="store_true",
                    help="skip the exporter's ONNX optimizer (slow on these graphs)")
    ap.add_argument("--strip-metadata", action="store_true",
                    help="drop the per-node metadata (stack traces) after the export")
    ap.add_argument("-o", "--output-dir", default=".")
    args = ap.parse_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)
    cfg = HF_CONFIGS[args.config]
    rc = 0
    for opset in args.opsets:
        try:
            path, info = export(cfg, opset, args.output_dir, args.tokens, args.external_data,
                                optimize=not args.no_optimize, strip=args.strip_metadata)
        except Exception as e:
            rc = 1
            print(f"hf_export {cfg.name} opset {opset}: FAIL {type(e).__name__}: "
                  f"{str(e).strip().splitlines()[0][:300] if str(e).strip() else ''}")
            traceback.print_exc(file=sys.stderr)
            continue
        # written after each export, so a run stopped half way keeps it
        np.savez(os.path.join(args.output_dir, f"qwen35_hf_{cfg.name}_io.npz"),
                 input_ids=info.pop("ids"), logits=info.pop("logits"))
        top = ", ".join(f"{k} {v}" for k, v in sorted(info["ops"].items(),
                                                         key=lambda kv: -kv[1]))
        print(f"hf_export {cfg.name} opset {opset}: OK {os.path.basename(path)} "
              f"{info['bytes'] / 2**20:.1f} MiB (exported {info['exported_bytes'] / 2**20:.1f}), "
              f"{info['nodes']} nodes (+{info['subgraph_nodes']} "
              f"in subgraphs, {info['functions']} functions), {info['ort']}")
        print(f"  ops: {top}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
