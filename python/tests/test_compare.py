"""Unit tests of the output comparison (python/sinter/testing/compare.py)."""

import ml_dtypes
import numpy as np
import pytest

from sinter.testing import compare

BF16 = ml_dtypes.bfloat16


def test_equal_float32_passes():
    a = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    assert compare.compare(a, a.copy()) == []


def test_within_and_outside_float32_tolerance():
    e = np.array([1.0, 100.0, 0.0], np.float32)
    tol = compare.TOLERANCES[np.dtype(np.float32)]
    inside = e + np.array([0.5e-4, 0.5e-2, 0.5e-5], np.float32)
    assert compare.compare(e, inside) == []
    outside = e.copy()
    outside[2] = 3 * tol.atol
    problems = compare.compare(e, outside)
    assert len(problems) == 1 and "1 of 3 elements" in problems[0]
    assert "[2]" in problems[0]


def test_shape_mismatch_is_reported_even_when_broadcastable():
    problems = compare.compare(np.zeros((2, 3), np.float32), np.zeros((1, 3), np.float32))
    assert problems and "shape [1, 3] != expected [2, 3]" in problems[0]


def test_dtype_mismatch():
    problems = compare.compare(np.zeros(3, np.float32), np.zeros(3, np.float64))
    assert problems and "dtype" in problems[0]


def test_integers_are_exact():
    e = np.array([1, 2, 3], np.int64)
    assert compare.compare(e, e.copy()) == []
    problems = compare.compare(e, np.array([1, 2, 4], np.int64))
    assert problems and "exact" in problems[0] and "[2]" in problems[0]


def test_bool_is_exact():
    e = np.array([True, False])
    assert compare.compare(e, np.array([True, False])) == []
    assert compare.compare(e, np.array([True, True]))


def test_nan_positions_must_match():
    e = np.array([1.0, np.nan, 3.0], np.float32)
    assert compare.compare(e, e.copy()) == []
    assert compare.compare(e, np.array([1.0, 2.0, 3.0], np.float32))
    assert compare.compare(np.array([1.0, 2.0], np.float32),
                           np.array([1.0, np.nan], np.float32))


def test_infinities_must_match_with_sign():
    e = np.array([np.inf, -np.inf, 1.0], np.float32)
    assert compare.compare(e, e.copy()) == []
    assert compare.compare(e, np.array([-np.inf, -np.inf, 1.0], np.float32))
    assert compare.compare(e, np.array([3e38, -np.inf, 1.0], np.float32))
    assert compare.compare(np.array([1.0], np.float32), np.array([np.inf], np.float32))


def test_bfloat16_from_void_and_uint16():
    e = np.array([1.0, 2.5, -3.0], BF16)
    as_void = e.view("V2")
    as_u16 = e.view(np.uint16)
    assert compare.compare(e, as_void) == []
    assert compare.as_dtype(as_u16, BF16).dtype == np.dtype(BF16)
    off = np.array([1.0, 2.5, -3.5], BF16).view("V2")
    assert compare.compare(e, off)


def test_bfloat16_tolerance_allows_one_ulp():
    e = np.array([1.0], BF16)
    one_ulp = np.array([1.0078125], BF16)  # 1 + 2^-7
    assert compare.compare(e, one_ulp) == []
    assert compare.compare(e, np.array([1.0625], BF16))


def test_float16_tolerance():
    e = np.array([1.0], np.float16)
    assert compare.compare(e, np.array([1.0009765625], np.float16)) == []
    assert compare.compare(e, np.array([1.01], np.float16))


def test_explicit_tolerance_overrides_the_table():
    e = np.array([1.0], np.float32)
    a = np.array([1.01], np.float32)
    assert compare.compare(e, a)
    assert compare.compare(e, a, tol=compare.Tolerance(rtol=0.1, atol=0)) == []


def test_scalars_and_empty_tensors():
    assert compare.compare(np.float32(2.0), np.array(2.0, np.float32)) == []
    assert compare.compare(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32)) == []


def test_compare_all_missing_and_extra_outputs():
    e = {"y": np.zeros(2, np.float32), "z": np.zeros(2, np.float32)}
    a = {"y": np.zeros(2, np.float32), "w": np.zeros(2, np.float32)}
    problems = compare.compare_all(e, a)
    assert any("z: output missing" in p for p in problems)
    assert any("w: unexpected output" in p for p in problems)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, BF16])
def test_every_float_dtype_has_a_tolerance(dtype):
    assert compare.tolerance_for(dtype) is not None
    assert compare.is_float(dtype)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.bool_])
def test_exact_dtypes_have_no_tolerance(dtype):
    assert compare.tolerance_for(dtype) is None
    assert not compare.is_float(dtype)
