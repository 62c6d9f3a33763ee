"""scripts/gpu-bundle's pieces that need no GPU: a node test with a
shape-deciding input is compiled for CUDA with that input frozen and enters
the manifest without it (the CPU target, compiled the same way and fed the
bundle's inputs, gives the bundle's expected outputs), and --tar's archive
unpacks to a runnable bundle."""

import importlib.machinery
import importlib.util
import os
import subprocess
import tarfile

import numpy as np
import pytest

from sinter.testing import compare, conformance

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SINTERC = os.environ.get("SINTERC", os.path.join(ROOT, "build", "bin", "sinterc"))
NODE = os.path.join(conformance.DEFAULT_DATA, "test_expand_dim_changed")

pytestmark = pytest.mark.skipif(not os.path.exists(SINTERC),
                                reason="build/bin/sinterc not built")


def load_script():
    path = os.path.join(ROOT, "scripts", "gpu-bundle")
    loader = importlib.machinery.SourceFileLoader("sinter_gpu_bundle", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not os.path.isdir(NODE), reason="libonnx-testdata not installed")
def test_freeze_input_node_test(tmp_path):
    gb = load_script()
    out = tmp_path / "bundle"
    for d in ("bin", "data"):
        (out / d).mkdir(parents=True)
    name, entry, why = gb.build_node_test(NODE, str(out), SINTERC, "sm_80")
    assert why is None and entry, why
    # Expand's shape is the frozen input; the executable takes only data.
    assert entry["frozen"] == ["new_shape"]
    assert [i[0] for i in entry["inputs"]] == ["data"]
    assert os.access(out / entry["exe"], os.X_OK)

    ds = conformance._datasets(NODE)[0]
    shape_pb = conformance._numbered(ds, "input")[1]
    cpu = tmp_path / "cpu"
    subprocess.run([SINTERC, os.path.join(NODE, "model.onnx"), "--target=cpu",
                    f"--freeze-input=new_shape={shape_pb}", "-o", str(cpu)], check=True)
    cmd = [str(cpu), "--output-dir", str(tmp_path / "y")]
    for n, f in entry["inputs"]:
        cmd += ["--input", f"{n}={out / f}"]
    subprocess.run(cmd, check=True, capture_output=True)
    for n, f, _ in entry["outputs"]:
        actual = np.load(tmp_path / "y" / (n + ".npy"))
        assert not compare.compare_all({n: np.load(out / f)}, {n: actual})


def test_pack_fits_and_unpacks(tmp_path, capsys):
    gb = load_script()
    out = tmp_path / "bundle"
    (out / "bin").mkdir(parents=True)
    (out / "run.sh").write_text(gb.RUN_SH)
    # Two copies of 256 KiB of noise: compressed, the second copy is almost
    # free (the dictionary's reach beyond xz's default 8 MiB would take
    # seconds of compression to show, too slow here).
    noise = np.random.default_rng(0).bytes(256 << 10)
    (out / "bin" / "a").write_bytes(noise)
    (out / "bin" / "b").write_bytes(noise)
    gb.pack(str(out), "")
    tar = tmp_path / "bundle-pack" / "bundle.tar.xz"
    assert tar.stat().st_size < 300 << 10
    printed = capsys.readouterr().out
    assert "fits the 64 MiB device carry limit" in printed
    assert "tar xJf bundle.tar.xz && bash bundle/run.sh" in printed
    with tarfile.open(tar) as t:
        names = set(t.getnames())
    assert {"bundle/run.sh", "bundle/bin/a", "bundle/bin/b"} <= names


def test_drop_large_keeps_shared_files(tmp_path):
    """--max-case-mb leaves out large cases but keeps a file that a kept
    case shares (several decode steps run one executable), and --keep
    overrides the size."""
    gb = load_script()
    out = tmp_path
    (out / "bin").mkdir()
    (out / "data").mkdir()
    (out / "bin" / "big").write_bytes(b"x" * 3_000_000)
    (out / "bin" / "small").write_bytes(b"x" * 10)
    (out / "data" / "a.npy").write_bytes(b"x" * 2_000_000)
    (out / "data" / "b.npy").write_bytes(b"x" * 10)
    entries = [
        {"name": "step0", "exe": "bin/big", "inputs": [["x", "data/a.npy"]], "outputs": []},
        {"name": "step1", "exe": "bin/big", "inputs": [["x", "data/b.npy"]], "outputs": []},
        {"name": "tiny", "exe": "bin/small", "inputs": [["x", "data/b.npy"]], "outputs": []},
        {"name": "wanted", "exe": "bin/big", "inputs": [], "outputs": []},
    ]
    kept, dropped = gb.drop_large(str(out), entries, 4.0, keep="^wanted$")
    assert [e["name"] for e in dropped] == ["step0"]
    assert [e["name"] for e in kept] == ["step1", "tiny", "wanted"]
    assert (out / "bin" / "big").exists()        # step1 and wanted still run it
    assert not (out / "data" / "a.npy").exists()  # only step0 used it
    kept, dropped = gb.drop_large(str(out), kept, 2.0)
    assert [e["name"] for e in kept] == ["tiny"]
    assert not (out / "bin" / "big").exists()
    assert (out / "data" / "b.npy").exists()
