"""Differential testing: runs an ONNX model in Sinter and in an oracle and
compares the outputs.

  result = run_model(model, inputs)            # oracle="auto"
  result.ok, result.problems, result.repro_dir

Sinter's side is `sinterc --target=cpu` and the executable it writes. The
oracle is ONNX Runtime's CPU provider where it has kernels for the model
(float32 and the other common types) and ONNX's reference evaluator
(onnx.reference, onnx >= 1.23) otherwise: ORT's CPU provider has no
bfloat16 arithmetic kernels (and its Python API cannot feed ml_dtypes
arrays), so models with bfloat16 inputs or outputs go to the reference
evaluator, which computes each op in float32 and rounds its result to
bfloat16 (ml_dtypes).

On a mismatch, or when Sinter fails on the model, the model, inputs and both
sides' outputs are saved to a reproducer folder with a README giving the
commands that reproduce it.

Run from the command line over generated graphs:

  .venv/bin/python -m sinter.testing.differential --seeds 0:200 [-j 2]
"""

import argparse
import concurrent.futures
import dataclasses
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import onnx

from . import compare, randgraph, runner

# Differential tolerances. Unlike node tests (one op against a float64 or
# exactly rounded answer), a random graph chains up to a dozen ops, each of
# which may round differently in Sinter and in the oracle (fused float32
# intermediates, FMA contraction, another summation order, another exp/tanh).
# The generator keeps every intermediate within about 8 in magnitude, so an
# absolute term scaled to that suffices; a wrong index, broadcast or slice
# still shows up as an error of order 1.
DIFF_TOLERANCES = {
    # Measured over seeds 0-399: the worst float32 error was 2% of this,
    # the worst bfloat16 one 21% of 2e-2 (about one bfloat16 ulp).
    np.dtype(np.float32): compare.Tolerance(rtol=1e-5, atol=1e-5),
    # 2^-8 is one bfloat16 ulp at 1; a chain may differ by a few of them
    # (the oracle rounds every op to bfloat16, Sinter keeps fused
    # intermediates in float32).
    compare.BF16: compare.Tolerance(rtol=2e-2, atol=2e-2),
    np.dtype(np.float16): compare.Tolerance(rtol=5e-3, atol=5e-3),
    np.dtype(np.float64): compare.Tolerance(rtol=1e-9, atol=1e-9),
}


@dataclasses.dataclass
class Result:
    status: str                 # "match", "mismatch", "sinter-error", "oracle-error"
    oracle: str = ""            # "onnxruntime" or "onnx.reference"
    problems: list = dataclasses.field(default_factory=list)
    sinter_outputs: dict = None
    oracle_outputs: dict = None
    repro_dir: str = None
    compile_seconds: float = 0.0
    seconds: float = 0.0
    description: str = ""

    @property
    def ok(self):
        return self.status == "match"

    def summary(self):
        s = f"{self.status} (oracle {self.oracle})"
        if self.problems:
            s += ": " + "; ".join(self.problems[:3])
        if self.repro_dir:
            s += f" [reproducer: {self.repro_dir}]"
        return s


def output_dtypes(model):
    from onnx import helper
    return {o.name: np.dtype(helper.tensor_dtype_to_np_dtype(o.type.tensor_type.elem_type))
            for o in model.graph.output}


def run_ort(model, inputs):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    names = [o.name for o in model.graph.output]
    return dict(zip(names, sess.run(names, dict(inputs))))


def run_reference(model, inputs):
    from onnx.reference import ReferenceEvaluator
    names = [o.name for o in model.graph.output]
    outs = ReferenceEvaluator(model).run(names, dict(inputs))
    return dict(zip(names, (np.asarray(o) for o in outs)))


def _has_bf16(model):
    from onnx import TensorProto
    return any(v.type.tensor_type.elem_type == TensorProto.BFLOAT16
               for v in list(model.graph.input) + list(model.graph.output))


def run_oracle(model, inputs, oracle="auto"):
    """(outputs, oracle name). 'auto': ONNX Runtime, else onnx.reference
    when ORT has no kernel for the model (bfloat16 arithmetic)."""
    if oracle == "auto" and _has_bf16(model):
        oracle = "reference"  # ORT's Python API cannot even feed bfloat16
    if oracle in ("auto", "onnxruntime"):
        try:
            return run_ort(model, inputs), "onnxruntime"
        except Exception as e:
            if oracle == "onnxruntime" or "NOT_IMPLEMENTED" not in str(e):
                raise
    return run_reference(model, inputs), "onnx.reference"


def run_sinter(model, inputs, work_dir, timeout=60, sinterc=None):
    """(outputs or None, failed Step or None, compile seconds)."""
    path = os.path.join(work_dir, "model.onnx")
    onnx.save(model, path)
    exe = os.path.join(work_dir, "model")
    c = runner.compile_model(path, exe, sinterc, timeout)
    if not c.ok:
        return None, c, c.seconds
    in_paths = runner.save_inputs(inputs, os.path.join(work_dir, "inputs"))
    out_dir = os.path.join(work_dir, "outputs")
    r = runner.run_executable(exe, in_paths, out_dir, timeout)
    if not r.ok:
        return None, r, c.seconds
    dtypes = output_dtypes(model)
    return runner.load_outputs(out_dir, dtypes, dtypes), None, c.seconds


