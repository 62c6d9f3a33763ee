"""Compiles ONNX models with `sinterc --target=cpu` and runs the executables.

Shared by the conformance run and the differential harness. Every step
returns a `Step` (exit code, stderr, seconds, and whether it timed out or
crashed) instead of raising, so callers can sort outcomes into classes.
"""

import dataclasses
import os
import re
import subprocess
import time

import numpy as np

from . import compare

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# Markers of a crash or an internal error, as opposed to a clean diagnostic.
CRASH_MARKERS = ("LLVM ERROR", "Stack dump", "internal error", "Assertion",
                 "PLEASE submit a bug report", "Segmentation fault")


def sinterc_path():
    """$SINTERC, else $SINTER_BUILD_DIR/bin/sinterc, else build/bin/sinterc."""
    if os.environ.get("SINTERC"):
        return os.environ["SINTERC"]
    build = os.environ.get("SINTER_BUILD_DIR", os.path.join(ROOT, "build"))
    if not os.path.isabs(build):
        build = os.path.join(ROOT, build)
    return os.path.join(build, "bin", "sinterc")


@dataclasses.dataclass
class Step:
    cmd: list
    rc: int = None          # None when it timed out
    stderr: str = ""
    stdout: str = ""
    seconds: float = 0.0
    timed_out: bool = False

    @property
    def ok(self):
        return self.rc == 0 and not self.crashed

    @property
    def crashed(self):
        """A signal, a time-out, an exit code other than 0/1, or a crash
        message: anything but success or a clean error."""
        if self.timed_out or self.rc is None or self.rc not in (0, 1):
            return True
        return any(m in self.stderr for m in CRASH_MARKERS)

    def first_error(self):
        """The first 'error:' diagnostic, without its location prefix."""
        for line in self.stderr.splitlines():
            i = line.find(" error: ")
            if i >= 0:
                return line[i + len(" error: "):].strip()
            if line.startswith("error: "):
                return line[len("error: "):].strip()
        return None

    def why(self):
        """One line saying how the step went wrong."""
        if self.timed_out:
            return f"timeout after {self.seconds:.0f} s"
        err = self.first_error()
        lines = [l.strip() for l in self.stderr.splitlines() if l.strip()]
        if self.rc is not None and self.rc < 0:
            head = f"signal {-self.rc}"
        elif self.crashed:
            head = f"crash (exit {self.rc})"
        else:
            head = f"exit {self.rc}"
        detail = err or next((l for l in lines if any(m in l for m in CRASH_MARKERS)),
                             lines[0] if lines else "")
        if detail.endswith(":"):  # "linking the executable failed:" and the like
            cause = next((l for l in lines if "undefined reference" in l or
                          "error:" in l and l.find(detail) < 0), None)
            if cause:
                detail += " " + cause
        return f"{head}: {detail[:300]}" if detail else head

    def command_line(self):
        return " ".join(_quote(c) for c in self.cmd)


def _quote(s):
    s = str(s)
    return s if re.fullmatch(r"[\w@%+=:,./-]+", s) else "'" + s.replace("'", "'\\''") + "'"


def run(cmd, timeout, cwd=None):
    start = time.monotonic()
    try:
        p = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, errors="replace",
                           timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return Step(cmd, None, err, "", time.monotonic() - start, True)
    return Step(cmd, p.returncode, p.stderr, p.stdout, time.monotonic() - start)


def compile_model(model_path, exe_path, sinterc=None, timeout=60, extra_args=()):
    """sinterc MODEL --target=cpu -o EXE."""
    cmd = [sinterc or sinterc_path(), model_path, "--target=cpu", "-o", exe_path,
           *extra_args]
    return run(cmd, timeout)


def import_model(model_path, sinterc=None, timeout=30):
    """sinterc MODEL --emit=graph -o /dev/null: import and the graph phase only,
    to tell importer refusals from target-side failures."""
    return run([sinterc or sinterc_path(), model_path, "--emit=graph", "-o", os.devnull],
               timeout)


def output_file_name(name):
    """The file the executable writes output `name` to (see its --help)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".npy"


def run_executable(exe_path, inputs, out_dir, timeout=30):
    """Runs EXE --input NAME=FILE ... --output-dir OUT_DIR."""
    cmd = [exe_path]
    for name, path in inputs.items():
        cmd += ["--input", f"{name}={path}"]
    cmd += ["--output-dir", out_dir]
    os.makedirs(out_dir, exist_ok=True)
    return run(cmd, timeout)


def save_inputs(arrays, folder):
    """Writes dict name -> array as .npy files; returns dict name -> path."""
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for i, (name, array) in enumerate(arrays.items()):
        path = os.path.join(folder, f"input_{i}.npy")
        np.save(path, np.asarray(array), allow_pickle=False)
        paths[name] = path
    return paths


def load_outputs(out_dir, names, dtypes=None):
    """Reads dict name -> array from the executable's OUT_DIR. `dtypes`
    (name -> dtype) reinterprets bfloat16, which .npy stores as '<V2'.
    A missing file is left out of the result."""
    outputs = {}
    for name in names:
        path = os.path.join(out_dir, output_file_name(name))
        if not os.path.exists(path):
            continue
        array = np.load(path, allow_pickle=False)
        if dtypes and name in dtypes:
            array = compare.as_dtype(array, dtypes[name])
        outputs[name] = array
    return outputs
