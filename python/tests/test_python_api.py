"""sinter.compile and sinter.Model: the Python API over the C API of a model
compiled with `sinterc --emit=shared` (docs/python.md).

The example models compile to a shared library and to an executable; on the
same random inputs both must give the same outputs, bit for bit (same
object code). Bad inputs and compile errors raise with the message."""

import os
import re
import subprocess
import sys
import threading

import numpy as np
import pytest

import sinter
from sinter.testing import runner

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")

# name: (file, input_shapes for symbolic dimensions)
MODELS = {
    "tiny_decoder": ("tiny_decoder.onnx", None),
    "swiglu": ("swiglu.onnxtxt", {"batch": 2, "seq": 5}),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def compiled(request):
    file, shapes = MODELS[request.param]
    path = os.path.join(EXAMPLES, file)
    model = sinter.compile(path, input_shapes=shapes)
    yield path, shapes, model
    model.close()


def random_inputs(model, seed=0):
    rng = np.random.default_rng(seed)
    return {t.name: rng.standard_normal(t.shape).astype(t.dtype)
            for t in model.inputs}


def test_matches_executable(compiled, tmp_path):
    path, shapes, model = compiled
    exe = tmp_path / "model"
    args = [f"--input-shape={k}={v}" for k, v in (shapes or {}).items()]
    step = runner.compile_model(path, exe, extra_args=args, timeout=120)
    assert step.ok, step.why()

    inputs = random_inputs(model)
    cmd = [str(exe), "--output-dir", str(tmp_path / "out")]
    for name, array in inputs.items():
        np.save(tmp_path / f"{name}.npy", array)
        cmd += ["--input", f"{name}={tmp_path / (name + '.npy')}"]
    subprocess.run(cmd, check=True, capture_output=True)

    outputs = model(**inputs)
    assert list(outputs) == [t.name for t in model.outputs]
    for t in model.outputs:
        expected = np.load(tmp_path / "out" / f"{t.name}.npy")
        got = outputs[t.name]
        assert got.dtype == t.dtype and got.shape == t.shape
        np.testing.assert_array_equal(got, expected)
        assert np.all(np.isfinite(got))


def test_interface_and_report(compiled):
    path, _, model = compiled
    assert model.target == "cpu"
    assert model.name == os.path.basename(path)
    assert all(isinstance(t.shape, tuple) for t in model.inputs + model.outputs)
    assert model.report["model"] == path
    assert model.report["target"] == "cpu"
    assert model.report["memory_plan"]["arena_bytes"] >= 0
    assert "sinter.Model" in repr(model)


def test_reruns_and_dict_argument(compiled):
    _, _, model = compiled
    a, b = random_inputs(model, 1), random_inputs(model, 2)
    first = model(a)
    model(b)
    again = model(a)  # inputs are copied: a second run on new inputs is clean
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])


def test_sessions_run_in_parallel():
    path = os.path.join(EXAMPLES, "tiny_decoder.onnx")
    models = [sinter.compile(path, report=False) for _ in range(2)]
    assert models[0].report is None
    inputs = [random_inputs(models[0], s) for s in range(2)]
    want = [models[0](x) for x in inputs]
    errors = []

    def work(k):
        try:
            for _ in range(20):
                got = models[k](inputs[k])
                np.testing.assert_array_equal(got["y"], want[k]["y"])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for m in models:
        m.close()


@pytest.fixture(scope="module")
def decoder():
    with sinter.compile(os.path.join(EXAMPLES, "tiny_decoder.onnx")) as m:
        yield m


@pytest.mark.parametrize("call, message", [
    (lambda m, x: m(x=x.astype(np.float64)),
     "input 'x' has dtype float64, the model expects float32[1, 8, 64]"),
    (lambda m, x: m(x=x[:, :4]),
     "input 'x' has shape [1, 4, 64], the model expects float32[1, 8, 64]"),
    (lambda m, x: m(), "missing input 'x' (float32[1, 8, 64])"),
    (lambda m, x: m(x=x, z=x), "unknown input 'z' (the model's inputs: x)"),
    (lambda m, x: m({"x": x}, x=x), "input 'x' is given twice"),
    (lambda m, x: m(x="nope"), "input 'x': cannot convert to float32"),
])
def test_bad_input_raises(decoder, call, message):
    x = np.zeros((1, 8, 64), np.float32)
    with pytest.raises(sinter.InputError) as info:
        call(decoder, x)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
    decoder(x=x)  # the model still works


def test_list_input_is_converted(decoder):
    x = np.linspace(-1, 1, 512, dtype=np.float32).reshape(1, 8, 64)
    np.testing.assert_array_equal(decoder(x=x.tolist())["y"], decoder(x=x)["y"])


def test_compile_error_carries_sinterc_message():
    with pytest.raises(sinter.CompileError) as info:
        sinter.compile(os.path.join(EXAMPLES, "swiglu.onnxtxt"))
    e = info.value
    assert "graph input 'x' has unknown dimension 0 ('batch'); fix it with " \
           "--input-shape" in str(e)
    assert e.returncode == 1 and "error:" in e.stderr and e.command
    with pytest.raises(sinter.CompileError, match="no such file"):
        sinter.compile(os.path.join(EXAMPLES, "missing.onnx"))
    with pytest.raises(sinter.CompileError, match="unknown --emit kind|Unknown command line"):
        sinter.compile(os.path.join(EXAMPLES, "tiny_decoder.onnx"),
                       args=["--emit=nonsense"])


def test_cuda_target_gives_sinterc_error():
    """No CUDA runtime yet: sinterc's error comes back as CompileError. (On a
    build that can make CUDA libraries, the model compiles instead.)"""
    try:
        model = sinter.compile(os.path.join(EXAMPLES, "tiny_decoder.onnx"),
                               target="cuda", gpu_arch="sm_90a")
    except sinter.CompileError as e:
        assert str(e).startswith("sinterc: error:") or "error:" in str(e)
        return
    except sinter.SinterError as e:  # compiled, but no GPU to open it on
        assert str(e)
        return
    model.close()
    pytest.skip("this build compiles CUDA models")


def test_gpu_arch_needs_cuda():
    with pytest.raises(ValueError, match="gpu_arch"):
        sinter.compile(os.path.join(EXAMPLES, "tiny_decoder.onnx"),
                       gpu_arch="sm_90a")


def test_closed_model_raises():
    m = sinter.compile(os.path.join(EXAMPLES, "tiny_decoder.onnx"), report=False)
    m.close()
    m.close()
    with pytest.raises(sinter.SinterError, match="closed"):
        m(x=np.zeros((1, 8, 64), np.float32))


def test_load_prebuilt_library(tmp_path):
    m = sinter.compile(os.path.join(EXAMPLES, "tiny_decoder.onnx"),
                       output_dir=tmp_path, report=False)
    lib = tmp_path / "libtiny_decoder.so"
    assert lib.exists()
    x = np.ones((1, 8, 64), np.float32)
    with sinter.load(lib) as again:
        np.testing.assert_array_equal(again(x=x)["y"], m(x=x)["y"])
    m.close()
    with pytest.raises(sinter.SinterError, match="cannot load"):
        sinter.load(tmp_path / "missing.so")


def test_docs_example_works_as_written():
    """The first ```python block of docs/python.md, run from the repository
    root with this interpreter."""
    text = open(os.path.join(ROOT, "docs", "python.md")).read()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    p = subprocess.run([sys.executable, "-c", block], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "(1, 8, 64)" in p.stdout
