"""Packed rows in NumPy alone, for the format layer (which must not need the
compiled core). Same conventions as src/common/bitpack.h: element i of a row
is bit i % 64 of little-endian word i // 64, -1 (any x < 0) is bit 1, +1 is
bit 0, rows padded with 0 bits. pybnn.pack_bits is the fast public twin."""
import numpy as np


def pack_rows(x):
    """Rows (..., K) of signed values -> uint64 words (..., ceil(K/64))."""
    x = np.asarray(x)
    k = x.shape[-1]
    words = (k + 63) // 64
    bits = np.zeros(x.shape[:-1] + (words * 64,), dtype=np.uint8)
    bits[..., :k] = x < 0
    packed = np.packbits(bits, axis=-1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64)


def unpack_rows(p, k):
    """uint64 words (..., ceil(K/64)) -> int8 (..., K) of +-1."""
    p = np.ascontiguousarray(np.asarray(p, dtype="<u8"))
    bits = np.unpackbits(p.view(np.uint8), axis=-1, bitorder="little")[..., :k]
    return (1 - 2 * bits.astype(np.int8)).astype(np.int8)
