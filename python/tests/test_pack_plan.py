"""Weight-pack plans as the runtime receives them (docs/runtime.md,
"Weights"). The CPU target applies a plan on the host, the CUDA target on
the device (strided copies and the compiler's `sinter_pack_transpose_<N>`
kernels); both read the same plan description, which these tests pin:

- the table (`sinter.packs`: axis, pieces `[op, source, offset]`) is the
  same for both targets and what the fuse phase decided;
- plans over inline sources of every layout the runtime knows (axis 0 and
  1, transposed and copied pieces, 3-D copies, 1-, 2-, 4- and 8-byte
  elements, shapes that are not multiples of the kernel's 32x32 tile) pack
  on the CPU exactly as numpy says; the same module compiled for CUDA has
  one transpose kernel per transposed element size and no other.

`pack_plan_module` also makes the GPU bundle's pack-plan models (their
expected outputs are the CPU target's).

  .venv/bin/python -m pytest python/tests/test_pack_plan.py -q
"""

import os
import re
import subprocess

import ml_dtypes
import numpy as np
import onnx
import pytest
from onnx import TensorProto as TP, helper as h, numpy_helper as nh

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SINTERC = os.environ.get("SINTERC", os.path.join(ROOT, "build", "bin", "sinterc"))

pytestmark = pytest.mark.skipif(not os.path.exists(SINTERC),
                                reason="sinterc is not built")

BF16 = np.dtype(ml_dtypes.bfloat16)
MLIR_TYPE = {np.dtype(np.float32): "f32", BF16: "bf16", np.dtype(np.int64): "i64",
             np.dtype(np.int8): "i8", np.dtype(np.float64): "f64"}

# name -> (dtype, axis, [(source shape, transpose)]): each plan's result is
# added to an input of its shape and returned, so that its bytes are the
# output's when the input is zero.
PLANS = {
    "bf16_axis0": (BF16, 0, [((70, 45), True), ((13, 70), False), ((70, 40), True)]),
    "f32_axis1": (np.dtype(np.float32), 1, [((37, 20), False), ((33, 37), True)]),
    "f32_3d_axis1": (np.dtype(np.float32), 1, [((2, 3, 5), False), ((2, 4, 5), False)]),
    "f32_big": (np.dtype(np.float32), 0, [((300, 1100), True)]),
    "i64_axis0": (np.dtype(np.int64), 0, [((40, 33), True), ((5, 40), False)]),
    "i8_axis1": (np.dtype(np.int8), 1, [((65, 7), False), ((3, 65), True)]),
}


