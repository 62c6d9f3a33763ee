"""Compiled models from Python: `sinterc --emit=shared` plus ctypes over the
C API of include/sinter/Runtime/sinter_runtime.h. numpy only.

    model = sinter.compile("examples/tiny_decoder.onnx")
    outputs = model(x=np.zeros((1, 8, 64), np.float32))   # {name: ndarray}

docs/python.md describes the API.
"""

import ctypes
import json
import os
import shutil
import subprocess
import tempfile
import threading
import weakref

import numpy as np

__all__ = ["SinterError", "CompileError", "InputError", "TensorInfo", "Model",
           "compile", "load", "find_sinterc"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_REPO_DIR = os.path.dirname(os.path.dirname(_PACKAGE_DIR))


class SinterError(RuntimeError):
    """An error of the compiler or the runtime, with its message."""


class CompileError(SinterError):
    """sinterc refused the model or failed. `message` is sinterc's first
    error line, `stderr` all it printed, `command` the command line."""

    def __init__(self, message, stderr="", command=None, returncode=None):
        super().__init__(message)
        self.message = message
        self.stderr = stderr
        self.command = command
        self.returncode = returncode


class InputError(SinterError, ValueError):
    """An input the model cannot take: unknown, missing, wrong dtype or
    shape."""


# --- dtypes -----------------------------------------------------------------

def _bfloat16():
    try:
        import ml_dtypes  # optional: numpy has no bfloat16 of its own
        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:
        return None


_DTYPES = {  # SinterDType (ONNX TensorProto.DataType) -> numpy
    1: np.dtype(np.float32), 2: np.dtype(np.uint8), 3: np.dtype(np.int8),
    5: np.dtype(np.int16), 6: np.dtype(np.int32), 7: np.dtype(np.int64),
    9: np.dtype(np.bool_), 10: np.dtype(np.float16), 11: np.dtype(np.float64),
}


def _numpy_dtype(code, name):
    if code in _DTYPES:
        return _DTYPES[code]
    if code == 16:
        bf16 = _bfloat16()
        if bf16 is not None:
            return bf16
        raise SinterError(f"'{name}' is bfloat16: install ml_dtypes to pass "
                          "bfloat16 arrays")
    raise SinterError(f"'{name}' has dtype {code}, which this package "
                      "does not know")


# --- the C API --------------------------------------------------------------

class _TensorInfoC(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64))]


_API_VERSION = 1


def _bind(lib):
    P = ctypes.c_void_p
    I = ctypes.POINTER(_TensorInfoC)
    sigs = {
        "sinter_api_version": (ctypes.c_int32, []),
        "sinter_open": (ctypes.c_int, [ctypes.POINTER(P)]),
        "sinter_model_descriptor": (P, []),
        "sinter_close": (None, [P]),
        "sinter_model_name": (ctypes.c_char_p, [P]),
        "sinter_model_target": (ctypes.c_char_p, [P]),
        "sinter_num_inputs": (ctypes.c_int32, [P]),
        "sinter_num_outputs": (ctypes.c_int32, [P]),
        "sinter_input_info": (I, [P, ctypes.c_int32]),
        "sinter_output_info": (I, [P, ctypes.c_int32]),
        "sinter_tensor_bytes": (ctypes.c_uint64, [I]),
        "sinter_set_input": (ctypes.c_int, [P, ctypes.c_int32, P,
                                            ctypes.c_uint64]),
        "sinter_run": (ctypes.c_int, [P]),
        "sinter_read_output": (ctypes.c_int, [P, ctypes.c_int32, P,
                                              ctypes.c_uint64]),
        "sinter_last_error": (ctypes.c_char_p, []),
    }
    for name, (res, args) in sigs.items():
        try:
            f = getattr(lib, name)
        except AttributeError:
            raise SinterError(f"'{lib._name}' is not a Sinter model library "
                              f"(no {name}); compile it with sinterc "
                              "--emit=shared") from None
        f.restype = res
        f.argtypes = args
    # External-data weights from a chosen folder (newer libraries).
    open_w = getattr(lib, "sinter_open_with_weights", None)
    if open_w is not None:
        open_w.restype = ctypes.c_int
        open_w.argtypes = [P, ctypes.c_char_p, ctypes.POINTER(P)]
    # State donation (newer libraries): which input holds each output.
    donor = getattr(lib, "sinter_output_donor", None)
    if donor is not None:
        donor.restype = ctypes.c_int32
        donor.argtypes = [P, ctypes.c_int32]
    return lib


