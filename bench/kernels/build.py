#!/usr/bin/env python3
"""Builds the kernel benchmark bundle: Sinter CUDA executables of single-op
models at the shapes of docs/benchmarks.md, plus run.sh / run.py, which time
them against torch on a GPU machine (docs/benchmarks.md).

  bench/kernels/build.py [--out bench/kernels/bundle] [--gpu-arch sm_90a]
                         [--only REGEX]

Every weight is a graph *input*, not an initializer: the executables stay
a few hundred KB (the 248320x2048 bf16 weight is ~1 GB, far over what a
bundle may carry), and run.py draws inputs and weights on the GPU machine,
so torch and Sinter see the same bytes. The gated GEMV is written as sinter
IR (sinter.gated_linear with gate and up as inputs), so that its executable
is that one kernel and not the gate/up projections in front of it.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
try:
    import onnx
    from onnx import TensorProto, helper
except ImportError:
    venv = os.path.join(ROOT, ".venv", "bin", "python")
    if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(ROOT, ".venv")) \
            and os.access(venv, os.X_OK):
        os.execv(venv, [venv, os.path.abspath(__file__), *sys.argv[1:]])
    sys.exit("bench/kernels/build.py: error: onnx is needed; run scripts/setup")

BF16 = TensorProto.BFLOAT16
HERE = os.path.dirname(os.path.abspath(__file__))


def linear_model(m, k, n, bias=False, dtype=BF16):
    """y[m,n] = x[m,k] W[n,k]^T (+ b): a Gemm with transB = 1, which the
    importer turns into sinter.linear with W as it is."""
    ins = [helper.make_tensor_value_info("x", dtype, [m, k]),
           helper.make_tensor_value_info("w", dtype, [n, k])]
    args = ["x", "w"]
    if bias:
        ins.append(helper.make_tensor_value_info("b", dtype, [n]))
        args.append("b")
    node = helper.make_node("Gemm", args, ["y"], transB=1)
    g = helper.make_graph([node], "linear", ins,
                          [helper.make_tensor_value_info("y", dtype, [m, n])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def gated_mlir(m, k, n, elt="bf16", act="silu", bias=False):
    """sinter.gated_linear(gate, up, W[n,k]) with every operand an input."""
    t = lambda s: f"tensor<{s}x{elt}>"  # noqa: E731
    args = [f'%g: {t(f"{m}x{k}")} {{sinter.name = "gate"}}',
            f'%u: {t(f"{m}x{k}")} {{sinter.name = "up"}}',
            f'%w: {t(f"{n}x{k}")} {{sinter.name = "w"}}']
    operand_types = [t(f"{m}x{k}"), t(f"{m}x{k}"), t(f"{n}x{k}")]
    b = ""
    if bias:
        args.append(f'%b: {t(n)} {{sinter.name = "b"}}')
        operand_types.append(t(n))
        b = " bias %b"
    return (f"module {{\n  func.func @main({', '.join(args)}) -> "
            f'({t(f"{m}x{n}")} {{sinter.name = "y"}}) {{\n'
            f"    %0 = sinter.gated_linear %g, %u, %w{b} {{activation = "
            f"#sinter<gated_activation {act}>}} : ({', '.join(operand_types)}) -> "
            f'{t(f"{m}x{n}")}\n    return %0 : {t(f"{m}x{n}")}\n  }}\n}}\n')


def dwconv_model(c, t, k, dtype=BF16):
    """Depthwise causal conv1d: x[1,c,t], w[c,1,k], pads [k-1, 0]."""
    ins = [helper.make_tensor_value_info("x", dtype, [1, c, t]),
           helper.make_tensor_value_info("w", dtype, [c, 1, k])]
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=c, pads=[k - 1, 0],
                            kernel_shape=[k])
    g = helper.make_graph([node], "dwconv", ins,
                          [helper.make_tensor_value_info("y", dtype, [1, c, t])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


# name, kind, shape parameters, model builder. run.py knows the kinds.
CASES = [
    ("gemv_1x2048x9216", "linear", dict(m=1, k=2048, n=9216)),
    ("gemv_1x2048x12352", "linear", dict(m=1, k=2048, n=12352)),
    ("gemv_1x2048x248320", "linear", dict(m=1, k=2048, n=248320)),
    ("gated_gemv_1x1024x2048", "gated", dict(m=1, k=1024, n=2048)),
    ("gemm_512x2048x9216", "linear", dict(m=512, k=2048, n=9216, iters=10)),
    ("dwconv_8192_k4_t1", "dwconv", dict(c=8192, t=1, k=4)),
    ("dwconv_8192_k4_t512", "dwconv", dict(c=8192, t=512, k=4)),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "bundle"))
    ap.add_argument("--gpu-arch", default="sm_90a")
    ap.add_argument("--only", default="")
    ap.add_argument("--sinterc", default=os.path.join(ROOT, "build", "bin", "sinterc"))
    args = ap.parse_args()
    out = args.out
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "models"))
    os.makedirs(os.path.join(out, "bin"))
    manifest = []
    for name, kind, p in CASES:
        if args.only and not re.search(args.only, name):
            continue
        p = {"iters": 0, **p}
        if kind == "linear":
            src = os.path.join(out, "models", name + ".onnx")
            onnx.save(linear_model(p["m"], p["k"], p["n"]), src)
        elif kind == "gated":
            src = os.path.join(out, "models", name + ".mlir")
            open(src, "w").write(gated_mlir(p["m"], p["k"], p["n"]))
        else:
            src = os.path.join(out, "models", name + ".onnx")
            onnx.save(dwconv_model(p["c"], p["t"], p["k"]), src)
        exe = os.path.join("bin", name)
        r = subprocess.run([args.sinterc, src, "--target=cuda", f"--gpu-arch={args.gpu_arch}",
                            "-o", os.path.join(out, exe)], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"build.py: {name}: sinterc failed:\n{r.stderr.strip()[-800:]}",
                  file=sys.stderr)
            continue
        manifest.append({"name": name, "kind": kind, "exe": exe, **p})
        print(f"  built {name}")
    json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"), indent=1)
    shutil.copy(os.path.join(HERE, "run.py"), os.path.join(out, "run.py"))
    with open(os.path.join(out, "run.sh"), "w") as f:
        f.write('#!/usr/bin/env bash\n# Times the executables of this bundle against torch '
                '(docs/benchmarks.md).\ncd "$(dirname "$0")"\nPY=python3\n'
                'for p in /opt/torch/.venv/bin/python3 python3; do\n'
                '  if command -v $p >/dev/null && $p -c "import torch, numpy" 2>/dev/null; '
                'then PY=$p; break; fi\ndone\nexec $PY run.py "$@"\n')
    os.chmod(os.path.join(out, "run.sh"), 0o755)
    print(f"build.py: {len(manifest)} executables in {out}; on the GPU machine: bash {out}/run.sh")


if __name__ == "__main__":
    main()
