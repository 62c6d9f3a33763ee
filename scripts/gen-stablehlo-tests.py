#!/usr/bin/env python3
"""Writes the StableHLO test programs of python/tests/test_stablehlo.py.

Each model is a small JAX function with its weights closed over (so they are
`stablehlo.constant`s, as in a deployed model, and the linear-layer passes can
pack them). For each one this writes, under test/Import/stablehlo/Inputs/:

  NAME.mlir          jax.jit(f).lower(*args).as_text()   (the pretty form)
  NAME.generic.mlir  the same module in MLIR's generic form (some models)
  NAME.npz           inputs arg0, arg1, ... and JAX's outputs result0, ...

The test needs only numpy; rerun this script (with jax installed, see
scripts/setup) when a model changes:  .venv/bin/python scripts/gen-stablehlo-tests.py
"""

import os

import numpy as np
import jax
import jax.numpy as jnp
from jax import lax

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test",
                   "Import", "stablehlo", "Inputs")
rng = np.random.default_rng(8)


def w(*shape, scale=None):
    scale = scale or 1.0 / np.sqrt(shape[0])
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def silu(x):
    return x * lax.logistic(x)


def rms_norm(x, g, eps=1e-6):
    return x * lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + eps) * g


# --- SwiGLU MLP ---------------------------------------------------------------
D, F = 32, 64
MLP = dict(g=w(D, F), u=w(D, F), d=w(F, D))


def mlp(x, dtype=jnp.float32):
    p = {k: jnp.asarray(v, dtype) for k, v in MLP.items()}
    return (silu(x @ p["g"]) * (x @ p["u"])) @ p["d"]


# --- GQA attention block --------------------------------------------------------
S, HQ, HKV, DH = 8, 4, 2, 8
ATT = dict(q=w(D, HQ * DH), k=w(D, HKV * DH), v=w(D, HKV * DH), o=w(HQ * DH, D),
           norm=(1.0 + 0.1 * rng.standard_normal(D)).astype(np.float32))


