"""Qwen3.5-MoE text decoder: numpy reference, configs and ONNX exporter (issue 6)."""

from .configs import CONFIGS, NANO, TINY, Config  # noqa: F401