class TensorInfo:
    """One input or output: `name`, numpy `dtype`, `shape` (a tuple)."""

    def __init__(self, name, dtype, shape, nbytes):
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.nbytes = nbytes

    def __repr__(self):
        return f"TensorInfo({self.name!r}, {self.dtype}, {self.shape})"


def _infos(lib, session, count, getter):
    out = []
    for i in range(count):
        p = getter(session, i)
        c = p.contents
        name = c.name.decode("utf-8", "replace")
        shape = tuple(int(c.shape[k]) for k in range(c.rank))
        out.append(TensorInfo(name, _numpy_dtype(c.dtype, name), shape,
                              int(lib.sinter_tensor_bytes(p))))
    return out


def _close_session(lib, handle, directory):
    if handle.value:
        lib.sinter_close(handle)
        handle.value = None
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


class Model:
    """A compiled model, loaded from its shared library.

    `model(**inputs)` (or `model({name: array})` for names that are not
    Python identifiers) runs one forward and returns {output name: array}.
    Inputs must have exactly the compiled dtype and shape (a list or scalar
    is converted to the dtype). Calls on one Model are serialized by a lock;
    for parallel forwards, load one Model per thread (each has its own
    buffers). `report` is sinterc's JSON report (a dict) or None.

    State donation: `donations` maps each donated output to the input whose
    buffer holds it (sinterc updates that state in place). After a run the
    input holds the updated state, so a decode loop passes the state once
    and then omits it: `model.run({"input_ids": ...}, outputs=["logits"])`
    runs on the state the previous step left, and copies nothing but the
    logits.

    Weights: external-data weights are read (mapped) when the model is
    loaded, from `weights` (a folder) or else the folder the ONNX model was
    in when it was compiled; a missing, short or changed file raises
    SinterError naming the file and the tensor."""

    def __init__(self, library, report=None, _owned_dir=None, weights=None):
        self.library_path = os.path.abspath(library)
        self.report = report
        self._lock = threading.Lock()
        try:
            lib = ctypes.CDLL(self.library_path, mode=os.RTLD_NOW)
        except OSError as e:
            raise SinterError(f"cannot load '{library}': {e}") from None
        self._lib = _bind(lib)
        version = lib.sinter_api_version()
        if version != _API_VERSION:
            raise SinterError(f"'{library}' has version {version} of the "
                              f"Sinter C API, this package {_API_VERSION}")
        self._handle = ctypes.c_void_p()
        if weights is not None:
            open_w = getattr(lib, "sinter_open_with_weights", None)
            if open_w is None:
                raise SinterError(f"'{library}' predates external weights "
                                  "folders (no sinter_open_with_weights)")
            rc = open_w(lib.sinter_model_descriptor(),
                        os.fsencode(os.fspath(weights)),
                        ctypes.byref(self._handle))
        else:
            rc = lib.sinter_open(ctypes.byref(self._handle))
        if rc != 0:
            raise SinterError(self._last_error())
        self._finalizer = weakref.finalize(self, _close_session, lib,
                                           self._handle, _owned_dir)
        self.name = lib.sinter_model_name(self._handle).decode()
        self.target = lib.sinter_model_target(self._handle).decode()
        self.inputs = _infos(lib, self._handle,
                             lib.sinter_num_inputs(self._handle),
                             lib.sinter_input_info)
        self.outputs = _infos(lib, self._handle,
                              lib.sinter_num_outputs(self._handle),
                              lib.sinter_output_info)
        self.donations = {}
        donor = getattr(lib, "sinter_output_donor", None)
        for j, t in enumerate(self.outputs):
            i = donor(self._handle, j) if donor is not None else -1
            if i >= 0:
                self.donations[t.name] = self.inputs[i].name
        self._donated = set(self.donations.values())
        self._set = set()  # inputs set at least once

    def _last_error(self):
        return self._lib.sinter_last_error().decode("utf-8", "replace")

    def _check_open(self):
        if not self._handle.value:
            raise SinterError(f"the model '{self.name}' is closed")

    def __call__(self, inputs=None, /, **kwargs):
        given = dict(inputs or {})
        for k, v in kwargs.items():
            if k in given:
                raise InputError(f"input '{k}' is given twice")
            given[k] = v
        return self.run(given)

    def run(self, inputs, outputs=None):
        """One forward on `inputs` ({name: array}); returns {name: array}
        for the outputs named in `outputs` (default: all). A donated state
        input (see `donations`) may be left out once it was given: it then
        holds the state the previous run left."""
        given = dict(inputs)
        known = {t.name for t in self.inputs}
        for name in given:
            if name not in known:
                raise InputError(
                    f"unknown input '{name}' (the model's inputs: "
                    f"{', '.join(sorted(known)) or 'none'})")
        wanted = None if outputs is None else list(outputs)
        names = [t.name for t in self.outputs]
        for name in wanted or ():
            if name not in names:
                raise InputError(f"unknown output '{name}' (the model's "
                                 f"outputs: {', '.join(names) or 'none'})")
        arrays = []
        for i, t in enumerate(self.inputs):
            if t.name not in given:
                if t.name in self._donated and i in self._set:
                    arrays.append(None)  # the resident state
                    continue
                raise InputError(f"missing input '{t.name}' "
                                 f"({t.dtype}{list(t.shape)})")
            arrays.append(self._convert(t, given[t.name]))
        with self._lock:
            self._check_open()
            lib, h = self._lib, self._handle
            for i, a in enumerate(arrays):
                if a is None:
                    continue
                if lib.sinter_set_input(h, i, a.ctypes.data, a.nbytes) != 0:
                    raise SinterError(self._last_error())
                self._set.add(i)
            if lib.sinter_run(h) != 0:
                raise SinterError(self._last_error())
            result = {}
            for i, t in enumerate(self.outputs):
                if wanted is not None and t.name not in wanted:
                    continue
                out = np.empty(t.shape, dtype=t.dtype)
                if lib.sinter_read_output(h, i, out.ctypes.data,
                                          out.nbytes) != 0:
                    raise SinterError(self._last_error())
                result[t.name] = out
        return result

    @staticmethod
    def _convert(t, value):
        if not isinstance(value, np.ndarray):
            try:
                value = np.asarray(value, dtype=t.dtype)
            except (TypeError, ValueError) as e:
                raise InputError(f"input '{t.name}': cannot convert to "
                                 f"{t.dtype}: {e}") from None
        if value.dtype != t.dtype:
            raise InputError(f"input '{t.name}' has dtype {value.dtype}, the "
                             f"model expects {t.dtype}{list(t.shape)}")
        if value.shape != t.shape:
            raise InputError(f"input '{t.name}' has shape {list(value.shape)}"
                             f", the model expects {t.dtype}{list(t.shape)}")
        return np.ascontiguousarray(value)

    def close(self):
        """Frees the model's buffers (also done when it is collected)."""
        with self._lock:
            self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        ins = ", ".join(f"{t.name}: {t.dtype}{list(t.shape)}"
                        for t in self.inputs)
        outs = ", ".join(f"{t.name}: {t.dtype}{list(t.shape)}"
                         for t in self.outputs)
        return f"<sinter.Model {self.name!r} on {self.target}: ({ins}) -> ({outs})>"