def _sources(seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for name, (dt, axis, pieces) in PLANS.items():
        arrays = []
        for shape, _ in pieces:
            if dt.kind in "iu":
                a = rng.integers(-100, 100, shape).astype(dt)
            else:
                a = rng.standard_normal(shape).astype(np.float32).astype(dt)
            arrays.append(a)
        out[name] = arrays
    return out


def packed(name, arrays):
    """The plan's result, by numpy."""
    _, axis, pieces = PLANS[name]
    return np.concatenate([a.T if t else a for a, (_, t) in zip(arrays, pieces)], axis=axis)


def _tensor(a):
    shape = "x".join(map(str, a.shape))
    return f"tensor<{shape}x{MLIR_TYPE[a.dtype]}>"


def pack_plan_module(seed=0):
    """A graph-dialect module (sinterc reads .mlir) with one plan per entry
    of PLANS over inline sources; input `z_<name>` plus the plan's result is
    output `y_<name>`. Returns (text, {name: sources})."""
    srcs = _sources(seed)
    args, results, body, rets = [], [], [], []
    for name, arrays in srcs.items():
        _, axis, pieces = PLANS[name]
        out = packed(name, arrays)
        ty = _tensor(out)
        names = []
        offsets, off = [], 0
        for k, (a, (_, t)) in enumerate(zip(arrays, pieces)):
            v = f"%{name}_s{k}"
            body.append(f'  {v} = arith.constant dense<"0x{a.tobytes().hex().upper()}"> : {_tensor(a)}')
            names.append(v)
            offsets.append(off)
            off += (a.T if t else a).shape[axis]
        flags = ", ".join("true" if t else "false" for _, t in pieces)
        body.append(
            f"  %{name}_w = sinter.pack_weights {', '.join(names)} {{axis = {axis} : i64, "
            f"offsets = array<i64: {', '.join(map(str, offsets))}>, transpose = array<i1: {flags}>}}"
            f" : ({', '.join(_tensor(a) for a in arrays)}) -> {ty}")
        body.append(f"  %{name}_y = sinter.add %z_{name}, %{name}_w : ({ty}, {ty}) -> {ty}")
        args.append(f'%z_{name}: {ty} {{sinter.name = "z_{name}"}}')
        results.append(f'{ty} {{sinter.name = "y_{name}"}}')
        rets.append((f"%{name}_y", ty))
    text = (f"func.func @main({', '.join(args)}) -> ({', '.join(results)}) {{\n"
            + "\n".join(body) + "\n"
            + f"  return {', '.join(r for r, _ in rets)} : {', '.join(t for _, t in rets)}\n}}\n")
    return text, srcs


def sinterc(*args):
    p = subprocess.run([SINTERC, *map(str, args)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def packs_of(codegen_ir):
    """The `sinter.packs` attribute of a --compile-to=codegen dump."""
    m = re.search(r"sinter\.packs = (\[.*?\}\])", codegen_ir.splitlines()[0])
    assert m, "no sinter.packs in the module's attributes"
    return m.group(1)


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    d = tmp_path_factory.mktemp("plans")
    text, srcs = pack_plan_module()
    path = d / "plans.mlir"
    path.write_text(text)
    return d, path, srcs


def test_inline_plans_pack_on_the_cpu(plans):
    d, path, srcs = plans
    exe = d / "cpu"
    sinterc(path, "--target=cpu", "-o", exe)
    cmd = [str(exe), "--output-dir", str(d / "out")]
    for name in PLANS:
        ref = packed(name, srcs[name])
        z = d / f"z_{name}.npy"
        np.save(z, np.zeros(ref.shape, ref.dtype))
        cmd += ["--input", f"z_{name}={z}"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    for name in PLANS:
        ref = packed(name, srcs[name])
        got = np.load(d / "out" / f"y_{name}.npy")
        np.testing.assert_array_equal(got.view(ref.dtype), ref, err_msg=name)


def test_table_is_the_same_for_both_targets(plans):
    """Both runtimes read one description: the CUDA target's table is the
    CPU target's, piece for piece, as the module says."""
    _, path, _ = plans
    cpu = packs_of(sinterc(path, "--target=cpu", "--compile-to=codegen"))
    cuda = packs_of(sinterc(path, "--target=cuda", "--compile-to=codegen"))
    assert cpu == cuda
    # Plan bf16_axis0 (the first): pieces [op, source, offset] in order.
    first = re.search(r"pieces = \[(.*?)\]\}", cpu).group(1)
    ops_offsets = [(int(op), int(off)) for op, _, off in
                   re.findall(r"array<i64: (\d+), (\d+), (\d+)>", first)]
    assert ops_offsets == [(1, 0), (0, 45), (1, 58)]
    assert cpu.count("axis = 1 : i64") == 3


def test_cuda_kernels_only_for_transposed_sizes(plans, tmp_path):
    _, path, _ = plans
    ptx = tmp_path / "plans.ptx"
    sinterc(path, "--target=cuda", "--emit=ptx", "-o", ptx)
    kernels = set(re.findall(r"\.entry (sinter_pack_transpose_\d+)", ptx.read_text()))
    assert kernels == {f"sinter_pack_transpose_{n}" for n in (1, 2, 4, 8)}

    # A model whose only plan copies (two linears of one input over
    # external data, concatenated) gets none.
    rng = np.random.default_rng(0)
    g = h.make_graph(
        [h.make_node("Gemm", ["x", "wa"], ["a"], transB=1),
         h.make_node("Gemm", ["x", "wb"], ["b"], transB=1)],
        "copies", [h.make_tensor_value_info("x", TP.FLOAT, [1, 64])],
        [h.make_tensor_value_info("a", TP.FLOAT, [1, 32]),
         h.make_tensor_value_info("b", TP.FLOAT, [1, 48])],
        [nh.from_array(rng.standard_normal((32, 64)).astype(np.float32), "wa"),
         nh.from_array(rng.standard_normal((48, 64)).astype(np.float32), "wb")])
    model = tmp_path / "copies.onnx"
    onnx.save_model(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), str(model),
                    save_as_external_data=True, location="copies.bin", size_threshold=0)
    ir = sinterc(model, "--target=cuda", "--compile-to=codegen")
    assert "array<i64: 0, " in packs_of(ir) and "array<i64: 1, " not in packs_of(ir)
    sinterc(model, "--target=cuda", "--emit=ptx", "-o", tmp_path / "copies.ptx")
    assert "sinter_pack_transpose" not in (tmp_path / "copies.ptx").read_text()