def run_model(model, inputs, oracle="auto", repro_dir=None, tolerances=None,
              timeout=60, sinterc=None, keep_work=False):
    """Runs `model` on `inputs` (dict name -> array) in Sinter and the oracle
    and compares. On anything but a match, saves a reproducer to `repro_dir`
    (when given)."""
    start = time.monotonic()
    res = Result("match")
    work = tempfile.mkdtemp(prefix="sinter-diff-")
    try:
        try:
            res.oracle_outputs, res.oracle = run_oracle(model, inputs, oracle)
        except Exception as e:
            res.status = "oracle-error"
            res.problems = [f"oracle failed: {type(e).__name__}: {str(e)[:500]}"]
        outs, failed, res.compile_seconds = run_sinter(model, inputs, work, timeout, sinterc)
        res.sinter_outputs = outs
        if failed is not None:
            res.status = "sinter-error"
            res.problems = [f"sinter failed: {failed.why()}"] + res.problems
        elif res.status == "match":
            exp = {k: compare.as_dtype(np.asarray(v), d) for (k, v), d in
                   zip(res.oracle_outputs.items(), output_dtypes(model).values())}
            res.problems = compare.compare_all(exp, outs, table=tolerances or DIFF_TOLERANCES)
            if res.problems:
                res.status = "mismatch"
        if not res.ok and repro_dir:
            res.repro_dir = save_reproducer(repro_dir, model, inputs, res, failed)
    finally:
        if keep_work:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    res.seconds = time.monotonic() - start
    return res


def save_reproducer(folder, model, inputs, res, failed_step=None):
    """model.onnx, inputs/<i>.npy, oracle/ and sinter/ outputs, README.txt."""
    os.makedirs(folder, exist_ok=True)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    in_paths = runner.save_inputs(inputs, os.path.join(folder, "inputs"))
    for side, outs in (("oracle", res.oracle_outputs), ("sinter", res.sinter_outputs)):
        if outs:
            os.makedirs(os.path.join(folder, side), exist_ok=True)
            for name, array in outs.items():
                np.save(os.path.join(folder, side, runner.output_file_name(name)),
                        np.asarray(array), allow_pickle=False)
    args = " ".join(f"--input {n}=inputs/{os.path.basename(p)}" for n, p in in_paths.items())
    with open(os.path.join(folder, "README.txt"), "w") as f:
        f.write(f"Differential test {res.status}: Sinter vs {res.oracle or 'oracle'}\n\n")
        for p in res.problems:
            f.write(f"  {p}\n")
        if failed_step is not None:
            f.write("\nfailed command:\n  " + failed_step.command_line() + "\n")
            f.write("stderr (tail):\n")
            for line in failed_step.stderr.splitlines()[-30:]:
                f.write("  " + line + "\n")
        f.write("\nreproduce (from this folder):\n"
                f"  {runner.sinterc_path()} model.onnx --target=cpu -o model\n"
                f"  ./model {args} --output-dir out\n"
                "  # compare out/*.npy with oracle/*.npy (bfloat16 is stored as '<V2';\n"
                "  # np.load(f).view(ml_dtypes.bfloat16))\n")
    return folder


def run_seed(seed, repro_root=None, **kw):
    """Generates graph `seed` and runs it; the reproducer goes to
    repro_root/<seed>/."""
    model, inputs = randgraph.generate(seed)
    repro = os.path.join(repro_root, str(seed)) if repro_root else None
    res = run_model(model, inputs, repro_dir=repro, **kw)
    res.description = randgraph.describe(model)
    return res


def parse_seeds(spec):
    """'0:200' -> range(0, 200); '5' -> [5]; '1,7,9' -> [1, 7, 9]."""
    if ":" in spec:
        a, b = spec.split(":", 1)
        return list(range(int(a or 0), int(b)))
    return [int(s) for s in spec.split(",") if s]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m sinter.testing.differential",
                                 description="Runs random graphs in Sinter and an oracle.")
    ap.add_argument("--seeds", default="0:200", help="START:END, or a comma list (default 0:200)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--repro-dir", default=os.path.join(runner.ROOT, "build", "repro"))
    ap.add_argument("--model", help="run this .onnx model (random inputs, seed 0) instead")
    ap.add_argument("--oracle", default="auto", choices=["auto", "onnxruntime", "reference"])
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    if args.model:
        model = onnx.load(args.model)
        rng = np.random.default_rng(0)
        from onnx import helper
        inputs = {}
        inits = {i.name for i in model.graph.initializer}
        for i in model.graph.input:
            if i.name in inits:
                continue
            shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
            dt = helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type)
            inputs[i.name] = rng.uniform(-1, 1, shape).astype(np.float32).astype(dt)
        res = run_model(model, inputs, oracle=args.oracle,
                        repro_dir=os.path.join(args.repro_dir, "model"))
        print(res.summary())
        return 0 if res.ok else 1

    seeds = parse_seeds(args.seeds)
    start = time.monotonic()
    bad = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_seed, s, args.repro_dir, oracle=args.oracle): s
                   for s in seeds}
        for fut in concurrent.futures.as_completed(futures):
            seed, res = futures[fut], fut.result()
            if not res.ok:
                bad.append(seed)
                print(f"seed {seed}: {res.description}\n  {res.summary()}")
            elif args.verbose:
                print(f"seed {seed}: ok ({res.oracle}, {res.seconds:.2f} s): {res.description}")
    elapsed = time.monotonic() - start
    print(f"differential: {len(seeds)} graphs in {elapsed:.0f} s, {len(bad)} mismatches"
          + (f" (seeds {sorted(bad)}; reproducers under {args.repro_dir})" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