# --- compiling --------------------------------------------------------------

def find_sinterc():
    """$SINTER_SINTERC, else $SINTER_BUILD_DIR/bin/sinterc, else the build
    folder of the checkout this package is in (build/bin/sinterc), else
    sinterc on PATH."""
    env = os.environ.get("SINTER_SINTERC")
    if env:
        return env
    candidates = []
    build = os.environ.get("SINTER_BUILD_DIR")
    if build:
        if not os.path.isabs(build):
            build = os.path.join(_REPO_DIR, build)
        candidates.append(os.path.join(build, "bin", "sinterc"))
    candidates.append(os.path.join(_REPO_DIR, "build", "bin", "sinterc"))
    for c in candidates:
        if os.access(c, os.X_OK):
            return c
    found = shutil.which("sinterc")
    if found:
        return found
    raise SinterError("cannot find sinterc: build it (scripts/build), or set "
                      "SINTER_SINTERC to its path")


def _first_error(stderr):
    """sinterc's first error line; with the few lines after it when it ends
    in ':' (a failed link and its log)."""
    lines = [l.rstrip() for l in stderr.splitlines() if l.strip()]
    for k, line in enumerate(lines):
        if "error: " in line:
            if line.endswith(":"):
                return "\n".join(lines[k:k + 6])
            return line.strip()
    return lines[0].strip() if lines else ""