def attention(x):
    b, s, _ = x.shape
    h = rms_norm(x, ATT["norm"])
    q = (h @ ATT["q"]).reshape(b, s, HKV, HQ // HKV, DH)
    k = (h @ ATT["k"]).reshape(b, s, HKV, DH)
    v = (h @ ATT["v"]).reshape(b, s, HKV, DH)
    scores = jnp.einsum("bqkgd,btkd->bkgqt", q, k) / np.sqrt(DH).astype(np.float32)
    causal = jnp.arange(s)[:, None] >= jnp.arange(s)[None, :]
    scores = jnp.where(causal, scores, -1e30)
    p = jax.nn.softmax(scores, axis=-1)
    o = jnp.einsum("bkgqt,btkd->bqkgd", p, v).reshape(b, s, HQ * DH)
    return x + o @ ATT["o"]


# --- GatedDeltaNet input block (projections + depthwise causal conv) ----------
NK, DK, NV, DV, KC = 2, 8, 2, 8, 4
CQKV = 2 * NK * DK + NV * DV
GDN = dict(qkv=w(D, CQKV), z=w(D, NV * DV), b=w(D, NV), a=w(D, NV),
           conv=w(CQKV, 1, KC, scale=0.5),
           a_log=(0.1 * rng.standard_normal(NV)).astype(np.float32),
           dt_bias=(0.1 * rng.standard_normal(NV)).astype(np.float32))


def gdn_input(x):
    qkv = x @ GDN["qkv"]                      # [B, S, C]
    z = x @ GDN["z"]
    beta = lax.logistic(x @ GDN["b"])
    a = x @ GDN["a"] + GDN["dt_bias"]
    g = -jnp.exp(GDN["a_log"]) * jnp.log(1.0 + jnp.exp(a))
    conv = lax.conv_general_dilated(
        jnp.transpose(qkv, (0, 2, 1)), GDN["conv"], (1,), [(KC - 1, 0)],
        feature_group_count=CQKV, dimension_numbers=("NCH", "OIH", "NCH"))
    conv = silu(jnp.transpose(conv, (0, 2, 1)))
    return conv, z, beta, g


# --- nano decoder, one decode step -----------------------------------------------
VOCAB, T, H = 64, 16, 2
DEC = dict(embed=w(VOCAB, D, scale=0.5), n1=np.ones(D, np.float32),
           q=w(D, H * DH), k=w(D, H * DH), v=w(D, H * DH), o=w(H * DH, D),
           n2=np.ones(D, np.float32), g=w(D, F), u=w(D, F), d=w(F, D),
           nf=np.ones(D, np.float32))


def decode_step(token, pos, k_cache, v_cache):
    x = jnp.take(DEC["embed"], token, axis=0)            # [1, 1, D]
    h = rms_norm(x, DEC["n1"])
    q = (h @ DEC["q"]).reshape(1, 1, H, DH).transpose(0, 2, 1, 3)
    k = (h @ DEC["k"]).reshape(1, 1, H, DH).transpose(0, 2, 1, 3)
    v = (h @ DEC["v"]).reshape(1, 1, H, DH).transpose(0, 2, 1, 3)
    k_cache = lax.dynamic_update_slice(k_cache, k, (0, 0, pos, 0))
    v_cache = lax.dynamic_update_slice(v_cache, v, (0, 0, pos, 0))
    scores = jnp.einsum("bhqd,bhtd->bhqt", q, k_cache) / np.sqrt(DH).astype(np.float32)
    scores = jnp.where(jnp.arange(T) <= pos, scores, -1e30)
    o = jnp.einsum("bhqt,bhtd->bhqd", jax.nn.softmax(scores, axis=-1), v_cache)
    x = x + o.transpose(0, 2, 1, 3).reshape(1, 1, H * DH) @ DEC["o"]
    h = rms_norm(x, DEC["n2"])
    x = x + (silu(h @ DEC["g"]) * (h @ DEC["u"])) @ DEC["d"]
    logits = rms_norm(x, DEC["nf"]) @ DEC["embed"].T
    return logits, k_cache, v_cache


# --- one op of each family, including a scan (while) ---------------------------
def op_families(x, ids, pos, st):
    def body(c, xi):
        return c * 0.5 + xi, jnp.tanh(c)
    fin, ys = lax.scan(body, jnp.zeros(x.shape[1], x.dtype), x)
    return (jnp.take(x, ids, axis=0),
            x.astype(jnp.bfloat16).astype(jnp.float32),
            jnp.where(x > 0, x, -x) ** 2.0,
            jnp.max(x, axis=-1) + jnp.sum(x, axis=0)[:4] - jnp.min(x),
            jnp.transpose(x.reshape(2, 2, 8), (1, 0, 2)).reshape(4, 8),
            x[1:3, ::2],
            jnp.concatenate([x, lax.dynamic_update_slice(x, x[:1] * 2, (pos, 0))]),
            lax.dynamic_slice(x, (pos, 2), (2, 4)),
            (jnp.arange(4)[:, None] >= jnp.arange(8)[None, :]).astype(jnp.float32),
            jnp.sqrt(jnp.exp(x)) + lax.rsqrt(jnp.exp(x)) + jnp.log(jnp.exp(x)),
            jnp.maximum(x, 0.1) - jnp.minimum(x, -0.1) + x / 3.0,
            st.at[:, pos].set(x[:, 0]),
            fin, ys)


# --- the indexing forms: argmax/argmin, gathers with batch dims, scatters --
# with many indices, a fori_loop whose bound folds, dynamic slices ---------
def indexing(x, ids, rows, pos, x3, bids):
    def body(i, c):
        return c * 0.5 + lax.dynamic_slice(x, (i % 2, 0), (1, 8))
    n = jnp.int32(2) + jnp.int32(1)                     # folds to 3
    loop = lax.fori_loop(0, n, body, jnp.zeros((1, 8), x.dtype))
    return (jnp.argmax(x, axis=-1), jnp.argmin(x, axis=0),
            jnp.take_along_axis(x, ids, axis=1),
            jax.vmap(lambda a, j: a[j])(x3, bids),
            x[rows],
            x.at[rows].add(1.5),
            x.at[rows, ids[:3, 0]].set(-2.0),
            x.at[:, ids[:, 1]].max(0.25),
            lax.dynamic_slice(x, (pos, pos + 1), (2, 3)),
            lax.dynamic_update_slice(x, x[:2, :3] * 3.0, (pos, pos + 2)),
            loop)


def save(name, fn, args, generic=False):
    lowered = jax.jit(fn).lower(*args)
    with open(os.path.join(OUT, name + ".mlir"), "w") as f:
        f.write(lowered.as_text())
    if generic:
        ir = lowered.compiler_ir("stablehlo")
        with open(os.path.join(OUT, name + ".generic.mlir"), "w") as f:
            f.write(ir.operation.get_asm(print_generic_op_form=True))
    outs = jax.jit(fn)(*args)
    outs = outs if isinstance(outs, (tuple, list)) else (outs,)
    arrays = {f"arg{i}": np.asarray(a) for i, a in enumerate(args)}
    arrays.update({f"result{i}": np.asarray(o) for i, o in enumerate(outs)})
    # bfloat16 has no numpy dtype of its own in .npz: store the bits.
    for k, a in list(arrays.items()):
        if a.dtype == jnp.bfloat16:
            arrays[k] = a.view(np.uint16)
            arrays[k + ".bf16"] = np.array(True)
    np.savez_compressed(os.path.join(OUT, name + ".npz"), **arrays)
    print("wrote", name)


def main():
    os.makedirs(OUT, exist_ok=True)
    x = rng.standard_normal((1, S, D)).astype(np.float32)
    save("swiglu_mlp", mlp, (x,))
    save("swiglu_mlp_bf16", lambda v: mlp(v, jnp.bfloat16),
         (jnp.asarray(x, jnp.bfloat16),))
    save("gqa_attention", attention, (x,), generic=True)
    save("gdn_input", gdn_input, (x,))
    cache = lambda: (0.5 * rng.standard_normal((1, H, T, DH))).astype(np.float32)
    save("decode_step", decode_step,
         (np.array([[7]], np.int32), np.int32(5), cache(), cache()))
    xs = rng.standard_normal((4, 8)).astype(np.float32)
    save("op_families", op_families,
         (xs, np.array([3, 0, 2], np.int32), np.int32(1),
          np.zeros((4, 6), np.float32)), generic=True)
    save("indexing", indexing,
         (rng.standard_normal((4, 8)).astype(np.float32),
          np.array([[1, 7], [0, 0], [5, 2], [3, 3]], np.int32),
          np.array([2, 0, 2], np.int32), np.int32(1),
          rng.standard_normal((2, 5, 8)).astype(np.float32),
          np.array([[4, 0, 1], [2, 2, 3]], np.int32)), generic=True)


if __name__ == "__main__":
    main()
