"""ONNX node-test conformance of a Sinter target (scripts/conformance).

Each test under /usr/share/libonnx-testdata/data/node/<test>/ (ONNX's backend
node tests: model.onnx plus test_data_set_*/input_*.pb and output_*.pb) is
compiled with `sinterc model.onnx --target=cpu -o EXE`; each data set is then
run through EXE and its outputs compared with the expected ones (tolerances
in compare.py, documented in docs/conformance.md). A test ends in one class:

  passed       compiled, and every data set's outputs match
  failed       anything else that is not a clean refusal, in kinds:
                 wrong answer     an output out of tolerance, or of another
                                  shape or dtype, or missing
                 runtime error    the executable exited non-zero or crashed
                 not lowered yet  the importer took the model but the target
                                  compile failed with a lowering error
                                  ("failed to legalize ..."): a gap in the
                                  lowering, never counted as passed
                 compile crash    sinterc crashed, timed out or hit an
                                  internal error
                 compile error    any other error of the target compile
                 bad test data    a data set's input contradicts the model's
                                  declared static shape (4 CastLike tests of
                                  ONNX 1.12 give 'like' shape [1] for [3,4]);
                                  kept as a failure, not hidden
  unsupported  sinterc refused cleanly: the importer's diagnostic (an
               unsupported operator, element type, a non-constant input it
               needs constant, ...), or a target diagnostic that says the op
               or type is unsupported

A wrong answer is always a failure. The last line printed is exactly
`N passed, M failed`; the unsupported count is on the line before it.
"""

import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import helper, numpy_helper

from . import compare, runner

DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"
DEFAULT_EXPECT = os.path.join(runner.ROOT, "docs", "conformance-expected.txt")
DOC_BEGIN = "<!-- BEGIN GENERATED FAILURES (scripts/conformance --update-doc) -->"
DOC_END = "<!-- END GENERATED FAILURES -->"

FAIL_KINDS = ("wrong answer", "runtime error", "not lowered yet", "compile crash",
              "compile error", "bad test data")

# "node 'n' (Op, domain 'ai.onnx', opset 13): message" -> ("Op", "message")
NODE_PREFIX = re.compile(r"^node '[^']*' \(([^,]+), domain '[^']*', opset \d+\):\s*")
# Target-side diagnostics that clearly say an op or type is not supported.
TARGET_REFUSAL = re.compile(r"\b(unsupported|not supported|does not support)\b", re.I)
LEGALIZE = re.compile(r"failed to legalize (?:operation|unresolved materialization)"
                      r"(?: '([^']+)')?")


# Refusals --freeze-input lifts: a shape-deciding input given at run time.
NEEDS_CONSTANT = re.compile(r"known at compile time|must be (a )?one-element( \w+)? "
                            r"constants?|would depend on runtime values")
INT_TYPES = {2, 3, 4, 5, 6, 7, 9, 12, 13}  # ONNX uint/int/bool element types


def normalize(message):
    """A short reason that groups equal messages of different tests."""
    m = re.search(r"unsupported operator (\S+)", message)
    if m:
        return "unsupported operator " + m.group(1).rstrip(":,;")
    m = LEGALIZE.search(message)
    if m:
        return f"failed to legalize '{m.group(1)}'" if m.group(1) else m.group(0)
    op = None
    m = NODE_PREFIX.match(message)
    if m:
        op, message = m.group(1), message[m.end():]
    message = re.sub(r"(?<!input )(?<!attribute )'[^']*'", "'_'", message)
    message = re.sub(r"tensor<[^>]*>", "tensor<_>", message)
    message = re.sub(r"\[[-\d, ]*\]", "[_]", message)
    message = re.sub(r"\b\d+(\.\d+)?(e-?\d+)?\b", "#", message)
    m = re.search(r"element type (\w+), which Sinter does not support", message)
    if m:
        message = f"element type {m.group(1)} not supported"
    message = message.split(";")[0].strip()
    if len(message) > 100:
        message = message[:97] + "..."
    return f"{op}: {message}" if op else message


