"""pack_bits / unpack_bits on every kernel set: bit order, dtypes, axes, errors."""
import numpy as np
import pytest

import pybnn

DTYPES = [np.float32, np.float64, np.int8, np.int32]


def numpy_pack(x):
    """Reference: bit i % 64 of word i // 64 is 1 where x < 0 (last axis)."""
    k = x.shape[-1]
    words = (k + 63) // 64
    bits = np.zeros(x.shape[:-1] + (words * 64,), dtype=np.uint64)
    bits[..., :k] = x < 0
    weights = np.uint64(1) << np.arange(64, dtype=np.uint64)
    return (bits.reshape(x.shape[:-1] + (words, 64)) * weights).sum(axis=-1, dtype=np.uint64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 95, 96, 97,
                               127, 128, 129, 191, 200, 255, 257, 1000])
def test_pack_matches_numpy(isa, rng, dtype, k):
    """Every tail length a kernel may split a row's last word into (8, 16, 32 lanes)."""
    x = (rng.standard_normal((7, k)) * 50).astype(dtype)
    np.testing.assert_array_equal(pybnn.pack_bits(x), numpy_pack(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_hot_sets_exactly_bit_i(isa, dtype):
    k = 130
    for i in (0, 1, 63, 64, 65, 129):
        x = np.ones(k, dtype=dtype)
        x[i] = -1
        packed = pybnn.pack_bits(x)
        expected = np.zeros(3, dtype=np.uint64)
        expected[i // 64] = np.uint64(1) << np.uint64(i % 64)
        np.testing.assert_array_equal(packed, expected)


def test_zero_and_negative_zero_are_plus_one(isa):
    x = np.array([0.0, -0.0, np.nan, -1e-30, 1e-30], dtype=np.float32)
    assert pybnn.pack_bits(x)[0] == 0b01000


def test_axis_argument_moves_the_packed_axis_last(rng):
    x = rng.standard_normal((3, 70, 5)).astype(np.float32)
    p = pybnn.pack_bits(x, axis=1)
    assert p.shape == (3, 5, 2)
    np.testing.assert_array_equal(p, numpy_pack(np.moveaxis(x, 1, -1)))
    back = pybnn.unpack_bits(p, 70, axis=1)
    assert back.shape == x.shape and back.dtype == np.int8
    np.testing.assert_array_equal(back, np.where(x < 0, -1, 1))


def test_unpack_roundtrip(isa, rng):
    x = np.where(rng.random((9, 333)) < 0.5, -1, 1).astype(np.int8)
    np.testing.assert_array_equal(pybnn.unpack_bits(pybnn.pack_bits(x), 333), x)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="expected dtype float32, float64, int8 or int32, got uint8"):
        pybnn.pack_bits(np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="out of range"):
        pybnn.pack_bits(np.zeros((2, 3), np.float32), axis=2)
    with pytest.raises(ValueError, match="length 0"):
        pybnn.pack_bits(np.zeros((2, 0), np.float32))
    with pytest.raises(ValueError, match="expected 2 words"):
        pybnn.unpack_bits(np.zeros((2, 1), np.uint64), 100)
    with pytest.raises(ValueError, match="uint64"):
        pybnn.unpack_bits(np.zeros((2, 2), np.int64), 100)
