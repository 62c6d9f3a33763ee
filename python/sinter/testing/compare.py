"""Compares a computed tensor with an expected one, with a tolerance per dtype.

The rules (docs/conformance.md explains the choice of numbers):
  - shapes and dtypes must match exactly;
  - integers, bool and strings must be equal;
  - floating point: NaN where and only where the expected value is NaN, the
    same infinities, and |actual - expected| <= atol + rtol * |expected|
    elsewhere (numpy.isclose's rule), with rtol and atol from TOLERANCES.

bfloat16 is ml_dtypes.bfloat16. Sinter's executables write it as a 2-byte
void ('<V2'), and ONNX's older test data stores it as uint16; `as_dtype`
reinterprets both when the expected dtype is known.
"""

import dataclasses

import ml_dtypes
import numpy as np

BF16 = np.dtype(ml_dtypes.bfloat16)


@dataclasses.dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def __str__(self):
        return f"rtol={self.rtol:g} atol={self.atol:g}"


# Conformance tolerances: a few ulps of each type near 1 (see
# docs/conformance.md for why these and not ONNX's rtol=1e-3 atol=1e-7).
TOLERANCES = {
    np.dtype(np.float64): Tolerance(rtol=1e-7, atol=1e-10),
    np.dtype(np.float32): Tolerance(rtol=1e-4, atol=1e-5),
    np.dtype(np.float16): Tolerance(rtol=1e-3, atol=1e-3),
    BF16: Tolerance(rtol=1e-2, atol=1e-2),
}


def is_float(dtype):
    dtype = np.dtype(dtype)
    return dtype == BF16 or np.issubdtype(dtype, np.floating)


def tolerance_for(dtype, table=None):
    """The tolerance of a floating-point dtype; None for exact dtypes."""
    return (table or TOLERANCES).get(np.dtype(dtype))


def as_dtype(array, dtype):
    """`array` reinterpreted as `dtype` when it holds the same bits in another
    2-byte guise (bfloat16 as '<V2' or uint16); otherwise unchanged."""
    dtype = np.dtype(dtype)
    if dtype == BF16 and array.dtype != BF16 and array.dtype.itemsize == 2 \
            and array.dtype.kind in "Vu":
        return array.view(BF16)
    return array


def _fmt_index(flat, shape):
    if not shape:
        return "[]"
    return "[" + ",".join(str(i) for i in np.unravel_index(flat, shape)) + "]"


def compare(expected, actual, name="output", tol=None, table=None):
    """Problems found comparing `actual` with `expected`, as a list of one-line
    messages; empty when they match. `tol` overrides the dtype's tolerance."""
    expected = np.asarray(expected)
    actual = as_dtype(np.asarray(actual), expected.dtype)
    if actual.dtype != expected.dtype:
        return [f"{name}: dtype {actual.dtype} != expected {expected.dtype}"]
    if actual.shape != expected.shape:
        return [f"{name}: shape {list(actual.shape)} != expected "
                f"{list(expected.shape)}"]
    if not is_float(expected.dtype):
        if expected.dtype.kind in "OSU":
            bad = np.array([a != e for a, e in zip(actual.ravel(), expected.ravel())],
                           dtype=bool)
        else:
            bad = (actual != expected).ravel()
        if not bad.any():
            return []
        i = int(np.flatnonzero(bad)[0])
        return [f"{name}: {int(bad.sum())} of {bad.size} elements differ (exact "
                f"dtype {expected.dtype}); first at {_fmt_index(i, expected.shape)}: "
                f"expected {expected.ravel()[i]!r}, got {actual.ravel()[i]!r}"]

    tol = tol or tolerance_for(expected.dtype, table)
    e = expected.astype(np.float64).ravel()
    a = actual.astype(np.float64).ravel()
    problems = []
    e_nan, a_nan = np.isnan(e), np.isnan(a)
    if (e_nan != a_nan).any():
        i = int(np.flatnonzero(e_nan != a_nan)[0])
        problems.append(f"{name}: NaN positions differ ({int(e_nan.sum())} expected, "
                        f"{int(a_nan.sum())} computed); first at "
                        f"{_fmt_index(i, expected.shape)}: expected {e[i]!r}, got {a[i]!r}")
    e_inf = np.isinf(e)
    inf_bad = (e_inf | np.isinf(a)) & ~(e_nan | a_nan) & (e != a)
    finite = ~(e_nan | a_nan | e_inf | np.isinf(a))
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(finite, np.abs(a - e), 0.0)
        bad = inf_bad | (finite & (err > tol.atol + tol.rtol * np.abs(e)))
    if bad.any():
        idx = np.flatnonzero(bad)
        worst = int(idx[np.argmax(np.where(inf_bad[idx], np.inf, err[idx]))])
        problems.append(
            f"{name}: {idx.size} of {e.size} elements out of tolerance ({tol}, "
            f"{expected.dtype}); worst at {_fmt_index(worst, expected.shape)}: expected "
            f"{e[worst]!r}, got {a[worst]!r} (abs err {abs(a[worst] - e[worst]):.3g})")
    return problems


def compare_all(expected, actual, table=None):
    """Compares dicts name -> array; a missing or extra output is a problem."""
    problems = []
    for name, exp in expected.items():
        if name not in actual:
            problems.append(f"{name}: output missing")
            continue
        problems += compare(exp, actual[name], name=name, table=table)
    for name in actual:
        if name not in expected:
            problems.append(f"{name}: unexpected output")
    return problems
