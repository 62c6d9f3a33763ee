"""HF transformers eager on the GPU: Qwen3_5MoeForCausalLM built from the
config of one of our Qwen3.5-MoE configurations (hf_check.hf_config; bench8
by default: the real per-layer dims, 8 layers), bf16, random weights (HF's
init; the time does not depend on the values), decode and prefill measured
the way ../shared/anchors/torch_baseline.py does: a PROMPT-token prompt,
then 8 + STEPS single-token steps with use_cache, each synchronized; the
median of the last STEPS; CUDA kernels of one step counted with
torch.profiler; prefill of PREFILL tokens without cache, median of 5.
Prints one JSON line per result (bench.py runs it).

  CONFIG=bench8 PROMPT=64 STEPS=32 PREFILL=512 python3 hf_eager.py
"""

import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
from sinter.models.qwen35.configs import LARGE_CONFIGS  # noqa: E402
from sinter.models.qwen35.hf_check import hf_config  # noqa: E402

CONFIG = os.environ.get("CONFIG", "bench8")
PROMPT = int(os.environ.get("PROMPT", "64"))
STEPS = int(os.environ.get("STEPS", "32"))
PREFILL = int(os.environ.get("PREFILL", "512"))


def emit(**kw):
    print(json.dumps(kw), flush=True)


@torch.no_grad()
def main():
    from transformers import AutoModelForCausalLM, __version__ as tv
    cfg = LARGE_CONFIGS[CONFIG]
    hc = hf_config(cfg)
    dev = torch.device("cuda")
    torch.manual_seed(0)
    t0 = time.time()
    with torch.device(dev):
        model = AutoModelForCausalLM.from_config(hc, dtype=torch.bfloat16)
    model.eval()
    emit(what="hf_init", config=CONFIG, layers=cfg.layers, transformers=tv, cls=type(model).__name__,
         experts_impl=getattr(model.config, "_experts_implementation", None),
         params=sum(p.numel() for p in model.parameters()), s=round(time.time() - t0, 1))
    fwd = model.forward
    ids = torch.randint(0, 1000, (1, PROMPT), device=dev)
    out = fwd(input_ids=ids, use_cache=True)
    cache, tok = out.past_key_values, out.logits[:, -1:].argmax(-1)
    times = []
    for _ in range(8 + STEPS):
        torch.cuda.synchronize()
        s = time.perf_counter()
        out = fwd(input_ids=tok, past_key_values=cache, use_cache=True)
        cache, tok = out.past_key_values, out.logits[:, -1:].argmax(-1)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - s)
    steady = sorted(times[8:])
    med = steady[len(steady) // 2]
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fwd(input_ids=tok, past_key_values=cache, use_cache=True)
        torch.cuda.synchronize()
    kernels = sum(1 for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA)
    emit(what="hf_eager_decode", config=CONFIG, ms_per_step=round(med * 1e3, 3),
         min_ms=round(steady[0] * 1e3, 3), kernels_per_step=kernels, prompt=PROMPT, steps=STEPS)
    del cache, out
    ids = torch.randint(0, 1000, (1, PREFILL), device=dev)
    for _ in range(2):
        fwd(input_ids=ids, use_cache=False)
    ts = []
    for _ in range(5):
        torch.cuda.synchronize()
        s = time.perf_counter()
        fwd(input_ids=ids, use_cache=False)
        torch.cuda.synchronize()
        ts.append(time.perf_counter() - s)
    emit(what="hf_eager_prefill", config=CONFIG, tokens=PREFILL, ms=round(sorted(ts)[2] * 1e3, 2))


if __name__ == "__main__":
    main()