def tensor_dtype(value_info):
    """numpy dtype of a graph input/output, or None when it is not a tensor."""
    t = value_info.type
    if t.WhichOneof("value") != "tensor_type":
        return None
    return np.dtype(helper.tensor_dtype_to_np_dtype(t.tensor_type.elem_type))


def static_shape(value_info):
    """The declared shape as a list of ints, or None when not fully static."""
    t = value_info.type
    if t.WhichOneof("value") != "tensor_type" or not t.tensor_type.HasField("shape"):
        return None
    dims = t.tensor_type.shape.dim
    if not all(d.HasField("dim_value") for d in dims):
        return None
    return [d.dim_value for d in dims]


def read_tensor(path, dtype=None):
    proto = onnx.TensorProto()
    with open(path, "rb") as f:
        proto.ParseFromString(f.read())
    array = numpy_helper.to_array(proto)
    return compare.as_dtype(array, dtype) if dtype is not None else array


def _datasets(test_dir):
    return sorted(glob.glob(os.path.join(test_dir, "test_data_set_*")),
                  key=lambda d: int(d.rsplit("_", 1)[1]) if d.rsplit("_", 1)[1].isdigit() else 0)


def _numbered(folder, prefix):
    files = glob.glob(os.path.join(folder, f"{prefix}_*.pb"))
    return sorted(files, key=lambda f: int(re.search(r"_(\d+)\.pb$", f).group(1)))


def run_test(test_dir, sinterc, work_root, timeout, keep=False):
    """Compiles and runs one node test; returns its result dict."""
    name = os.path.basename(test_dir)
    model_path = os.path.join(test_dir, "model.onnx")
    res = {"test": name}
    start = time.monotonic()
    work = tempfile.mkdtemp(prefix=name + ".", dir=work_root)
    try:
        _run_test(res, model_path, test_dir, sinterc, work, timeout)
    except Exception as e:  # a harness problem must not be mistaken for a pass
        res.update(status="failed", kind="runtime error",
                   reason=f"harness error: {type(e).__name__}: {e}")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            res["work_dir"] = work
    res["seconds"] = round(time.monotonic() - start, 3)
    return res


def _run_test(res, model_path, test_dir, sinterc, work, timeout):
    model = onnx.load(model_path, load_external_data=False)
    g = model.graph
    res["ops"] = sorted({n.op_type for n in g.node})
    inits = {i.name for i in g.initializer}
    in_infos = [i for i in g.input if i.name not in inits]
    out_infos = list(g.output)

    exe = os.path.join(work, "model")
    c = runner.compile_model(model_path, exe, sinterc, timeout)
    res["compile_seconds"] = round(c.seconds, 3)
    # A shape-deciding input given at run time (Reshape's shape, ...) cannot
    # compile to static shapes; such a test is compiled once per data set with
    # its integer inputs frozen to that data set's values (--freeze-input) and
    # counted as passed only if the remaining computation is right.
    freeze = not c.ok and NEEDS_CONSTANT.search(c.stderr) is not None
    if not c.ok and not freeze:
        _classify_compile_failure(res, c, model_path, sinterc, timeout)
        return

    for ds in _datasets(test_dir):
        ds_name = os.path.basename(ds)
        frozen = set()
        if freeze:
            flags = []
            for k, path in enumerate(_numbered(ds, "input")):
                if k < len(in_infos) and in_infos[k].type.tensor_type.elem_type in INT_TYPES:
                    flags.append(f"--freeze-input={in_infos[k].name}={path}")
                    frozen.add(k)
            exe = os.path.join(work, "model." + ds_name)
            c = runner.compile_model(model_path, exe, sinterc, timeout, flags)
            if not c.ok:
                _classify_compile_failure(res, c, model_path, sinterc, timeout)
                return
            res["frozen_inputs"] = sorted(in_infos[k].name for k in frozen)
        inputs = {}
        for k, path in enumerate(_numbered(ds, "input")):
            if k >= len(in_infos):
                break
            if k in frozen:
                continue
            info = in_infos[k]
            dtype = tensor_dtype(info)
            array = read_tensor(path)
            declared = static_shape(info)
            if declared is not None and declared != list(array.shape):
                res.update(status="failed", kind="bad test data",
                           reason=f"{ds_name}: input '{info.name}' has shape "
                                  f"{list(array.shape)}, the model declares {declared}")
                return
            fixed = compare.as_dtype(array, dtype) if dtype is not None else array
            if fixed is not array:  # bfloat16 stored as uint16: pass it as .npy
                path = os.path.join(work, f"{ds_name}.input_{k}.npy")
                np.save(path, fixed, allow_pickle=False)
            inputs[info.name] = path
        out_dir = os.path.join(work, ds_name)
        r = runner.run_executable(exe, inputs, out_dir, timeout)
        if not r.ok:
            res.update(status="failed", kind="runtime error",
                       reason=f"{ds_name}: {r.why()}",
                       command=r.command_line())
            return
        dtypes = {o.name: tensor_dtype(o) for o in out_infos}
        actual = runner.load_outputs(out_dir, dtypes, dtypes)
        expected = {}
        for k, path in enumerate(_numbered(ds, "output")):
            if k < len(out_infos):
                expected[out_infos[k].name] = read_tensor(path, dtypes[out_infos[k].name])
        problems = compare.compare_all(expected, actual)
        if problems and _reference_agrees(model, test_dir, ds, in_infos, actual):
            # Debian's test data is ONNX 1.12's; where onnx's current
            # reference evaluator computes what Sinter computes and not the
            # stored outputs, the data is stale. Still a failure, named so.
            res.update(status="failed", kind="bad test data",
                       reason=f"{ds_name}: the stored outputs disagree with onnx "
                              f"{onnx.__version__}'s reference evaluator, which "
                              "matches Sinter (" + "; ".join(problems[:1]) + ")")
            return
        if problems:
            res.update(status="failed", kind="wrong answer",
                       reason=f"{ds_name}: " + "; ".join(problems[:3]),
                       command=r.command_line())
            return
    res["status"] = "passed"


