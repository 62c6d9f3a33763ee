"""Qwen3.5-MoE text decoder (issue 6): configs, numpy reference (reference.py),
ONNX exporter (export.py), greedy generation with compiled graphs
(generate.py), and, where torch / transformers are installed, the PyTorch
reference (torch_reference.py), the check against HF transformers
(hf_check.py) and HF's own model through torch.onnx.export (hf_export.py).
docs/qwen35.md."""

from .configs import CONFIGS, NANO, TINY, Config  # noqa: F401
