"""The values a compiled model's `--random-weights[=SEED]` gives a weight
(lib/Runtime/Weights.h, RandomFill; docs/runtime.md), in numpy: the tests
(python/tests/test_random_weights.py) and bench.py's GPU check compare the
runtime's fills (host and CUDA kernel) with it bit for bit.
"""

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def values(seed, index, dtype, shape):
    """Weight number `index` of the model's table (the order of
    `sinter.weights` in `sinterc --compile-to=codegen`) with `dtype`
    ('float32', 'bfloat16', 'float16', 'float64'; others are zero);
    bfloat16 values are returned as their uint16 bits."""
    n = int(np.prod(shape, dtype=np.int64))
    if dtype not in ("float32", "bfloat16", "float16", "float64"):
        return np.zeros(shape, dtype)
    with np.errstate(over="ignore"):
        base = _splitmix(np.uint64(seed) + GOLDEN * np.uint64(index + 1))
        e = np.arange(1, n + 1, dtype=np.uint64)
        z = _splitmix(base + e * GOLDEN)
    scale = np.float32(1.0)
    if len(shape) >= 2 and shape[-1] > 1:   # 1 / sqrt(last dimension), in float32
        scale = np.float32(1.0) / np.sqrt(np.float32(shape[-1]))
    v = ((z >> np.uint64(40)).astype(np.float32) * np.float32(2.0**-23) - np.float32(1.0)) * scale
    v = v.astype(np.float32).reshape(shape)
    if dtype == "bfloat16":   # as the bits (uint16): no ml_dtypes needed
        return (v.view(np.uint32) >> 16).astype(np.uint16)
    return v.astype(dtype)


def check_model(folder, stem="rw"):
    """Writes folder/stem.onnx: Y = X + W (W float32 [3, 8]) and Z = B (B
    bfloat16 [5, 16]), both in folder/stem.bin (external data), so that
    with X = 0 the outputs are the fills themselves. Returns the path."""
    import os
    import onnx
    from onnx import TensorProto as TP, helper as h, numpy_helper as nh
    w = nh.from_array(np.ones((3, 8), np.float32), "W")
    b = h.make_tensor("B", TP.BFLOAT16, [5, 16], np.zeros(80, np.uint16).tobytes(), raw=True)
    g = h.make_graph(
        [h.make_node("Add", ["X", "W"], ["Y"]), h.make_node("Identity", ["B"], ["Z"])], stem,
        [h.make_tensor_value_info("X", TP.FLOAT, [3, 8])],
        [h.make_tensor_value_info("Y", TP.FLOAT, [3, 8]),
         h.make_tensor_value_info("Z", TP.BFLOAT16, [5, 16])], [w, b])
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, stem + ".onnx")
    onnx.save_model(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), path,
                    save_as_external_data=True, all_tensors_to_one_file=True,
                    location=stem + ".bin", size_threshold=0)
    return path


def weight_names(codegen_text):
    """The weight table's names in order, from `sinterc --compile-to=codegen`."""
    import re
    table = re.search(r"sinter\.weights = \[(.*?)\]\s*[,}]", codegen_text.splitlines()[0]).group(1)
    return re.findall(r'name = "([^"]+)"', table)


def expected(seed, names):
    """check_model's outputs under --random-weights=seed: {Y, Z} (Z as uint16 bits)."""
    return {"Y": values(seed, names.index("W"), "float32", [3, 8]),
            "Z": values(seed, names.index("B"), "bfloat16", [5, 16])}