def _reference_agrees(model, test_dir, ds, in_infos, actual):
    """Whether onnx.reference, on this data set's inputs, computes `actual`."""
    try:
        from onnx.reference import ReferenceEvaluator
        feeds = {}
        for k, path in enumerate(_numbered(ds, "input")):
            if k < len(in_infos):
                feeds[in_infos[k].name] = read_tensor(path, tensor_dtype(in_infos[k]))
        outs = ReferenceEvaluator(model).run(None, feeds)
    except Exception:  # the reference cannot run it: no verdict
        return False
    names = [o.name for o in model.graph.output]
    ref = {n: np.asarray(v) for n, v in zip(names, outs)}
    return not compare.compare_all(ref, actual)


def _classify_compile_failure(res, c, model_path, sinterc, timeout):
    if c.crashed:
        res.update(status="failed", kind="compile crash", reason=c.why(),
                   command=c.command_line())
        return
    message = c.first_error() or c.why()
    imp = runner.import_model(model_path, sinterc, timeout)
    if imp.crashed:
        res.update(status="failed", kind="compile crash",
                   reason="import: " + imp.why(), command=imp.command_line())
    elif not imp.ok:
        msg = imp.first_error() or imp.why()
        res.update(status="unsupported", stage="import", message=msg,
                   reason=normalize(msg))
    elif LEGALIZE.search(c.stderr):
        res.update(status="failed", kind="not lowered yet",
                   reason=normalize(LEGALIZE.search(c.stderr).group(0)), message=message,
                   command=c.command_line())
    elif TARGET_REFUSAL.search(message):
        res.update(status="unsupported", stage="target", message=message,
                   reason="target: " + normalize(message))
    else:
        res.update(status="failed", kind="compile error", reason=normalize(message),
                   message=message, command=c.command_line())


def read_expected(path):
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        return {l.split("#")[0].strip() for l in f} - {""}


def write_expected(path, passing):
    with open(path, "w") as f:
        f.write("# ONNX node tests that pass on the cpu target; scripts/conformance\n"
                "# --check fails when one of them stops passing. Regenerate with\n"
                "# scripts/conformance --target=cpu --update-expected.\n")
        for t in sorted(passing):
            f.write(t + "\n")