def compile(path, target="cpu", gpu_arch=None, report=True, input_shapes=None,
            args=(), output_dir=None, timeout=None, weights=None):
    """Compiles the ONNX model at `path` with sinterc and loads it.

    target: "cpu" or "cuda"; gpu_arch: the GPU architecture with "cuda"
    (sinterc's --gpu-arch). report: load sinterc's JSON report into
    `Model.report`. input_shapes: {name: size or shape} for symbolic
    dimensions (sinterc's --input-shape). args: more sinterc arguments.
    output_dir: where the library (and report) go; default a temporary
    folder removed with the model. weights: the folder of the model's
    external-data files at run time (default: the model's folder). Raises
    CompileError with sinterc's message when it fails."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CompileError(f"{path}: no such file")
    if gpu_arch is not None and target != "cuda":
        raise ValueError("gpu_arch applies to target='cuda' only")
    owned = None
    if output_dir is None:
        output_dir = owned = tempfile.mkdtemp(prefix="sinter-")
    else:
        os.makedirs(output_dir, exist_ok=True)
    try:
        stem = os.path.splitext(os.path.basename(path))[0] or "model"
        library = os.path.join(output_dir, f"lib{stem}.so")
        cmd = [find_sinterc(), path, f"--target={target}", "--emit=shared",
               "-o", library]
        if gpu_arch is not None:
            cmd.append(f"--gpu-arch={gpu_arch}")
        for name, shape in (input_shapes or {}).items():
            if not isinstance(shape, (int, np.integer)):
                shape = "x".join(str(int(d)) for d in shape)
            cmd.append(f"--input-shape={name}={shape}")
        report_path = None
        if report:
            report_path = os.path.join(output_dir, f"{stem}.report.json")
            cmd.append(f"--report={report_path}")
        cmd.extend(str(a) for a in args)
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True,
                               errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CompileError(f"sinterc timed out after {timeout} s",
                               command=cmd) from None
        except OSError as e:
            raise CompileError(f"cannot run sinterc ({cmd[0]}): {e}",
                               command=cmd) from None
        if p.returncode != 0:
            msg = _first_error(p.stderr) or f"sinterc exited with {p.returncode}"
            raise CompileError(msg, p.stderr, cmd, p.returncode)
        loaded = None
        if report_path:
            with open(report_path) as f:
                loaded = json.load(f)
        model = Model(library, loaded, _owned_dir=owned, weights=weights)
        owned = None  # the model removes it
        return model
    finally:
        if owned:
            shutil.rmtree(owned, ignore_errors=True)


def load(library, report=None, weights=None):
    """Loads a library written by `sinterc --emit=shared`; `weights`: the
    folder of its external-data files (default: as compiled)."""
    return Model(library, report, weights=weights)
