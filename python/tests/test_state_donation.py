"""State donation on the CPU target (sinter-donate-state; docs/runtime.md).

The nano Qwen3.5 decode graph (python/sinter/models/qwen35) has 16 state
inputs (conv, recurrent and KV-cache states) and returns each updated. With
donation (the default) every present.X is written in place into X's buffer;
with --no-donate it gets its own buffer and a copy. Both must give the same
bits over several decode steps, the donated model must have a smaller
arena and copy less per forward, and a caller that keeps the state resident
(omits it after the first step) must get the same logits.
"""

import os
import time

import numpy as np
import onnx
import pytest

from sinter.models.qwen35 import NANO, export, reference
from sinter.testing import runner

TOKENS = [5, 17, 200, 3, 99, 42]
SINTERC = runner.sinterc_path()
pytestmark = pytest.mark.skipif(not os.path.exists(SINTERC),
                                reason=f"{SINTERC} is not built")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    import sinter
    path = str(tmp_path_factory.mktemp("donate") / "qwen35_nano_decode.onnx")
    onnx.save(export.build_decode(NANO, "decomposed"), path)
    on = sinter.compile(path, target="cpu", report=True)
    off = sinter.compile(path, target="cpu", report=True, args=["--no-donate"])
    return on, off


def _state_names():
    return list(reference.init_state(NANO))


def test_every_state_is_donated(models):
    on, off = models
    states = _state_names()
    assert on.donations == {"present." + s: s for s in states}
    assert off.donations == {}
    pairs = on.report["donations"]["pairs"]
    assert {(p["input"], p["output"]) for p in pairs} == {(s, "present." + s) for s in states}
    assert on.report["donations"]["refused"] == []
    state_bytes = sum(a.nbytes for a in reference.init_state(NANO).values())
    assert on.report["donations"]["bytes"] == state_bytes


def test_copies_and_arena_shrink(models):
    """The whole-state copies are gone: the bytes copied per forward drop
    by at least half the state, and the arena no longer holds state-sized
    temporaries."""
    on, off = models
    state_bytes = sum(a.nbytes for a in reference.init_state(NANO).values())
    m_on, m_off = on.report["memory_plan"], off.report["memory_plan"]
    print(f"\nstate {state_bytes} B; arena {m_off['arena_bytes']} -> {m_on['arena_bytes']} B; "
          f"copied per forward {m_off['copy_bytes']} -> {m_on['copy_bytes']} B")
    assert m_off["copy_bytes"] - m_on["copy_bytes"] >= state_bytes // 2
    assert m_on["arena_bytes"] < m_off["arena_bytes"]


def test_donation_on_off_identical(models):
    on, off = models
    names = [o.name for o in on.outputs]
    assert names == [o.name for o in off.outputs]
    st_on = st_off = reference.init_state(NANO)
    for pos, tok in enumerate(TOKENS):
        a = on(export.decode_feeds(tok, pos, st_on))
        b = off(export.decode_feeds(tok, pos, st_off))
        for n in names:
            assert np.array_equal(a[n], b[n]), f"step {pos}: {n} differs"
        _, st_on = export.split_outputs(names, a)
        _, st_off = export.split_outputs(names, b)


def test_resident_state(models):
    """Pass the state once, then only the token: the state the last run
    left in the donated inputs is the next step's."""
    on, off = models
    names = [o.name for o in off.outputs]
    st = reference.init_state(NANO)
    t_resident = t_copied = 0.0
    for pos, tok in enumerate(TOKENS):
        feeds = export.decode_feeds(tok, pos, st)
        t0 = time.perf_counter()
        b = off(feeds)
        t_copied += time.perf_counter() - t0
        _, st = export.split_outputs(names, b)
        step = feeds if pos == 0 else {"input_ids": feeds["input_ids"],
                                       "position_ids": feeds["position_ids"]}
        t0 = time.perf_counter()
        a = on.run(step, outputs=["logits"])
        t_resident += time.perf_counter() - t0
        assert list(a) == ["logits"]
        assert np.array_equal(a["logits"], b["logits"]), f"step {pos}"
    # The outputs of the last run are views of the donated inputs.
    last = on.run({"input_ids": np.array([[7]], np.int64),
                   "position_ids": np.array([[len(TOKENS)]], np.int64)})
    ref = off(export.decode_feeds(7, len(TOKENS), st))
    for n in names:
        assert np.array_equal(last[n], ref[n]), n
    print(f"\n{len(TOKENS)} steps: state passed in and out {t_copied * 1e3:.2f} ms, "
          f"resident {t_resident * 1e3:.2f} ms")


def test_state_needed_once(models, tmp_path):
    """A fresh model has no state yet: leaving it out is an error; a
    non-state input is never optional."""
    import sinter
    on, _ = models
    fresh = sinter.load(on.library_path)
    with pytest.raises(sinter.InputError, match="missing input 'conv_state.0'"):
        fresh.run({"input_ids": np.array([[1]], np.int64),
                   "position_ids": np.array([[0]], np.int64)})
    fresh.run(export.decode_feeds(1, 0, reference.init_state(NANO)))
    with pytest.raises(sinter.InputError, match="missing input 'position_ids'"):
        fresh.run({"input_ids": np.array([[1]], np.int64)})
    with pytest.raises(sinter.InputError, match="unknown output 'nope'"):
        fresh.run(export.decode_feeds(1, 0, reference.init_state(NANO)), outputs=["nope"])
    fresh.close()