def failure_markdown(results):
    """The generated list for docs/conformance.md: failing tests grouped by kind
    and reason, then the unsupported counts by reason."""
    failed = [r for r in results if r["status"] == "failed"]
    lines = []
    for kind in FAIL_KINDS:
        group = [r for r in failed if r["kind"] == kind]
        if not group:
            continue
        lines.append(f"### {kind} ({len(group)})\n")
        by_reason = collections.defaultdict(list)
        for r in group:
            key = r["reason"] if kind != "wrong answer" and kind != "runtime error" \
                else None
            by_reason[key].append(r)
        for key, rs in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), str(kv[0]))):
            if key is None:
                for r in sorted(rs, key=lambda r: r["test"]):
                    lines.append(f"- `{r['test']}`: {_md(r['reason'])}")
            else:
                tests = ", ".join(f"`{r['test']}`" for r in sorted(rs, key=lambda r: r["test"]))
                lines.append(f"- {_md(key)} ({len(rs)}): {tests}")
        lines.append("")
    unsup = collections.Counter(r["reason"] for r in results if r["status"] == "unsupported")
    if unsup:
        lines.append(f"### unsupported ({sum(unsup.values())}), by reason\n")
        lines.append("| tests | reason |\n|---:|---|")
        for reason, n in sorted(unsup.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"| {n} | {_md(reason)} |")
        lines.append("")
    return "\n".join(lines)


def _md(s):
    return s.replace("|", "\\|").replace("\n", " ")


