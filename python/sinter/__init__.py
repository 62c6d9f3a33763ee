"""Sinter from Python: compile an ONNX model and run it.

    import numpy as np, sinter
    model = sinter.compile("examples/tiny_decoder.onnx")
    out = model(x=np.zeros((1, 8, 64), np.float32))

See docs/python.md. The subpackages `sinter.testing` and `sinter.models`
are the test harness and model generators of the repository.
"""

from .runtime import (CompileError, InputError, Model, SinterError,
                      TensorInfo, compile, find_sinterc, load)

__all__ = ["compile", "load", "Model", "TensorInfo", "SinterError",
           "CompileError", "InputError", "find_sinterc"]
