"""Bit packing and the binary matrix product: the public kernel API.

Conventions (src/bitpack.h): element i is bit i % 64 of word i // 64, -1 is
bit 1, +1 (and 0) is bit 0, rows padded with 0 bits.
"""
import os
import warnings

import numpy as np

from . import _core
from ._core import PreparedB

PACKABLE_DTYPES = (np.float32, np.float64, np.int8, np.int32)
KNOWN_CPU_FEATURES = ("avx512vnni", "avx512", "avxvnni", "avx2", "neondot", "neon")


def pack_bits(x, axis=-1):
    """Pack the signs of ``x`` along ``axis`` into uint64 words.

    Returns a uint64 array with the packed axis moved last, holding
    ceil(K / 64) words (K = x.shape[axis]); bit 1 where x < 0.
    Accepts float32, float64, int8 and int32.

    >>> pack_bits(np.array([1.0, -1.0, -2.0], dtype=np.float32))
    array([6], dtype=uint64)
    """
    x = np.asarray(x)
    if x.dtype not in PACKABLE_DTYPES:
        raise ValueError(f"pack_bits: expected dtype float32, float64, int8 or int32, got {x.dtype}")
    if x.ndim == 0:
        raise ValueError("pack_bits: expected an array with at least 1 dimension, got a scalar")
    axis = _normalise_axis(axis, x.ndim, "pack_bits")
    moved = x if axis == x.ndim - 1 else np.moveaxis(x, axis, -1)  # moveaxis costs 3 us
    lead, k = moved.shape[:-1], moved.shape[-1]
    if k == 0:
        raise ValueError(f"pack_bits: the packed axis {axis} has length 0")
    rows = np.ascontiguousarray(moved).reshape(-1, k)
    return _core.pack_rows(rows).reshape(*lead, (k + 63) // 64)


def unpack_bits(p, k, axis=-1):
    """Inverse of :func:`pack_bits`: int8 array of +-1 with ``k`` values along ``axis``.

    ``p`` holds words along its last axis; the unpacked values are placed at
    ``axis`` of the result.
    """
    if not isinstance(p, np.ndarray) or p.dtype != np.uint64:
        got = p.dtype if isinstance(p, np.ndarray) else type(p).__name__
        raise ValueError(f"unpack_bits: expected a uint64 numpy array, got {got}")
    if p.ndim == 0:
        raise ValueError("unpack_bits: expected an array with at least 1 dimension, got a scalar")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"unpack_bits: k must be a positive int, got {k!r}")
    words = (int(k) + 63) // 64
    if p.shape[-1] != words:
        raise ValueError(f"unpack_bits: expected {words} words on the last axis for k={k}, "
                         f"got {p.shape[-1]}")
    lead = p.shape[:-1]
    rows = np.ascontiguousarray(p).reshape(-1, words)
    out = _core.unpack_rows(rows, int(k)).reshape(*lead, int(k))
    axis = _normalise_axis(axis, out.ndim, "unpack_bits")
    return out if axis == out.ndim - 1 else np.moveaxis(out, -1, axis)


def bgemm(a, b, k=None, threads=None, out=None):
    """Binary matrix product of packed rows: int32 (M, N).

    C[i, j] = sum_t A[i, t] * B[j, t] in +-1 arithmetic = k - 2 popcount(a_i ^ b_j),
    for ``a`` (M, W) and ``b`` (N, W) uint64, W = ceil(k / 64), C-contiguous.
    ``b`` may also be a :class:`PreparedB` (from :func:`prepare_b`), which
    knows its k. ``threads``: None for every core this process may use. The
    result does not depend on the thread count. ``out``: an int32 (M, N)
    C-contiguous array to write C into (and return), for callers that reuse
    one; by default a new array. The GIL is released while it runs.

    >>> a = pack_bits(np.array([[1, -1, 1]], dtype=np.int8))
    >>> b = pack_bits(np.array([[1, 1, 1], [1, -1, 1]], dtype=np.int8))
    >>> bgemm(a, b, 3)
    array([[1, 3]], dtype=int32)
    """
    if k is None and not isinstance(b, PreparedB):
        raise ValueError("k: expected a positive int (the number of bits), got None "
                         "(only a PreparedB b knows its k)")
    return _core.bgemm(a, b, k, threads, out)


def prepare_b(b, k):
    """``b`` (N, W) packed rows of ``k`` bits, prepared once for many :func:`bgemm` calls.

    For a B used again and again (a layer's weights against a stream of
    inputs): the result holds a copy of B laid out for the kernels of this
    CPU, so each ``bgemm(a, prepared)`` skips laying B out per call. Most
    worth it for few rows of A (batch-1 inference) and short rows (K up to a
    few thousand bits): up to 2x on AVX-512 (1.3-1.9x for one row at K =
    576-2304, 2x for 8 rows at K = 576); elsewhere it runs as fast as
    ``bgemm(a, b, k)``. Results are always identical to it.

    >>> w = prepare_b(pack_bits(np.ones((2, 3), dtype=np.int8)), 3)
    >>> w
    PreparedB(n=2, k=3)
    >>> bgemm(pack_bits(np.array([[1, -1, 1]], dtype=np.int8)), w)
    array([[1, 1]], dtype=int32)
    """
    return PreparedB(b, k)


def kernel_info():
    """Which kernels run here: ``isa`` in use, ``available`` (best first), ``threads``."""
    return {
        "isa": _core.isa(),
        "available": _core.available_isas(),
        "threads": _core.default_threads(),
        "disabled": disabled_cpu_features(),
    }


def disabled_cpu_features():
    """The names in PYBNN_DISABLE_CPU_FEATURES (the C library reads the same variable)."""
    raw = os.environ.get("PYBNN_DISABLE_CPU_FEATURES", "")
    return [n.strip().lower() for n in raw.replace(" ", ",").split(",") if n.strip()]


def _warn_unknown_features():
    unknown = [n for n in disabled_cpu_features() if n not in KNOWN_CPU_FEATURES]
    if unknown:
        warnings.warn(f"PYBNN_DISABLE_CPU_FEATURES: unknown name(s) {unknown}; "
                      f"expected some of {list(KNOWN_CPU_FEATURES)}", RuntimeWarning, stacklevel=3)


def _normalise_axis(axis, ndim, where):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"{where}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{where}: axis {axis} is out of range for {ndim} dimension(s)")
    return int(axis) % ndim
