"""Greedy generation with a compiled Qwen3.5-MoE decode graph (Python API,
sinter.compile / sinter.load; docs/python.md), feeding the present.* states
back as the next step's inputs.

    from sinter.models.qwen35 import generate
    gen = generate.Generator(sinter.compile("qwen35_nano_decode_opset27.onnx"))
    tokens, stats = gen.generate([1, 2, 3], 32)

With a compiled prefill graph of T tokens (export.build_prefill) as well,
a prompt of exactly T tokens goes through it in one call; otherwise the
prompt is fed one token at a time through the decode graph. `stats` has the
tokens/s of each phase.

    cd python && ../.venv/bin/python -m sinter.models.qwen35.generate \
        --config nano --prompt 1 2 3 -n 32 [--form decomposed] [--prefill] [--check]

(exports, compiles for the CPU, generates, prints the tokens and tokens/s;
--check compares them with reference.Decoder.generate, exit 1 if they
differ.)
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

from . import export, reference
from .configs import CONFIGS


class Generator:
    def __init__(self, decode_model, prefill_model=None):
        self.decode = decode_model
        self.prefill = prefill_model
        self._dnames = [o.name for o in decode_model.outputs]
        self.state_names = [t.name for t in decode_model.inputs
                            if t.name not in ("input_ids", "position_ids")]
        self.max_len = None
        for t in decode_model.inputs:
            if t.name.startswith("past_key."):
                self.max_len = int(t.shape[2])
        if prefill_model is not None:
            ids = next(t for t in prefill_model.inputs if t.name == "input_ids")
            self.prefill_len = int(ids.shape[1])
            self._pnames = [o.name for o in prefill_model.outputs]

    def initial_state(self):
        return {t.name: np.zeros(t.shape, t.dtype) for t in self.decode.inputs
                if t.name in self.state_names}

    def step(self, token, pos, state):
        """One decode step: (logits [vocab], next state)."""
        if self.max_len is not None and pos >= self.max_len:
            raise ValueError(f"position {pos} is past the decode graph's KV cache "
                             f"(max_len {self.max_len})")
        return export.split_outputs(self._dnames,
                                    self.decode(export.decode_feeds(token, pos, state)))

    def generate(self, prompt, n):
        """Greedy: (n new token ids, {"prompt_tokens_per_s", "decode_tokens_per_s",
        "prefill": "graph" or "decode steps"})."""
        prompt = [int(t) for t in prompt]
        if not prompt:
            raise ValueError("generate: the prompt is empty")
        st = self.initial_state()
        t0 = time.perf_counter()
        if self.prefill is not None and len(prompt) == self.prefill_len:
            logits, st = export.split_outputs(
                self._pnames, self.prefill(export.prefill_feeds(prompt, 0, st)))
            logits, how = logits[-1], "graph"
        else:
            for pos, tok in enumerate(prompt):
                logits, st = self.step(tok, pos, st)
            how = "decode steps"
        t1 = time.perf_counter()
        out = []
        for j in range(n):
            tok = int(np.argmax(logits))
            out.append(tok)
            if j + 1 < n:   # the last token's logits are not needed
                logits, st = self.step(tok, len(prompt) + j, st)
        t2 = time.perf_counter()
        return out, {"prefill": how,
                     "prompt_tokens_per_s": len(prompt) / max(t1 - t0, 1e-9),
                     "decode_tokens_per_s": max(n - 1, 0) / max(t2 - t1, 1e-9)}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Greedy generation with a compiled decode graph")
    ap.add_argument("--config", default="nano", choices=sorted(CONFIGS))
    ap.add_argument("--form", default="opset27", choices=sorted(export.FORMS))
    ap.add_argument("--prompt", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("-n", type=int, default=32)
    ap.add_argument("--prefill", action="store_true",
                    help="also compile a prefill graph of len(prompt) tokens")
    ap.add_argument("--check", action="store_true", help="compare with the numpy reference")
    args = ap.parse_args(argv)
    import onnx
    import sinter
    cfg = CONFIGS[args.config]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, f"qwen35_{cfg.name}_decode_{args.form}.onnx")
        onnx.save(export.build_decode(cfg, args.form), path)
        dec = sinter.compile(path, target="cpu", report=False)
        pre = None
        if args.prefill:
            path = os.path.join(d, f"qwen35_{cfg.name}_prefill{len(args.prompt)}_{args.form}.onnx")
            onnx.save(export.build_prefill(cfg, args.form, len(args.prompt)), path)
            pre = sinter.compile(path, target="cpu", report=False)
        toks, stats = Generator(dec, pre).generate(args.prompt, args.n)
    print("tokens:", " ".join(map(str, toks)))
    print(f"prompt ({len(args.prompt)} tokens, {stats['prefill']}): "
          f"{stats['prompt_tokens_per_s']:.1f} tokens/s; decode: "
          f"{stats['decode_tokens_per_s']:.1f} tokens/s")
    if args.check:
        want = reference.Decoder(cfg).generate(args.prompt, args.n)
        same = toks == want
        print("reference:", "equal" if same else "DIFFERENT: " + " ".join(map(str, want)))
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