def update_doc(path, results, summary_line):
    with open(path) as f:
        text = f.read()
    if DOC_BEGIN not in text or DOC_END not in text:
        raise SystemExit(f"conformance: error: {path} lacks the markers {DOC_BEGIN} "
                         f"and {DOC_END}")
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    body = f"\n\nLast run: {summary_line}.\n\n" + failure_markdown(results) + "\n"
    with open(path, "w") as f:
        f.write(head + DOC_BEGIN + body + DOC_END + tail)


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="conformance",
        description="Runs ONNX's node tests through a Sinter target and compares outputs.")
    ap.add_argument("--target", default="cpu", choices=["cpu"],
                    help="code generation target (only cpu for now)")
    ap.add_argument("--filter", default="", metavar="REGEX",
                    help="only tests whose name matches REGEX (re.search)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds per step: the compile, each run (default 30)")
    ap.add_argument("--json", metavar="FILE", help="write every result as JSON")
    ap.add_argument("--expect-file", default=DEFAULT_EXPECT, metavar="FILE",
                    help="tests expected to pass (default docs/conformance-expected.txt)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a test of the expect file no longer passes")
    ap.add_argument("--update-expected", action="store_true",
                    help="rewrite the expect file with the tests that pass now")
    ap.add_argument("--update-doc", metavar="FILE",
                    help="rewrite the generated failure list in FILE (docs/conformance.md)")
    ap.add_argument("--list", action="store_true",
                    help="print every failing and unsupported test with its reason")
    ap.add_argument("--keep", action="store_true",
                    help="keep each test's work folder (executable, outputs)")
    ap.add_argument("--sinterc", default=None, help="the sinterc to use")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help=f"folder of <test>/model.onnx (default {DEFAULT_DATA})")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sinterc = args.sinterc or runner.sinterc_path()
    if not os.access(sinterc, os.X_OK):
        sys.exit(f"conformance: error: {sinterc} not found; run scripts/build")
    pattern = re.compile(args.filter)
    tests = sorted(d for d in glob.glob(os.path.join(args.data, "*"))
                   if os.path.exists(os.path.join(d, "model.onnx"))
                   and pattern.search(os.path.basename(d)))
    if not tests:
        sys.exit(f"conformance: error: no <test>/model.onnx under {args.data} matching "
                 f"'{args.filter}' (Debian package libonnx-testdata; run scripts/setup)")

    start = time.monotonic()
    work_root = tempfile.mkdtemp(prefix="sinter-conformance-")
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(
                lambda t: run_test(t, sinterc, work_root, args.timeout, args.keep), tests))
    finally:
        if not args.keep:
            shutil.rmtree(work_root, ignore_errors=True)
    elapsed = time.monotonic() - start

    by = collections.defaultdict(list)
    for r in results:
        by[r["status"]].append(r)
    passed, failed, unsupported = by["passed"], by["failed"], by["unsupported"]
    kinds = collections.Counter(r["kind"] for r in failed)

    print(f"conformance --target={args.target}: {len(results)} node tests from "
          f"{args.data} in {elapsed:.0f} s ({args.jobs} jobs)")
    print(f"  passed       {len(passed):4d}")
    n_frozen = sum(1 for r in passed if r.get("frozen_inputs"))
    if n_frozen:
        print(f"    with shape inputs frozen to the test data {n_frozen:4d}")
    print(f"  failed       {len(failed):4d}")
    for kind in FAIL_KINDS:
        if kinds[kind]:
            print(f"    {kind:16s} {kinds[kind]:4d}")
    print(f"  unsupported  {len(unsupported):4d}")
    for stage in ("import", "target"):
        n = sum(1 for r in unsupported if r.get("stage") == stage)
        if n:
            print(f"    {'refused at ' + stage:16s} {n:4d}")

    lowering = collections.Counter(r["reason"] for r in failed
                                   if r["kind"] == "not lowered yet")
    if lowering:
        print(f"\nnot lowered yet ({sum(lowering.values())} tests; imported, but the "
              "target compile failed):")
        for reason, n in lowering.most_common():
            print(f"  {n:4d}  {reason}")
    reasons = collections.Counter(r["reason"] for r in unsupported)
    if reasons:
        print(f"\nunsupported, top reasons ({len(reasons)} distinct):")
        for reason, n in reasons.most_common(15):
            print(f"  {n:4d}  {reason}")
    other = [r for r in failed if r["kind"] != "not lowered yet"]
    if other:
        print(f"\nfailed ({len(other)}, not counting 'not lowered yet'):")
        for r in sorted(other, key=lambda r: (r["kind"], r["test"])):
            print(f"  {r['test']}: {r['kind']}: {r['reason'][:400]}")
    if args.list:
        print("\nall failing and unsupported tests:")
        for r in sorted(failed + unsupported, key=lambda r: r["test"]):
            print(f"  {r['test']}: {r.get('kind', 'unsupported')}: {r['reason'][:400]}")

    rc = 0
    now_passing = {r["test"] for r in passed}
    ran = {r["test"] for r in results}
    expected = read_expected(args.expect_file)
    if expected is not None:
        regressed = sorted((expected & ran) - now_passing)
        newly = sorted(now_passing - expected)
        if newly:
            print(f"\nnewly passing, not in {os.path.relpath(args.expect_file)} "
                  f"({len(newly)}; --update-expected adds them):")
            for t in newly:
                print(f"  {t}")
        if regressed:
            print(f"\nREGRESSIONS: {len(regressed)} expected-to-pass tests no longer pass:")
            for t in regressed:
                r = next(r for r in results if r["test"] == t)
                print(f"  {t}: {r.get('kind', r['status'])}: {r.get('reason', '')[:300]}")
            if args.check:
                rc = 1
        else:
            print(f"\nno regressions against {os.path.relpath(args.expect_file)} "
                  f"({len(expected & ran)} expected to pass)")
    elif args.check and not args.update_expected:
        print(f"conformance: error: --check needs the expect file {args.expect_file}")
        rc = 1
    if args.update_expected:
        keep = (expected or set()) - ran  # entries outside --filter stay
        write_expected(args.expect_file, keep | now_passing)
        print(f"wrote {len(keep | now_passing)} tests to {args.expect_file}")

    summary_line = f"{len(passed)} passed, {len(failed)} failed"
    if args.update_doc:
        update_doc(args.update_doc, results,
                   f"{summary_line}, {len(unsupported)} unsupported of {len(results)} "
                   f"node tests ({', '.join(f'{n} {k}' for k, n in kinds.items())})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": {"tests": len(results), "passed": len(passed),
                                   "failed": len(failed), "unsupported": len(unsupported),
                                   "failed_by_kind": dict(kinds),
                                   "seconds": round(elapsed, 1)},
                       "results": results}, f, indent=1)
            f.write("\n")
    # The last two lines are what scripts/test and CI parse.
    print(f"\n{len(unsupported)} unsupported (refused cleanly by sinterc)")
    print(summary_line)
    return rc
